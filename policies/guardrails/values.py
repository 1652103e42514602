"""Engine property values as plain Python, with values unknown during a preview made explicit.

pulumi-policy hands rules a proxy that raises on any access to an unknown value, which would end a
rule at the first unknown it touches. Rules here instead see plain dicts and lists in which every
unknown is an `Unknown` carrying its property path, so a rule can judge the known parts, still
report a value known to be wrong, and say precisely what it could not judge yet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Secret

from guardrails.sdk import UNKNOWN_SENTINELS, UNKNOWN_STRING_VALUE, UnknownValueError

CANNOT_JUDGE_YET = "cannot judge yet"
"""How every finding about a value unknown during preview begins; preflight recognises it by this text."""

MAX_SHOWN = 80
"""How many characters of a value a finding echoes at most."""


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """A value as a finding quotes it: repr, cut to `limit` characters with what was left out counted."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


@dataclass(frozen=True)
class Unknown:
    """A value the engine does not know yet (a preview of a resource that depends on outputs)."""

    path: str
    sentinel: str = UNKNOWN_STRING_VALUE


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def plain(value: Any, path: str = "") -> Any:
    """Copy engine properties (proxies, secrets, sentinels) into plain values with `Unknown` markers."""
    if isinstance(value, Secret):
        return plain(value.value, path)
    if isinstance(value, str):
        return Unknown(path or "value", value) if value in UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key in value:
            try:
                item = value[key]
            except UnknownValueError as unknown:
                result[str(key)] = Unknown(_join(path, key), unknown.unknown_type_sentinel)
                continue
            result[str(key)] = plain(item, _join(path, key))
        return result
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                item = value[index]
            except UnknownValueError as unknown:
                items.append(Unknown(_join(path, index), unknown.unknown_type_sentinel))
                continue
            items.append(plain(item, _join(path, index)))
        return items
    return value


def raw(value: Any) -> Any:
    """Plain values back to what the engine sent (unknowns as their sentinels), for remediations."""
    if isinstance(value, Unknown):
        return value.sentinel
    if isinstance(value, dict):
        return {key: raw(item) for key, item in value.items()}
    if isinstance(value, list):
        return [raw(item) for item in value]
    return value


def dig(value: Any, *keys: str | int) -> Any:
    """Follow keys and indexes; None when a step is missing or of the wrong shape, Unknown stops early."""
    current = value
    for key in keys:
        if isinstance(current, Unknown):
            return current
        if isinstance(key, int):
            if not isinstance(current, list) or not -len(current) <= key < len(current):
                return None
            current = current[key]
        else:
            if not isinstance(current, dict):
                return None
            current = current.get(key)
    return current


def as_bool(value: Any) -> bool | None:
    """A boolean from a bool or from the strings launch templates send ("true"/"false"); else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    return None


def as_int(value: Any) -> int | None:
    """An integer from an int, an integral float (protobuf sends numbers as floats) or a numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def as_list(value: Any) -> list[Any]:
    """A list from a list, a single value, or nothing (None gives an empty list)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def find_unknowns(value: Any) -> list[Unknown]:
    """Every unknown inside a plain value, in document order."""
    if isinstance(value, Unknown):
        return [value]
    if isinstance(value, dict):
        return [found for item in value.values() for found in find_unknowns(item)]
    if isinstance(value, list):
        return [found for item in value for found in find_unknowns(item)]
    return []


class JsonError(ValueError):
    """A JSON property that is empty or does not parse; the message names the property."""


def parse_json(value: Any, path: str) -> Any:
    """A JSON property (string) parsed once; already-structured values pass through as they are."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, str):
        if not value.strip():
            raise JsonError(f"{path} is empty")
        try:
            return plain(json.loads(value), path)
        except json.JSONDecodeError as error:
            raise JsonError(f"{path} is not valid JSON ({error.msg} at line {error.lineno})") from error
        except RecursionError as error:
            raise JsonError(f"{path} nests too deeply to be read") from error
    return value
