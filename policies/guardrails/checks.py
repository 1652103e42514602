"""Declarative checks for the common case: "this property must be X" (and the fix that makes it so).

    DELETION_PROTECTION = Expectations(
        Expect("enableDeletionProtection", is_true, "one mistaken change could delete the entry point"),
    )

An `Expectations` is a rule check (`check(resource, findings)`), can judge a nested object such as one
container (`judge(values, findings, where)`), and, when its expectations carry a `fix`, is a remediation
that writes that value. A `when` expectation limits it to resources it accepts (an application load
balancer, a launch template with network interfaces, ...). Unknown values are noted, never judged.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from guardrails.framework import Findings, Resource
from guardrails.values import Unknown, as_bool, dig, raw, shown

NO_FIX = object()


def is_true(value: Any) -> bool:
    """true, or "true" as launch templates send it."""
    return as_bool(value) is True


def is_not_true(value: Any) -> bool:
    """Anything but true (unset counts as false)."""
    return as_bool(value) is not True


def is_blank(value: Any) -> bool:
    return value is None or value == ""


def one_of(*allowed: Any) -> Callable[[Any], bool]:
    def accepts(value: Any) -> bool:
        return value in allowed

    accepts.__doc__ = f"one of {', '.join(map(repr, allowed))}"
    return accepts


@dataclass(frozen=True)
class Expect:
    """One property (a dotted engine path) and what makes its value acceptable."""

    path: str
    accepts: Callable[[Any], bool]
    problem: str = ""
    unset: str = "not set"
    fix: Any = NO_FIX

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    def value(self, values: Any) -> Any:
        return dig(values, *self.keys)

    def describe(self, value: Any) -> str:
        if value is None:
            return self.unset
        return value if isinstance(value, str) and len(value) <= 60 else shown(value)


class Expectations:
    """Expectations on one object: a rule check, a judge for nested objects, and a remediation."""

    def __init__(self, *expectations: Expect, when: Expect | None = None) -> None:
        self.expectations = expectations
        self.when = when

    def applies(self, values: Any, findings: Findings | None = None) -> bool:
        if self.when is None:
            return True
        value = self.when.value(values)
        if isinstance(value, Unknown):
            if findings is not None:
                findings.unknown(value)
            return False
        return self.when.accepts(value)

    def judge(self, values: Any, findings: Findings, where: str = "") -> None:
        if not self.applies(values, findings):
            return
        for expectation in self.expectations:
            value = expectation.value(values)
            if findings.unknown(value) or expectation.accepts(value):
                continue
            problem = f"; {expectation.problem}" if expectation.problem else ""
            findings.violation(f"{where}{expectation.path} is {expectation.describe(value)}{problem}.")

    def __call__(self, resource: Resource, findings: Findings) -> None:
        self.judge(resource.props, findings)

    def remediate(self, resource: Resource) -> dict[str, Any] | None:
        """The properties with every fixable expectation's value written; None when nothing needs fixing."""
        if not self.applies(resource.props):
            return None
        props = copy.deepcopy(resource.props)
        changed = False
        for expectation in self.expectations:
            value = expectation.value(props)
            if expectation.fix is NO_FIX or isinstance(value, Unknown) or expectation.accepts(value):
                continue
            target = props
            for key in expectation.keys[:-1]:
                if not isinstance(target.get(key), dict):
                    target[key] = {}
                target = target[key]
            target[expectation.keys[-1]] = expectation.fix
            changed = True
        return raw(props) if changed else None
