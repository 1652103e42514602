"""The plumbing of validation: a rule is `rule(value) -> str | None`, and Args raise ArgsError naming the field.

A rule returns None when the value is acceptable, otherwise what is allowed, worded to follow
"<name> = <value>: ". components.aws_limits builds AWS's limits from these combinators. A leaf module:
the standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Rule = Callable[[Any], "str | None"]


class ArgsError(ValueError):
    """An Args field holds a value AWS would refuse; `owner.field = value: reason`."""

    def __init__(self, owner: str, field: str, value: Any, reason: str) -> None:
        self.owner, self.field, self.value, self.reason = owner, field, value, reason
        super().__init__(f"{owner}.{field} = {value!r}: {reason}")


def is_plain(value: Any) -> bool:
    """Whether `value` is known now (no Output or other awaitable anywhere inside it)."""
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, Mapping):
        return all(is_plain(item) for item in value.values())
    if isinstance(value, list | tuple):
        return all(is_plain(item) for item in value)
    return False


def check(owner: str, field: str, value: Any, rule: Rule) -> None:
    """Raise ArgsError when a plain `value` breaks `rule`; values not known yet (Outputs) are skipped."""
    if value is None or not is_plain(value):
        return
    reason = rule(value)
    if reason is not None:
        raise ArgsError(owner, field, value, reason)


def check_fields(args: object, rules: Mapping[str, Rule]) -> None:
    """`check` each named field of an Args object with its rule, in order; the first failure raises."""
    owner = type(args).__name__
    for field, rule in rules.items():
        check(owner, field, getattr(args, field), rule)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def between(low: int, high: int, why: str = "") -> Rule:
    """An integer from low to high (inclusive)."""

    def rule(value: Any) -> str | None:
        if not is_int(value) or not low <= value <= high:
            return f"must be {low} to {high}{why}"
        return None

    return rule


def one_of(allowed: Iterable[Any]) -> Rule:
    choices = tuple(allowed)

    def rule(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(map(str, choices))}"

    return rule


def matches(pattern: re.Pattern[str], what: str) -> Rule:
    """A string the whole of which matches `pattern` (ASCII only); `what` describes it with an example."""

    def rule(value: Any) -> str | None:
        return None if isinstance(value, str) and pattern.fullmatch(value) else f"not {what}"

    return rule


def at_least(low: int, name: str) -> Rule:
    """An integer not below `low`, the value of the field or key `name`."""

    def rule(value: Any) -> str | None:
        if not is_int(value) or value < low:
            return f"must be at least {name} ({low})"
        return None

    return rule


def optional(rule: Rule) -> Rule:
    """`rule`, or nothing at all (None)."""
    return lambda value: None if value is None else rule(value)


def each(rule: Rule) -> Rule:
    """Every item of a list follows `rule`; the reason names each bad item."""

    def check_items(value: Any) -> str | None:
        reasons = [f"{item!r}: {reason}" for item in value if (reason := rule(item)) is not None]
        return "; ".join(reasons) or None

    return check_items


def pairs(items: Iterable[Any]) -> tuple[dict[str, str], str | None]:
    """`NAME=value` strings as a mapping, or the reason they are not."""
    found: dict[str, str] = {}
    for item in items:
        name, sep, value = str(item).partition("=")
        if not sep or not name:
            return {}, f"{item!r} is not NAME=value"
        if name in found:
            return {}, f"{name} is given twice"
        found[name] = value
    return found, None
