"""Derive the pack's compact data on AWS managed policies from a snapshot of AWS's own documents.

    python policies/data/derive_aws_managed_policies.py [SNAPSHOT_DIR]

SNAPSHOT_DIR (default: ../shared/data/aws-managed-policies beside the repository) holds one
`GetPolicyVersion` answer per policy in `policies/<name>`, `policies-list.json` (the `ListPolicies` answer:
path and dates) and a README stating the snapshot date ("as of YYYY-MM-DD"). The output,
`aws_managed_policies.json.gz` beside this script, keeps per policy only what the rules read: its path,
default version, last update and document (minified), plus the snapshot date a finding quotes when a
policy is unknown to it. Output is deterministic (sorted keys, fixed gzip mtime), so re-running on the
same snapshot changes nothing.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The team's shared data sits beside the repository (../shared), or beside the directory of worktrees.
SNAPSHOT_CANDIDATES = tuple(root / "shared" / "data" / "aws-managed-policies" for root in HERE.parents[2:4])
OUTPUT = HERE / "aws_managed_policies.json.gz"
SNAPSHOT_DATE = re.compile(r"as of (\d{4}-\d{2}-\d{2})")


def default_snapshot() -> Path:
    return next((path for path in SNAPSHOT_CANDIDATES if path.is_dir()), SNAPSHOT_CANDIDATES[0])


def encode(data: dict) -> bytes:
    """The data file's bytes: sorted, minified JSON, gzip with a fixed mtime, so a rerun changes nothing."""
    return gzip.compress(json.dumps(data, sort_keys=True, separators=(",", ":")).encode(), compresslevel=9, mtime=0)


def derive(snapshot: Path) -> dict:
    if not (snapshot / "policies-list.json").is_file():
        raise SystemExit(f"{snapshot} is not a managed-policy snapshot (no policies-list.json); pass its directory")
    readme = (snapshot / "README.md").read_text()
    date = SNAPSHOT_DATE.search(readme)
    if not date:
        raise SystemExit(f"{snapshot / 'README.md'} does not state the snapshot date ('as of YYYY-MM-DD')")
    listed = {
        entry["PolicyName"]: entry for entry in json.loads((snapshot / "policies-list.json").read_text())["Policies"]
    }
    policies = {}
    for path in sorted((snapshot / "policies").iterdir()):
        entry = listed.get(path.name, {})
        text = path.read_text()
        # A few files of the snapshot are empty (the collector got no answer): kept, with no document, so a
        # finding can say so instead of calling the policy unknown.
        version = json.loads(text)["PolicyVersion"] if text.strip() else {}
        policies[path.name] = {
            "path": entry.get("Path", "/"),
            "version": version.get("VersionId"),
            "updated": entry.get("UpdateDate") or version.get("CreateDate"),
            "document": version.get("Document"),
        }
    return {
        "snapshot": date.group(1),
        "source": "AWS managed policies (GetPolicyVersion / ListPolicies), snapshot README: "
        + " ".join(readme.split())[:300],
        "policies": policies,
    }


def main(argv: list[str]) -> int:
    snapshot = Path(argv[1]) if len(argv) > 1 else default_snapshot()
    data = derive(snapshot)
    OUTPUT.write_bytes(encode(data))
    print(
        f"{OUTPUT.name}: {len(data['policies'])} policies, snapshot {data['snapshot']}, {OUTPUT.stat().st_size} bytes"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
