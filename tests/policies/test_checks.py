"""The declarative "property must be X" helper: judging, preconditions, unknowns, fixes and bounded quotes."""

from __future__ import annotations

from guardrails.checks import Expect, Expectations, is_true, one_of
from guardrails.framework import Findings, Resource
from guardrails.values import Unknown, plain
from tests.policies.harness import UNKNOWN

FLAG = Expectations(
    Expect("settings.flag", is_true, "the flag protects us", unset="not set (false)", fix=True),
    when=Expect("kind", one_of(None, "application")),
)


def resource(props: dict) -> Resource:
    return Resource(type="t:m:T", urn="urn:t", name="n", props=plain(props))


def judged(props: dict) -> Findings:
    findings = Findings()
    FLAG(resource(props), findings)
    return findings


def test_accepted_value_passes() -> None:
    assert judged({"settings": {"flag": True}}).violations == []


def test_unset_value_is_described_and_explained() -> None:
    assert judged({}).violations == [("settings.flag is not set (false); the flag protects us.", None)]


def test_precondition_skips_resources_it_does_not_accept() -> None:
    assert judged({"kind": "network"}).violations == []


def test_unknown_precondition_or_value_is_noted_not_judged() -> None:
    for props in ({"kind": UNKNOWN}, {"settings": {"flag": UNKNOWN}}):
        findings = judged(props)
        assert findings.violations == [] and findings.unknown_paths


def test_long_values_are_quoted_bounded() -> None:
    [(message, _)] = judged({"settings": {"flag": "x" * 10_000}}).violations
    assert len(message) < 200 and "more characters" in message


def test_fix_writes_the_value_through_missing_parents_and_keeps_the_rest() -> None:
    fixed = FLAG.remediate(resource({"other": UNKNOWN}))
    assert fixed == {"other": UNKNOWN, "settings": {"flag": True}}


def test_fix_leaves_accepted_unknown_and_other_resources_alone() -> None:
    assert FLAG.remediate(resource({"settings": {"flag": True}})) is None
    assert FLAG.remediate(resource({"settings": {"flag": UNKNOWN}})) is None
    assert FLAG.remediate(resource({"kind": "network"})) is None


def test_nested_objects_are_judged_with_their_label() -> None:
    findings = Findings()
    Expectations(Expect("readonly", is_true)).judge({"readonly": False}, findings, "container 'web' ")
    assert findings.violations == [("container 'web' readonly is False.", None)]
    assert isinstance(plain({"a": UNKNOWN})["a"], Unknown)
