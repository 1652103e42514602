"""IAM policy documents, parsed once into a model that rules query.

A document may arrive as a JSON string or as a dict; `Statement` as one object or a list; `Action`,
`NotAction`, `Resource`, `NotResource` and each `Principal` kind as a string or a list; keys in any
order. A document that is empty, malformed or shaped wrongly yields `problems`, which rules report as
findings: what cannot be read cannot pass. Values unknown during a preview are kept in `unknowns`,
while everything known around them is still modelled and judged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from guardrails.values import JsonError, Unknown, find_unknowns, parse_json

# Condition keys that tie a grant to our own accounts or organisation.
RESTRICTING_CONDITION_KEYS = frozenset(
    {"aws:principalorgid", "aws:principalaccount", "aws:sourceaccount", "aws:sourceorgid"}
)
# Operators whose match means "the key equals one of these values"; negated operators and
# ...IfExists variants (true when the key is absent) do not restrict anything.
RESTRICTING_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
PUBLIC_PRINCIPAL_KINDS = frozenset({"*", "AWS", "CanonicalUser"})
_ONLY_WILDCARDS = re.compile(r"^[*?]+$")


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
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1}"

    @property
    def public_principals(self) -> tuple[Principal, ...]:
        return tuple(principal for principal in self.principals or () if principal.is_public)

    @property
    def restricted_to_known_accounts(self) -> bool:
        """True when a Condition pins the caller to specific accounts or organisations."""
        for operator, keys in self.conditions.items():
            base = operator.lower().removeprefix("foranyvalue:")
            if base not in RESTRICTING_OPERATORS:
                continue
            for key, values in keys.items():
                restricting_key = key.lower() in RESTRICTING_CONDITION_KEYS
                if restricting_key and values and not any(_ONLY_WILDCARDS.match(value) for value in values):
                    return True
        return False

    @property
    def grants_public_access(self) -> bool:
        """An Allow to everyone (or to everyone but some via NotPrincipal) with no restricting Condition."""
        if not self.allows or self.restricted_to_known_accounts:
            return False
        return bool(self.public_principals) or self.not_principals is not None


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
                self.problems.append(f"{where} must be a string or a list of strings, found {item!r}")
        return tuple(known)

    def principals(self, value: Any, where: str) -> tuple[Principal, ...] | None:
        if value is None:
            return None
        if isinstance(value, Unknown):
            self.unknowns.append(value)
            return ()
        if isinstance(value, str):
            if value != "*":
                self.problems.append(f'{where} as a string must be "*", found {value!r}')
            return (Principal("*", value),)
        if not isinstance(value, dict):
            self.problems.append(f'{where} must be "*" or an object, found {value!r}')
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
            self.problems.append(f"{where} must be an object, found {value!r}")
            return {}
        result: dict[str, dict[str, tuple[str, ...]]] = {}
        for operator, keys in value.items():
            if isinstance(keys, Unknown):
                self.unknowns.append(keys)
                continue
            if not isinstance(keys, dict):
                self.problems.append(f"{where}.{operator} must be an object, found {keys!r}")
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
            self.problems.append(f"{where} must be an object, found {value!r}")
            return None
        effect = value.get("Effect")
        if isinstance(effect, Unknown):
            self.unknowns.append(effect)
            return None
        if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
            self.problems.append(f'{where} has Effect {effect!r}; it must be "Allow" or "Deny"')
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
        document = parse_json(value, path)
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
        reader.problems.append(f"{path} Statement must be an object or a list, found {raw_statements!r}")
        raw_statements = []
    statements = [reader.statement(index, item) for index, item in enumerate(raw_statements)]
    return PolicyDocument(
        statements=tuple(statement for statement in statements if statement is not None),
        problems=tuple(reader.problems),
        unknowns=tuple(reader.unknowns),
    )
