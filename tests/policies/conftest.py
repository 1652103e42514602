"""The pack imports its modules as top-level (`guardrails...`), the way the CLI runs it from policies/."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

POLICIES = Path(__file__).resolve().parents[2] / "policies"
if str(POLICIES) not in sys.path:
    sys.path.insert(0, str(POLICIES))


@pytest.fixture(scope="module")
def pack_server() -> Iterator[tuple[object, float]]:
    """The pack as the CLI starts it: `python __main__.py` in policies/, reached over gRPC on the port it prints.

    Yields an AnalyzerStub and the seconds start-up took; stops the process by its PID afterwards.
    """
    from pulumi.runtime import proto

    environment = {
        **os.environ,
        "PULUMI_PROJECT": "shipshape",
        "PULUMI_STACK": "dev",
        "PULUMI_DRY_RUN": "true",
        "PULUMI_CONFIG": "{}",
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "__main__.py"],
        cwd=POLICIES,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode().strip()
        if not line.isdigit():
            raise AssertionError(
                f"pack did not print a port: {line!r} {process.stderr.read().decode() if process.stderr else ''}"
            )
        channel = grpc.insecure_channel(
            f"127.0.0.1:{line}", options=[("grpc.max_send_message_length", 64 * 1024 * 1024)]
        )
        grpc.channel_ready_future(channel).result(timeout=10)
        yield proto.AnalyzerStub(channel), time.perf_counter() - started
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
