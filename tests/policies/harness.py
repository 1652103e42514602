"""Run the registered rules the way pulumi-policy's servicer does, without a server.

Properties are wrapped in pulumi-policy's own unknown-checking proxy, policies are called through their
public `validate`, and UnknownValueError / not-applicable are caught exactly where the servicer catches
them, so what a test sees is what the engine would get.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from guardrails.registry import ALL_RULES
from guardrails.sdk import UNKNOWN_STRING_VALUE, NotApplicable, UnknownValueError, unknown_checking_proxy

UNKNOWN = UNKNOWN_STRING_VALUE
STACK = "urn:pulumi:dev::shipshape::"


def urn_for(resource_type: str, name: str) -> str:
    return f"{STACK}{resource_type}::{name}"


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


@dataclass
class Verdict:
    """What every rule said about one resource or one stack."""

    messages: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    cannot_judge: dict[str, str] = field(default_factory=dict)
    not_applicable: dict[str, str] = field(default_factory=dict)

    @property
    def fired(self) -> set[str]:
        return set(self.messages)

    def text(self, rule: str) -> str:
        return "\n".join(message for message, _ in self.messages.get(rule, []))


def _record(verdict: Verdict, name: str):
    def report(message: str, urn: str | None = None) -> None:
        verdict.messages.setdefault(name, []).append((message, urn))

    return report


def _validate(policy: Any, args: Any, verdict: Verdict) -> None:
    """Run one policy as pulumi-policy does and put its outcome in the verdict: violations, an unknown value
    it cannot judge, or not applicable."""
    try:
        policy.validate(args, _record(verdict, policy.name))
    except UnknownValueError as error:
        verdict.cannot_judge[policy.name] = error.message
    except NotApplicable as error:
        verdict.not_applicable[policy.name] = error.reason or ""


def judge(
    resource_type: str,
    props: Mapping[str, Any],
    *,
    name: str = "subject",
    config: Mapping[str, Mapping[str, Any]] | None = None,
) -> Verdict:
    """Every registered resource rule over one resource."""
    verdict = Verdict()
    for rule in ALL_RULES:
        policy = rule.policy
        if not isinstance(policy, ResourceValidationPolicy) or not policy.has_validation():
            continue
        args = ResourceValidationArgs(
            resource_type,
            unknown_checking_proxy(copy.deepcopy(dict(props))),
            urn_for(resource_type, name),
            name,
            options(),
            None,
            (config or {}).get(policy.name),
        )
        _validate(policy, args, verdict)
    return verdict


@dataclass(frozen=True)
class Spec:
    """One resource of a stack fixture; dependencies name other specs by name."""

    type: str
    name: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    dependencies: tuple[str, ...] = ()


def judge_stack(specs: Iterable[Spec], *, config: Mapping[str, Mapping[str, Any]] | None = None) -> Verdict:
    """Every registered stack rule over a stack."""
    specs = list(specs)
    urns = {spec.name: urn_for(spec.type, spec.name) for spec in specs}
    verdict = Verdict()
    for rule in ALL_RULES:
        policy = rule.policy
        if not isinstance(policy, StackValidationPolicy):
            continue
        resources = {
            spec.name: PolicyResource(
                spec.type,
                unknown_checking_proxy(copy.deepcopy(dict(spec.props))),
                urns[spec.name],
                spec.name,
                options(),
                None,
                None,
                [],
                {},
            )
            for spec in specs
        }
        for spec in specs:
            # As pulumi-policy's AnalyzeStack builds them: dependencies on resources of the stack.
            resources[spec.name].dependencies = [resources[name] for name in spec.dependencies if name in resources]
            resources[spec.name].property_dependencies = {
                key: [resources[dependency] for dependency in names]
                for key, names in spec.property_dependencies.items()
            }
        args = StackValidationArgs(list(resources.values()), (config or {}).get(policy.name))
        _validate(policy, args, verdict)
    return verdict


def changed(base: Mapping[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `base` with one value replaced (or removed when value is DELETE)."""
    result = copy.deepcopy(dict(base))
    target: Any = result
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()


def document(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
