"""Shared fixtures: the repository root on sys.path and the recorded program.

The pack's tests (tests/policies) run in the pack's own environment, policies/.venv, the interpreter the
Pulumi CLI runs the pack with; every other test runs in the program's environment (.venv). Each interpreter
collects only its own part (`make test` runs both), and says in the summary what it left to the other.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from preflight.recorder import Recording

PACK_TESTS = ROOT / "tests" / "policies"
PACK_VENV = ROOT / "policies" / ".venv"
IN_PACK_ENV = Path(sys.prefix).resolve() == PACK_VENV.resolve()
_left_out: set[str] = set()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path in PACK_TESTS.parents:
        return None
    is_pack_test = collection_path == PACK_TESTS or PACK_TESTS in collection_path.parents
    if is_pack_test != IN_PACK_ENV:
        _left_out.add("the program's tests" if IN_PACK_ENV else "tests/policies")
        return True
    return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if "tests/policies" in _left_out:
        terminalreporter.write_line(
            "tests/policies not collected: the pack's tests run in the pack's environment: "
            "`make test-pack` (policies/.venv/bin/python -m pytest tests/policies)"
        )
    if "the program's tests" in _left_out:
        terminalreporter.write_line(
            "only tests/policies collected in the pack's environment; the rest: `make test-program`"
        )


@pytest.fixture
def record_stack() -> Callable[..., Recording]:
    """record(stack="dev", **options) for the repository's own program."""
    from preflight.recorder import record  # the program's environment only; the pack's tests never record

    def run(stack: str = "dev", **options) -> Recording:
        return record(ROOT, stack, **options)

    return run
