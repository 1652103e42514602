"""What one run of a rule found, bounded, and the options a rule takes (with exemptions by URN pattern).

Findings are bounded: a message is at most MAX_MESSAGE characters (values are quoted through
`values.shown`), the same message is reported once, and a rule reports at most MAX_FINDINGS findings
per resource (then one saying how many more there were).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guardrails.values import CANNOT_JUDGE_YET, Unknown, as_int, find_unknowns

MAX_MESSAGE = 600
MAX_FINDINGS = 10
MAX_UNKNOWN_PATHS = 5


@dataclass(frozen=True)
class Option:
    """One config option of a rule: its JSON schema, default and meaning."""

    name: str
    schema: Mapping[str, Any]
    default: Any
    description: str

    def json_schema(self) -> dict[str, Any]:
        return {**self.schema, "description": self.description, "default": self.default}


EXEMPTIONS = Option(
    name="exemptions",
    schema={"type": "array", "items": {"type": "string", "minLength": 1}},
    default=[],
    description="URN glob patterns (fnmatch) of resources this rule does not judge.",
)


def port_list_option(name: str, default: list[int], description: str) -> Option:
    return Option(
        name=name,
        schema={"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 65535}},
        default=default,
        description=description,
    )


def string_list_option(name: str, default: list[str], description: str) -> Option:
    return Option(
        name=name,
        schema={"type": "array", "items": {"type": "string", "minLength": 1}},
        default=default,
        description=description,
    )


def read_option(option: Option, value: Any) -> tuple[Any, str | None]:
    """The option's value coerced to its schema's shape, or its default and a problem naming it."""
    item_type = option.schema.get("items", {}).get("type")
    if option.schema.get("type") == "array" and isinstance(value, list):
        if item_type == "integer":
            numbers = [as_int(item) for item in value]
            low = option.schema["items"].get("minimum", float("-inf"))
            high = option.schema["items"].get("maximum", float("inf"))
            if all(number is not None and low <= number <= high for number in numbers):
                return numbers, None
        elif item_type == "string" and all(isinstance(item, str) and item for item in value):
            return list(value), None
    expected = f"a list of {item_type}s" if item_type else option.schema.get("type")
    return option.default, f"config option '{option.name}' must be {expected}; got {value!r}, using the default"


@dataclass
class Findings:
    """What one run of a rule found: violations (message, optional URN) and values not known yet."""

    exemptions: Sequence[str] = ()
    violations: list[tuple[str, str | None]] = field(default_factory=list)
    unknown_paths: list[str] = field(default_factory=list)
    dropped: dict[str | None, int] = field(default_factory=dict)
    _seen: set[tuple[str, str | None]] = field(default_factory=set, repr=False)
    _per_urn: dict[str | None, int] = field(default_factory=dict, repr=False)

    def violation(self, message: str, urn: str | None = None) -> None:
        if urn is not None and exempted_by(urn, self.exemptions):
            return
        if len(message) > MAX_MESSAGE:
            message = f"{message[: MAX_MESSAGE - 40]}... ({len(message) - MAX_MESSAGE + 40} more characters)"
        if (message, urn) in self._seen:
            return
        self._seen.add((message, urn))
        if self._per_urn.get(urn, 0) >= MAX_FINDINGS:
            self.dropped[urn] = self.dropped.get(urn, 0) + 1
            return
        self._per_urn[urn] = self._per_urn.get(urn, 0) + 1
        self.violations.append((message, urn))

    def unknown(self, value: Any, urn: str | None = None) -> bool:
        """True (and noted) when the value itself is not known yet; the caller then stops judging it."""
        return self.unknown_any(value, urn=urn)

    def unknown_any(self, *values: Any, urn: str | None = None) -> bool:
        """True (and every one noted) when any of the values is itself not known yet."""
        found = [value for value in values if isinstance(value, Unknown)]
        self._note(found, urn)
        return bool(found)

    def unknown_inside(self, value: Any, urn: str | None = None) -> bool:
        """True (and every one noted) when anything nested in the value is not known yet."""
        found = find_unknowns(value)
        self._note(found, urn)
        return bool(found)

    def _note(self, found: list[Unknown], urn: str | None) -> None:
        if urn is not None and exempted_by(urn, self.exemptions):
            return
        for item in found:
            label = item.path if urn is None else f"{item.path} of {urn}"
            if label not in self.unknown_paths:
                self.unknown_paths.append(label)

    def messages(self) -> list[tuple[str, str | None]]:
        """The violations to report, with one more per resource saying how many were left out."""
        extra = [
            (f"... and {count} more finding(s) of this rule; fix the ones above and preview again.", urn)
            for urn, count in self.dropped.items()
        ]
        return self.violations + extra

    def cannot_judge_message(self) -> str:
        paths = self.unknown_paths[:MAX_UNKNOWN_PATHS]
        more = len(self.unknown_paths) - len(paths)
        listed = ", ".join(paths) + (f" and {more} more" if more > 0 else "")
        return f"{CANNOT_JUDGE_YET}: {listed} unknown during preview"


def exempted_by(urn: str, patterns: Sequence[str]) -> str | None:
    """The first exemption pattern matching the URN, if any."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(urn, pattern):
            return pattern
    return None
