"""IAM policy documents, parsed once into a model that rules query.

A document may arrive as a JSON string or as a dict; `Statement` as one object or a list; `Action`,
`NotAction`, `Resource`, `NotResource` and each `Principal` kind as a string or a list; keys in any
order. A document that is empty, malformed or shaped wrongly yields `problems`, which rules report as
findings: what cannot be read cannot pass. Values unknown during a preview are kept in `unknowns`,
while everything known around them is still modelled and judged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from guardrails.conditions import Restriction, caller_restriction
from guardrails.values import JsonError, Unknown, find_unknowns, parse_json, plain, shown

PUBLIC_PRINCIPAL_KINDS = frozenset({"*", "AWS", "CanonicalUser"})
# A policy document is at most Statement[].Condition.Operator.Key[] deep; anything far deeper is not a policy,
# and walking it recursively could exhaust Python's stack. Judged iteratively and reported instead.
MAX_DEPTH = 12


@dataclass(frozen=True)
class Principal:
    """One principal entry: kind is "*" (the bare string form), AWS, Service, Federated or CanonicalUser."""

    kind: str
    value: str

    @property
    def is_public(self) -> bool:
        if self.kind not in PUBLIC_PRINCIPAL_KINDS:
            return False
        if self.value == "*":
            return True
        # arn:aws:iam::*:root or an account id spelled "*"-something grants every account.
        parts = self.value.split(":")
        return len(parts) >= 6 and parts[0] == "arn" and "*" in parts[4]


@dataclass(frozen=True)
class Statement:
    """One statement; list fields are None when the key is absent and hold only known strings."""

    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    principals: tuple[Principal, ...] | None = None
    not_principals: tuple[Principal, ...] | None = None
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    @property
    def label(self) -> str:
        return f"statement {shown(self.sid)}" if self.sid else f"statement #{self.index + 1}"

    @property
    def public_principals(self) -> tuple[Principal, ...]:
        return tuple(principal for principal in self.principals or () if principal.is_public)

    @property
    def caller_restriction(self) -> Restriction:
        """Whether a Condition pins the caller to named accounts, an organisation or named ARNs, and why not."""
        return caller_restriction(self.conditions)

    @property
    def grants_public_access(self) -> bool:
        """An Allow to everyone (or to everyone but some via NotPrincipal) with no restricting Condition."""
        return self.public_access_gap is not None

    @property
    def public_access_gap(self) -> str | None:
        """Who the statement opens to and why no condition counted; None when it is not public."""
        if not self.allows:
            return None
        public = self.public_principals
        if not public and self.not_principals is None:
            return None
        restriction = self.caller_restriction
        if restriction.restricts:
            return None
        who = f"principal {shown(public[0].value)}" if public else "NotPrincipal (everyone but the listed)"
        return f"{who}: {restriction.explain()}"


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...] = ()
    problems: tuple[str, ...] = ()
    unknowns: tuple[Unknown, ...] = ()

    @property
    def allow_statements(self) -> tuple[Statement, ...]:
        return tuple(statement for statement in self.statements if statement.allows)


class _Reader:
    """Collects problems and unknowns while reading one document."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[str] = []
        self.unknowns: list[Unknown] = []

    def strings(self, value: Any, where: str) -> tuple[str, ...] | None:
        """A string-or-list field as a tuple of known strings; unknown items are set aside."""
        if value is None:
            return None
        items = value if isinstance(value, list) else [value]
        known: list[str] = []
        for item in items:
            if isinstance(item, Unknown):
                self.unknowns.append(item)
            elif isinstance(item, str):
                known.append(item)
            else:
                self.problems.append(f"{where} must be a string or a list of strings, found {shown(item)}")
        return tuple(known)

    def principals(self, value: Any, where: str) -> tuple[Principal, ...] | None:
        if value is None:
            return None
        if isinstance(value, Unknown):
            self.unknowns.append(value)
            return ()
        if isinstance(value, str):
            if value != "*":
                self.problems.append(f'{where} as a string must be "*", found {shown(value)}')
            return (Principal("*", value),)
        if not isinstance(value, dict):
            self.problems.append(f'{where} must be "*" or an object, found {shown(value)}')
            return ()
        found: list[Principal] = []
        for kind, entries in value.items():
            for entry in self.strings(entries, f"{where}.{kind}") or ():
                found.append(Principal(kind, entry))
        return tuple(found)

    def conditions(self, value: Any, where: str) -> dict[str, dict[str, tuple[str, ...]]]:
        if value is None:
            return {}
        if isinstance(value, Unknown):
            self.unknowns.append(value)
            return {}
        if not isinstance(value, dict):
            self.problems.append(f"{where} must be an object, found {shown(value)}")
            return {}
        result: dict[str, dict[str, tuple[str, ...]]] = {}
        for operator, keys in value.items():
            if isinstance(keys, Unknown):
                self.unknowns.append(keys)
                continue
            if not isinstance(keys, dict):
                self.problems.append(f"{where}.{shown(operator)} must be an object, found {shown(keys)}")
                continue
            result[operator] = {}
            for key, values in keys.items():
                self.unknowns.extend(find_unknowns(values))
                items = values if isinstance(values, list) else [values]
                result[operator][key] = tuple(
                    str(item).lower() if isinstance(item, bool) else str(item)
                    for item in items
                    if not isinstance(item, Unknown | dict | list)
                )
        return result

    def statement(self, index: int, value: Any) -> Statement | None:
        where = f"{self.path} Statement[{index}]"
        if isinstance(value, Unknown):
            self.unknowns.append(value)
            return None
        if not isinstance(value, dict):
            self.problems.append(f"{where} must be an object, found {shown(value)}")
            return None
        effect = value.get("Effect")
        if isinstance(effect, Unknown):
            self.unknowns.append(effect)
            return None
        if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
            self.problems.append(f'{where} has Effect {shown(effect)}; it must be "Allow" or "Deny"')
            return None
        if ("Action" in value) == ("NotAction" in value):
            self.problems.append(f"{where} must have exactly one of Action and NotAction")
        if "Resource" in value and "NotResource" in value:
            self.problems.append(f"{where} must not have both Resource and NotResource")
        if "Principal" in value and "NotPrincipal" in value:
            self.problems.append(f"{where} must not have both Principal and NotPrincipal")
        sid = value.get("Sid")
        return Statement(
            index=index,
            sid=sid if isinstance(sid, str) else None,
            effect="Allow" if effect.lower() == "allow" else "Deny",
            actions=self.strings(value.get("Action"), f"{where}.Action"),
            not_actions=self.strings(value.get("NotAction"), f"{where}.NotAction"),
            resources=self.strings(value.get("Resource"), f"{where}.Resource"),
            not_resources=self.strings(value.get("NotResource"), f"{where}.NotResource"),
            principals=self.principals(value.get("Principal"), f"{where}.Principal"),
            not_principals=self.principals(value.get("NotPrincipal"), f"{where}.NotPrincipal"),
            conditions=self.conditions(value.get("Condition"), f"{where}.Condition"),
        )


