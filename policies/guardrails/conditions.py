"""What a statement's Condition block really restricts, from the operator's semantics rather than key names.

Sources (AWS IAM User Guide):
- Condition operators, including `...IfExists` ("if the key is not present, evaluate the condition as
  true"): https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
- Set operators: `ForAllValues` "also returns true if there are no context keys in the request"; `ForAnyValue`
  returns false when the key is absent:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
- Global keys (aws:PrincipalOrgID, aws:PrincipalOrgPaths, aws:PrincipalArn, aws:PrincipalAccount,
  aws:SourceAccount, aws:SourceArn, aws:SourceOrgID, aws:SourceOrgPaths), each compared with the caller's own
  context: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
- Policy variables (`${aws:PrincipalOrgID}` is replaced by the caller's own value, so comparing a key with
  itself always matches): https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
- Federated trust: GitHub's OIDC provider needs a `token.actions.githubusercontent.com:sub` condition and
  Cognito identity pools a `cognito-identity.amazonaws.com:aud` condition, or any user of the provider can
  assume the role: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html

A condition restricts a public principal when every request it lets through comes from named accounts, an
organisation or organisational unit, a named caller ARN, or one named VPC endpoint or VPC. It does not
when the operator is negated, is an `...IfExists` variant, is `ForAllValues` (both true when the key is
absent) or is `Null`; when a value is a wildcard that matches any organisation or account (`o-*`, `*`); or
when a value is a policy variable that compares the key with the caller's own value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from guardrails.values import shown

# Operators whose match means "the key equals (or matches) one of these values".
_POSITIVE_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# `${*}`, `${?}` and `${$}` are escapes for the literal characters, not variables.
_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_ACCOUNT = re.compile(r"^\d{12}$")
_ORG_ID = re.compile(r"^o-[a-z0-9]+$")
_VPC_ENDPOINT = re.compile(r"^vpce-[0-9a-f]+$")
_VPC = re.compile(r"^vpc-[0-9a-f]+$")
_ARN_ACCOUNT = re.compile(r"^(?:\d{12}|aws)$")


@dataclass(frozen=True)
class Operator:
    """A Condition operator split into its set qualifier, base operator and IfExists suffix."""

    text: str
    qualifier: str  # "", "forallvalues" or "foranyvalue"
    base: str  # lower case, without IfExists
    if_exists: bool

    @classmethod
    def parse(cls, text: str) -> Operator:
        lowered = text.lower()
        qualifier, _, rest = lowered.rpartition(":")
        if_exists = rest.endswith("ifexists") and rest != "ifexists"
        base = rest.removesuffix("ifexists") if if_exists else rest
        return cls(text=text, qualifier=qualifier, base=base, if_exists=if_exists)

    @property
    def requires_every_value(self) -> bool:
        """ForAllValues with a positive operator: every value present must match (vacuous when none is)."""
        return self.qualifier == "forallvalues" and not self.if_exists and self.base in _POSITIVE_OPERATORS

    def why_not_restricting(self) -> str | None:
        """Why a match of this operator does not prove the key holds one of the values; None when it does."""
        if self.if_exists:
            return f"{self.text} is true when the key is absent"
        if self.qualifier == "forallvalues":
            return f"{self.text} is true when the key is absent (ForAllValues over an empty set)"
        if self.qualifier not in ("", "foranyvalue"):
            return f"{self.text} has an unknown set qualifier"
        if self.base not in _POSITIVE_OPERATORS:
            return f"{self.text} does not pin the key to the listed values"
        return None


def _substitute_variables(value: str) -> tuple[str, list[str]]:
    """The value with each policy variable replaced by `*` (it may take any value) and the variables named."""
    variables: list[str] = []

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner in _ESCAPES:
            return _ESCAPES[inner]
        variables.append(inner)
        return "*"

    return _VARIABLE.sub(replace, value), variables


def _fixed(text: str) -> bool:
    return "*" not in text and "?" not in text


def _arn_account(text: str) -> str:
    fields = text.split(":")
    return fields[4] if len(fields) > 5 else ""


def _whole(text: str) -> str:
    return text


def _first_segment(text: str) -> str:
    return text.split("/", 1)[0]


# Keys that identify the caller, with the part of a value that must be spelled out and what it must name.
# The VPC keys count as IAM Access Analyzer counts them (not public): the request came through our endpoint
# or VPC (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-concepts.html).
_IDENTIFYING_KEYS: dict[str, tuple[Callable[[str], str], re.Pattern[str], str]] = {
    "aws:principalorgid": (_whole, _ORG_ID, "one organisation"),
    "aws:sourceorgid": (_whole, _ORG_ID, "one organisation"),
    "aws:principalorgpaths": (_first_segment, _ORG_ID, "one organisation as its first segment"),
    "aws:sourceorgpaths": (_first_segment, _ORG_ID, "one organisation as its first segment"),
    "aws:principalaccount": (_whole, _ACCOUNT, "one account"),
    "aws:sourceaccount": (_whole, _ACCOUNT, "one account"),
    "aws:principalarn": (_arn_account, _ARN_ACCOUNT, "the caller's account"),
    "aws:sourcearn": (_arn_account, _ARN_ACCOUNT, "the caller's account"),
    "aws:sourcevpce": (_whole, _VPC_ENDPOINT, "one VPC endpoint"),
    "aws:sourcevpc": (_whole, _VPC, "one VPC"),
}
RESTRICTING_KEYS = frozenset(_IDENTIFYING_KEYS)


def _why_value_is_open(spelled: str, value: str) -> str | None:
    """Why one condition value admits callers from anywhere; None when it names accounts, an org or ARNs."""
    key = spelled.lower()
    text, variables = _substitute_variables(value)
    if any(name.lower() == key for name in variables):
        return f"{shown(value)} compares {spelled} with the caller's own value, which always matches"
    if key not in _IDENTIFYING_KEYS:
        return f"{spelled} does not identify the caller"
    part_of, shape, names = _IDENTIFYING_KEYS[key]
    part = part_of(text)
    return None if _fixed(part) and shape.match(part) else f"{shown(value)} does not name {names}"


@dataclass(frozen=True)
class Restriction:
    """The verdict on a Condition block: whether it pins the caller down, and why each entry did not."""

    restricts: bool
    reasons: tuple[str, ...]

    def explain(self) -> str:
        if not self.reasons:
            return "no Condition restricts the caller to named accounts, an organisation or named ARNs"
        return "; ".join(self.reasons[:3]) + (f"; and {len(self.reasons) - 3} more" if len(self.reasons) > 3 else "")


def _null_false_keys(conditions: Mapping[str, Mapping[str, tuple[str, ...]]]) -> set[str]:
    """Keys a `Null: {key: "false"}` entry requires to be present."""
    present: set[str] = set()
    for operator, keys in conditions.items():
        if operator.lower() == "null":
            present.update(key.lower() for key, values in keys.items() if values and values[0].lower() == "false")
    return present


def caller_restriction(conditions: Mapping[str, Mapping[str, tuple[str, ...]]]) -> Restriction:
    """Whether the Condition block admits only callers from named accounts, an organisation or named ARNs.

    Entries of a Condition block are ANDed, so one restricting entry restricts the statement.
    """
    reasons: list[str] = []
    required_present = _null_false_keys(conditions)
    for text, keys in conditions.items():
        operator = Operator.parse(text)
        for key, values in keys.items():
            lowered = key.lower()
            if lowered not in RESTRICTING_KEYS:
                continue
            why = operator.why_not_restricting()
            if why and operator.requires_every_value and lowered in required_present:
                # `Null: {key: "false"}` beside it rules out the empty set ForAllValues lets through.
                why = None
            if why:
                reasons.append(f"{why} ({key})")
                continue
            if not values:
                reasons.append(f"{operator.text} {key} lists no value")
                continue
            open_values = [reason for value in values if (reason := _why_value_is_open(key, value))]
            if open_values:
                reasons.append(f"{operator.text} {key}: {open_values[0]}")
                continue
            return Restriction(restricts=True, reasons=())
    return Restriction(restricts=False, reasons=tuple(dict.fromkeys(reasons)))


# --- federated trust -----------------------------------------------------------------------------------

GITHUB = "token.actions.githubusercontent.com"
COGNITO = "cognito-identity.amazonaws.com"
# Public identity providers: anyone with an account there gets a token, so the app id (aud) must be named.
_PUBLIC_WEB_IDENTITY = ("accounts.google.com", "graph.facebook.com", "www.amazon.com")


def provider_host(federated: str) -> str:
    """`arn:aws:iam::123:oidc-provider/token.actions.githubusercontent.com` -> the provider's host (lower case)."""
    _, marker, rest = federated.partition(":oidc-provider/")
    return (rest if marker else federated).lower().rstrip("/")


