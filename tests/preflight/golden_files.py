"""Golden-file comparison for the report tests: regenerated only with UPDATE_GOLDEN=1, never silently."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE_VARIABLE = "UPDATE_GOLDEN"


def assert_matches_golden(name: str, actual: str) -> None:
    path = GOLDEN_DIR / name
    if os.environ.get(UPDATE_VARIABLE) == "1":
        path.write_text(actual, encoding="utf-8", newline="\n")
        return
    assert path.is_file(), f"golden file {path} is missing; create it with {UPDATE_VARIABLE}=1 and review it"
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"golden/{name}",
                tofile="rendered",
            )
        )
        raise AssertionError(
            f"rendered output differs from golden/{name}; if the change is intended, "
            f"rerun with {UPDATE_VARIABLE}=1 and review the diff:\n{diff}"
        )
