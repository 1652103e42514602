"""Every rule of the pack, listed explicitly; names are unique."""

from __future__ import annotations

from guardrails.rules import ecr

ALL_POLICIES = (
    ecr.SCAN_ON_PUSH,
    ecr.NO_PUBLIC_REPOSITORIES,
)

_names = [policy.name for policy in ALL_POLICIES]
assert len(_names) == len(set(_names)), f"duplicate rule names: {sorted(n for n in _names if _names.count(n) > 1)}"