def required_claims(federated: str) -> tuple[str, ...] | None:
    """The claims one of which a trust statement must pin for this provider; None for SAML providers."""
    if ":saml-provider/" in federated:
        return None
    host = provider_host(federated)
    if host == GITHUB:
        return ("sub",)
    if host == COGNITO or host in _PUBLIC_WEB_IDENTITY:
        return ("aud",)
    return ("sub", "aud")


def _why_claim_value_is_open(host: str, claim: str, value: str) -> str | None:
    text, _ = _substitute_variables(value)
    if text.strip("*?") == "":
        return f"{shown(value)} matches every token"
    if host == GITHUB and claim == "sub":
        # repo:<owner>/<repo>:<context>; the owner must be spelled out or any GitHub user's workflow matches.
        owner = text.removeprefix("repo:").split("/", 1)[0] if text.startswith("repo:") else ""
        if not owner or not _fixed(owner):
            return f"{shown(value)} does not name a repository owner (repo:<owner>/<repo>:...)"
    return None


def federated_gap(federated: str, conditions: Mapping[str, Mapping[str, tuple[str, ...]]]) -> str | None:
    """Why a federated trust lets any user of the provider assume the role; None when a claim is pinned."""
    claims = required_claims(federated)
    if claims is None:
        return None
    host = provider_host(federated)
    wanted = {f"{host}:{claim}": claim for claim in claims}
    reasons: list[str] = []
    for text, keys in conditions.items():
        operator = Operator.parse(text)
        for key, values in keys.items():
            claim = wanted.get(key.lower())
            if claim is None:
                continue
            why = operator.why_not_restricting()
            if why is None and not values:
                why = f"{operator.text} lists no value"
            if why is None:
                why = next(
                    (reason for value in values if (reason := _why_claim_value_is_open(host, claim, value))), None
                )
            if why is None:
                return None
            reasons.append(f"{key}: {why}")
    needed = " or ".join(f"{host}:{claim}" for claim in claims)
    if reasons:
        return f"its {needed} condition does not count ({reasons[0]})"
    return f"it has no {needed} condition, so any identity of that provider can assume the role"
