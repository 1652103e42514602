"""The model's shared words: what preflight and the pack must spell the same way."""

from __future__ import annotations

import ast

from preflight.analysis import is_cannot_judge
from preflight.model import CANNOT_JUDGE_YET
from tests.conftest import ROOT

PACK_MODULES = ROOT / "policies" / "guardrails"


def _pack_constants(name: str) -> dict[str, object]:
    """Module-level `name = <literal>` assignments in the pack's modules, read as source: the pack runs in
    its own environment, so its modules are not imported here."""
    found = {}
    for path in sorted(PACK_MODULES.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
                found[str(path.relative_to(ROOT))] = ast.literal_eval(node.value)
    return found


def test_the_cannot_judge_wording_is_the_packs() -> None:
    constants = _pack_constants("CANNOT_JUDGE_YET")
    assert constants, f"the pack no longer defines CANNOT_JUDGE_YET under {PACK_MODULES}"
    assert set(constants.values()) == {CANNOT_JUDGE_YET}, constants


def test_a_message_in_the_packs_wording_is_a_cannot_judge_note() -> None:
    description = "Task definitions keep secrets out of the environment."
    message = f"{description}\n{CANNOT_JUDGE_YET}: containerDefinitions unknown during preview"
    assert is_cannot_judge(message, description)
    assert not is_cannot_judge(f"{description}\nthe environment holds a password", description)
