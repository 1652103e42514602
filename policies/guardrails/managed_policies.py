"""AWS managed policies by their documents, from the pack's derived data (policies/data/).

`policies/data/aws_managed_policies.json.gz` is regenerated from a snapshot of AWS's own documents by
`policies/data/derive_aws_managed_policies.py`; it records the snapshot date, which findings quote when an
attached policy is not in it (published after the snapshot, or misspelled).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "aws_managed_policies.json.gz"
# Any partition (aws, aws-cn, aws-us-gov, ...), any path; AWS managed policies live in the "aws" account.
AWS_MANAGED_ARN = re.compile(r"^arn:[a-z0-9-]+:iam::aws:policy/(?:[^*?]*/)?(?P<name>[^/]+)$")


@dataclass(frozen=True)
class ManagedPolicy:
    name: str
    path: str
    version: str | None
    updated: str | None
    document: dict[str, Any] | None


@functools.cache
def _data() -> dict[str, Any]:
    return json.loads(gzip.decompress(DATA.read_bytes()))


@functools.cache
def _by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in _data()["policies"]}


def snapshot_date() -> str:
    return str(_data()["snapshot"])


def warm_up() -> None:
    _by_lower_name()


def managed_policy_name(arn: str) -> str | None:
    """The policy name when the ARN names an AWS managed policy (any partition, any path); else None."""
    match = AWS_MANAGED_ARN.match(arn.strip())
    return match.group("name") if match else None


def lookup(name: str) -> ManagedPolicy | None:
    """The snapshot's record of an AWS managed policy; IAM policy names are unique regardless of case."""
    key = _by_lower_name().get(name.lower())
    if key is None:
        return None
    record = _data()["policies"][key]
    return ManagedPolicy(
        name=key,
        path=record.get("path") or "/",
        version=record.get("version"),
        updated=record.get("updated"),
        document=record.get("document"),
    )


def names() -> tuple[str, ...]:
    return tuple(_data()["policies"])
