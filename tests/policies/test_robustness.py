"""No input crashes a rule: every value of every fixture replaced by every odd shape the engine could send.

The framework turns a shape error into a finding rather than a crash; these tests also prove no rule
needs that safety net, by failing on its message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from guardrails.registry import ALL_RULES
from tests.policies.fixtures import COMPLIANT, PUBLIC_REPOSITORY
from tests.policies.harness import UNKNOWN, Spec, changed, judge, judge_stack

ODD_VALUES = [None, "", "x", -1, 1.5, True, [], {}, [None], [{}], {"a": [None]}, "null", "[1]", UNKNOWN]
SAFETY_NET = "could not evaluate"


def paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path into a fixture, including into JSON strings' top level."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from paths(item, (*prefix, index))


def assert_no_crash_finding(verdict) -> None:
    for rule, messages in verdict.messages.items():
        for message, _ in messages:
            assert SAFETY_NET not in message, f"{rule} needed the safety net: {message}"


@pytest.mark.parametrize("resource_type", sorted(COMPLIANT))
def test_odd_values_anywhere_never_crash(resource_type: str) -> None:
    fixture = COMPLIANT[resource_type]
    for path in list(paths(fixture)):
        for odd in ODD_VALUES:
            assert_no_crash_finding(judge(resource_type, changed(fixture, path, odd)))


@pytest.mark.parametrize("resource_type", sorted(COMPLIANT))
def test_odd_values_inside_json_documents_never_crash(resource_type: str) -> None:
    fixture = COMPLIANT[resource_type]
    for key, value in fixture.items():
        if not isinstance(value, str) or not value.startswith(("{", "[")):
            continue
        parsed = json.loads(value)
        for path in list(paths(parsed)):
            for odd in ODD_VALUES:
                text = json.dumps(changed({"root": parsed}, ("root", *path), odd)["root"])
                assert_no_crash_finding(judge(resource_type, changed(fixture, (key,), text)))


def test_types_with_no_compliant_fixture_never_crash() -> None:
    for rule in ALL_RULES:
        for resource_type in rule.resource_types:
            for odd in ODD_VALUES:
                assert_no_crash_finding(judge(resource_type, {"anything": odd}))
    assert judge(PUBLIC_REPOSITORY, {}).fired == {"aws-ecr-no-public-repositories"}


def test_stack_rules_survive_odd_values() -> None:
    for resource_type, fixture in COMPLIANT.items():
        for key in fixture:
            for odd in ODD_VALUES:
                specs = [
                    Spec(resource_type, "odd", changed(fixture, (key,), odd), {key: ("other",)}),
                    Spec(resource_type, "other", fixture),
                    Spec("aws:lb/loadBalancer:LoadBalancer", "alb", {"securityGroups": odd}),
                    Spec("aws:lb/targetGroup:TargetGroup", "tg", {"port": odd}),
                ]
                assert_no_crash_finding(judge_stack(specs))
