"""Shared fixtures: the repository root on sys.path and the recorded program."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from preflight.recorder import Recording, record  # noqa: E402


@pytest.fixture
def record_stack() -> Callable[..., Recording]:
    """record(stack="dev", **options) for the repository's own program."""

    def run(stack: str = "dev", **options) -> Recording:
        return record(ROOT, stack, **options)

    return run
