"""URNs are the components' API: the dev and prod stacks register exactly the URNs they did before.

tests/components/baselines/<stack>-urns.json lists the URNs of preflight's JSON report of each stack taken
before the components became a library; a renamed type token or child name shows here as a replacement
would show in a real stack (add `aliases` to the resource if one must move). A resource added or removed on
purpose is added to or removed from the baseline in the same commit, which says why (the host's
AmazonSSMManagedInstanceCore attachment `host-ssm` went when Session Manager was granted inline).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BASELINES = Path(__file__).resolve().parent / "baselines"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_urns_match_the_baseline(record_stack, stack: str) -> None:
    baseline = set(json.loads((BASELINES / f"{stack}-urns.json").read_text(encoding="utf-8"))["urns"])
    recorded = {resource.urn for resource in record_stack(stack).resources}
    assert sorted(recorded - baseline) == [], "new URNs (a create, or a rename without an alias)"
    assert sorted(baseline - recorded) == [], "URNs gone (a delete, or a rename without an alias)"
