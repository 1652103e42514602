"""Shared fixtures for the visit-counter tests: app/ on sys.path, free ports, servers that stop in teardown."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

APP_DIR = Path(__file__).resolve().parents[2] / "app"
# The image runs gunicorn with app/ as the working directory; tests import the package the same way.
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

from flask import Flask  # noqa: E402

from visits import create_app  # noqa: E402


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _http_get(
    port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """A port on 127.0.0.1 nothing listens on right now."""
    return _free_port


@pytest.fixture
def http_get() -> Callable[..., tuple[int, dict[str, str], bytes]]:
    """GET 127.0.0.1:<port><path> over a fresh connection: (status, headers, body)."""
    return _http_get


@pytest.fixture(autouse=True)
def _no_ambient_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests must never pick up the developer's AWS profile or the CI's table settings.
    for name in (
        "COUNTER_TABLE",
        "COUNTER_KEY",
        "APP_VERSION",
        "LOG_LEVEL",
        "SLOW_ENDPOINT_ENABLED",
        "DYNAMODB_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def make_app(capsys: pytest.CaptureFixture[str]) -> Callable[..., Flask]:
    """create_app with TESTING on; depends on capsys so the app's log handler writes where capsys reads."""

    def build(**config: Any) -> Flask:
        return create_app({"TESTING": True, **config})

    return build


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str]) -> Callable[[], list[dict[str, Any]]]:
    """Every stdout line so far, each parsed as JSON (a line that is not JSON fails the test)."""

    def read() -> list[dict[str, Any]]:
        out = capsys.readouterr().out
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    return read


@dataclass
class Gunicorn:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def stop(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return self.process.returncode

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]


def wait_until_healthy(server: Gunicorn, deadline_seconds: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {server.process.returncode}:\n{server.log_path.read_text()}")
        try:
            status, _, _ = _http_get(server.port, "/health", timeout=1.0)
        except OSError:
            time.sleep(0.1)
            continue
        if status == 200:
            return
    raise AssertionError(f"gunicorn did not answer /health within {deadline_seconds} s")


@pytest.fixture
def start_gunicorn(tmp_path: Path) -> Iterator[Callable[..., Gunicorn]]:
    """Start gunicorn with app/gunicorn.conf.py on 127.0.0.1:<free port>; every server stops in teardown."""
    started: list[Gunicorn] = []

    def start(**env: str) -> Gunicorn:
        port = _free_port()
        log_path = tmp_path / f"gunicorn-{port}.log"
        environment = {**os.environ, "PORT": str(port), **env}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--config",
                    "gunicorn.conf.py",
                    "--bind",
                    f"127.0.0.1:{port}",
                ],
                cwd=APP_DIR,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = Gunicorn(process=process, port=port, log_path=log_path)
        started.append(server)
        wait_until_healthy(server)
        return server

    yield start
    for server in started:
        server.stop()
