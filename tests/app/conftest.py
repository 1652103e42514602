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

import boto3
import pytest

APP_DIR = Path(__file__).resolve().parents[2] / "app"
# The image runs the server with app/ as the working directory; tests import the package the same way.
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


def slow_request(port: int, seconds: float) -> tuple[int, float]:
    """GET /slow?seconds=N from the app on 127.0.0.1:port (the server's and the image's drain tests): the
    status and when the answer came."""
    status, _, _ = _http_get(port, f"/slow?seconds={seconds}", timeout=60)
    return status, time.monotonic()


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
class Server:
    """The shipped server (`python -m visits.server`, as the image runs it) on 127.0.0.1:<port>."""

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


def wait_until_healthy(server: Server, deadline_seconds: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"the server exited with {server.process.returncode}:\n{server.log_path.read_text()}")
        try:
            status, _, _ = _http_get(server.port, "/health", timeout=1.0)
        except OSError:
            time.sleep(0.1)
            continue
        if status == 200:
            return
    raise AssertionError(f"the server did not answer /health within {deadline_seconds} s")


def server_command() -> list[str]:
    """The image's CMD, run with this interpreter from app/ (the image's working directory)."""
    return [sys.executable, "-m", "visits.server"]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start the shipped server on a free port with `env` added; every server stops (by PID) in teardown."""
    started: list[Server] = []

    def start(**env: str) -> Server:
        port = _free_port()
        log_path = tmp_path / f"server-{port}.log"
        environment = {**os.environ, "BIND_ADDRESS": "127.0.0.1", "PORT": str(port), **env}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                server_command(), cwd=APP_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        server = Server(process=process, port=port, log_path=log_path)
        started.append(server)
        wait_until_healthy(server)
        return server

    yield start
    for server in started:
        server.stop()


REGION = "eu-west-1"


@dataclass
class MotoServer:
    """A real moto server process on 127.0.0.1 (moto's `moto_server` entry point)."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        # moto keeps its backends for the life of the process: forget every table.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("POST", "/moto-api/reset")
            connection.getresponse().read()
        finally:
            connection.close()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One moto server process for the session, stopped by PID at the end."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
        )
    server = MotoServer(process=process, port=port)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"moto server exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                server.reset()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"moto server did not answer within 60 s:\n{log_path.read_text()}") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def counter_table(moto_server: MotoServer) -> Iterator[str]:
    """A fresh counter table (partition key `pk`, a string) in the moto server; all tables go afterwards."""
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_server.endpoint)
    client.create_table(
        TableName="visits",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield "visits"
    moto_server.reset()


def stored_count(endpoint: str, table: str, key: str = "visits") -> int:
    """The counter item's number as the table holds it (a strongly consistent read)."""
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
    item = client.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")
    return int(item["visits"]["N"]) if item else 0
