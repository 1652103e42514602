"""`preflight --watch` warms the parent with the cached lookups a preview made, so later forks inherit them:
the child names them, the parent makes them, and a name it cannot make is skipped, never executed blindly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PROJECT = Path(__file__).parent / "project"

# Each phase runs in a fresh interpreter: recording replaces module functions for the rest of the process.
CHILD = """
import json, sys
from pathlib import Path
from preflight import warm
from preflight.recorder import record
before = set(sys.modules)
seen = warm.recording_lookups()
recording = record(Path(sys.argv[1]), "test")
library = {name for name in sys.modules if name.startswith(("pulumi", "preflight"))}
print(json.dumps(warm.lookup_refs(seen, library)))
"""

PARENT = """
import json, sys
import pulumi_aws
from pulumi import _types
from preflight import sdk_types, warm
refs = json.loads(sys.stdin.read())
for module in {ref.split(" ")[2] for ref in refs if " class pulumi_aws." in ref}:
    found = pulumi_aws  # what the watch's parent imports after a run: reached by attribute, loading lazy services
    for part in module.split(".")[1:]:
        found = getattr(found, part, None)
sizes = lambda: (_types._raw_return_hints.cache_info().currsize, sdk_types.computed_outputs.cache_info().currsize)
before = sizes()
failed = set()
warm.make_lookups(refs, failed)
print(json.dumps({"before": before, "after": sizes(), "failed": sorted(failed)}))
"""


def run(script: str, *args: str, stdin: str = "") -> str:
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_parent_makes_what_the_child_looked_up_and_skips_what_it_cannot() -> None:
    refs = json.loads(run(CHILD, str(PROJECT)))
    hints = [ref for ref in refs if ref.startswith("pulumi._types._raw_return_hints class pulumi_aws.")]
    tokens = [ref for ref in refs if ref.startswith("preflight.sdk_types.computed_outputs token ")]
    assert hints and tokens, refs
    bogus = [
        "pulumi._types._raw_return_hints class pulumi_aws.nosuch Thing",  # not loaded here
        "os.system token true",  # not a lookup warm makes: never called
        "preflight.sdk_types.computed_outputs",  # cut short
    ]
    outcome = json.loads(run(PARENT, stdin=json.dumps(refs + bogus)))
    grown = [after - before for before, after in zip(outcome["before"], outcome["after"], strict=True)]
    assert grown[0] >= len(hints) and grown[1] == len(tokens), outcome
    assert outcome["failed"] == sorted(bogus)
