"""Pulumi's project config types (`string`, `integer`, `boolean`, `array`) as the CLI checks and passes them.

Shared by preflight's stack loader (values as YAML parsed them) and a program's settings (values as the
strings the CLI hands to the program), so both agree on one rule per type. A leaf: the standard library
only, so a program can import it without pulling in the rest of preflight.

The rules are the CLI's: `ValidateConfigValue` in pulumi's sdk/go/common/workspace/project.go reads a stack
file's scalars as strings, so `integer` takes `512` and `"512"`, `boolean` takes `true` and `"true"`,
`string` takes any scalar and `array` needs a list whose items match `items`. The program then receives
every value as a string: scalars as Go's `%v` prints them, lists and maps as JSON (PULUMI_CONFIG).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

TYPES = ("string", "integer", "boolean", "array")
EXPECTED = {"string": "a string", "integer": "an integer", "boolean": "true or false", "array": "a list"}


class ConfigTypeError(ValueError):
    """A value is not of its declared type; the message says what was expected."""


def type_name(kind: str, items: Mapping[str, Any] | None = None) -> str:
    """`array<string>` style names, as the CLI prints them."""
    if kind == "array" and isinstance(items, Mapping):
        return f"array<{type_name(str(items.get('type')), items.get('items'))}>"
    return kind


def expected(kind: str, items: Mapping[str, Any] | None = None) -> str:
    """What a value of this type looks like, for messages: `a list of strings`."""
    if kind == "array" and isinstance(items, Mapping):
        inner = EXPECTED.get(str(items.get("type")), "values")
        return "a list of " + {"a string": "strings", "an integer": "integers", "true or false": "booleans"}.get(
            inner, "lists"
        )
    return EXPECTED.get(kind, kind)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _integer_text(text: str) -> int | None:
    # Go's strconv.Atoi: an optional sign and ASCII digits, no spaces, no underscores.
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    return int(text, 10)


def type_matches(kind: str, items: Mapping[str, Any] | None, value: Any) -> bool:
    """Whether `value` (as YAML parsed it) passes the CLI's check for a key declared `kind`."""
    if kind == "string":
        return _is_scalar(value)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, str) and _integer_text(value) is not None
    if kind == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if kind == "array":
        if not isinstance(value, list) or not isinstance(items, Mapping):
            return False
        return all(type_matches(str(items.get("type")), items.get("items"), item) for item in value)
    return False


def to_cli_string(value: Any) -> str:
    """A YAML value as the string the program receives."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def from_cli_string(kind: str, items: Mapping[str, Any] | None, text: str) -> Any:
    """The string a program receives for a key declared `kind`, as a typed value; ConfigTypeError if not."""
    try:
        if kind == "integer":
            value = _integer_text(text)
            if value is None:
                raise ValueError(text)
            return value
        if kind == "boolean":
            if text not in ("true", "false"):
                raise ValueError(text)
            return text == "true"
        if kind == "array":
            value = json.loads(text)
            if not type_matches("array", items, value):
                raise ValueError(text)
            return value
    except ValueError:
        raise ConfigTypeError(f"expected {expected(kind, items)}") from None
    return text
