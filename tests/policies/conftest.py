"""The pack imports its modules as top-level (`guardrails...`), the way the CLI runs it from policies/."""

from __future__ import annotations

import sys
from pathlib import Path

POLICIES = Path(__file__).resolve().parents[2] / "policies"
if str(POLICIES) not in sys.path:
    sys.path.insert(0, str(POLICIES))
