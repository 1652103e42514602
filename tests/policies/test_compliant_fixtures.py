"""The starting point of every case: one compliant resource per engine type passes every rule."""

from __future__ import annotations

import pytest

from guardrails.registry import ALL_RULES
from tests.policies.fixtures import COMPLIANT, HTTPS_LISTENER, LISTENER
from tests.policies.harness import judge

FIXTURES = [*COMPLIANT.items(), (LISTENER, HTTPS_LISTENER)]


@pytest.mark.parametrize(("resource_type", "props"), FIXTURES, ids=[f"{t}#{i}" for i, (t, _) in enumerate(FIXTURES)])
def test_compliant_fixture_passes_every_rule(resource_type: str, props: dict) -> None:
    verdict = judge(resource_type, props)
    assert verdict.fired == set(), {rule: verdict.text(rule) for rule in verdict.fired}
    assert verdict.cannot_judge == {}


@pytest.mark.parametrize("resource_type", sorted(COMPLIANT))
def test_every_fixture_type_is_judged_by_some_rule(resource_type: str) -> None:
    assert any(resource_type in rule.resource_types for rule in ALL_RULES)


def test_every_judged_type_has_a_fixture_or_is_never_compliant() -> None:
    judged = {resource_type for rule in ALL_RULES for resource_type in rule.resource_types}
    never_compliant = {"aws:ecrpublic/repository:Repository"}
    assert judged - set(COMPLIANT) == never_compliant