def parse_policy_document(value: Any, path: str = "policy") -> PolicyDocument:
    """Model a policy document given as a JSON string or a dict; never raises for bad input."""
    if value is None:
        return PolicyDocument(problems=(f"{path} is missing",))
    try:
        document = _load(value, path)
    except JsonError as error:
        return PolicyDocument(problems=(str(error),))
    if isinstance(document, Unknown):
        return PolicyDocument(unknowns=(document,))
    if not isinstance(document, dict):
        return PolicyDocument(problems=(f"{path} must be a JSON object, found {type(document).__name__}",))
    reader = _Reader(path)
    raw_statements = document.get("Statement")
    if raw_statements is None:
        reader.problems.append(f"{path} has no Statement")
        raw_statements = []
    elif isinstance(raw_statements, Unknown):
        reader.unknowns.append(raw_statements)
        raw_statements = []
    elif isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    elif not isinstance(raw_statements, list):
        reader.problems.append(f"{path} Statement must be an object or a list, found {shown(raw_statements)}")
        raw_statements = []
    statements = [reader.statement(index, item) for index, item in enumerate(raw_statements)]
    return PolicyDocument(
        statements=tuple(statement for statement in statements if statement is not None),
        problems=tuple(reader.problems),
        unknowns=tuple(reader.unknowns),
    )


def depth(value: Any) -> int:
    """How deeply lists and objects nest in a value, measured without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                break
            pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _load(value: Any, path: str) -> Any:
    """The document as plain values, refusing nesting no policy has before anything walks it recursively."""
    if isinstance(value, str) and value.strip():
        try:
            loaded = json.loads(value)
        except RecursionError as error:
            raise JsonError(f"{path} nests too deeply to be a policy document") from error
        except json.JSONDecodeError:
            return parse_json(value, path)  # its message names the position
        if depth(loaded) > MAX_DEPTH:
            raise JsonError(f"{path} nests deeper than {MAX_DEPTH} levels, which no policy document does")
        return plain(loaded, path)
    if depth(value) > MAX_DEPTH:
        raise JsonError(f"{path} nests deeper than {MAX_DEPTH} levels, which no policy document does")
    return parse_json(value, path)
