"""The shipped server (visits/server.py, granian): settings from the environment, and a live server that
logs JSON, drains on SIGTERM, keeps serving through a slowloris and refuses malformed requests without HTML."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.app.conftest import server_command, slow_request
from visits.server import ServerConfigError, server_options
from visits.settings import ConfigError

APP_DIR = Path(__file__).resolve().parents[2] / "app"


def _options(**env: str) -> dict:
    return server_options(env)


def test_defaults_suit_an_ecs_task():
    options = _options()

    assert (options["address"], options["port"]) == ("0.0.0.0", 8000)
    assert (options["target"], options["factory"], str(options["interface"])) == ("visits:create_app", True, "wsgi")
    assert options["workers"] >= 2
    assert options["blocking_threads"] == 4
    # ECS sends SIGKILL after stopTimeout (default 30 s): draining must finish first.
    assert options["workers_kill_timeout"] == 20
    # Also the keep-alive idle limit: at least the ALB's default 60 s idle timeout, so the ALB closes first.
    assert options["http1_settings"].header_read_timeout == 60_000
    assert options["http1_settings"].keep_alive is True
    assert options["respawn_failed_workers"] is True


def test_settings_come_from_the_environment():
    options = _options(
        BIND_ADDRESS="127.0.0.1",
        PORT="9000",
        WEB_CONCURRENCY="3",
        WEB_THREADS="8",
        GRACEFUL_TIMEOUT="12",
        HEADER_TIMEOUT="5",
    )

    assert options["address"] == "127.0.0.1"
    assert (options["port"], options["workers"], options["blocking_threads"], options["workers_kill_timeout"]) == (
        9000,
        3,
        8,
        12,
    )
    assert options["http1_settings"].header_read_timeout == 5000


def test_workers_follow_the_cgroup_cpu_quota(monkeypatch):
    # Fargate shows the host's CPUs; a task limited to 3 CPUs has a cgroup quota of three periods.
    monkeypatch.setattr(Path, "read_text", lambda self, *args, **kwargs: "300000 100000\n")

    assert _options()["workers"] == 3


def test_workers_never_drop_below_two(monkeypatch):
    # A quarter-vCPU task still gets two workers, so one crashing does not take the task offline.
    monkeypatch.setattr(Path, "read_text", lambda self, *args, **kwargs: "25000 100000\n")

    assert _options()["workers"] == 2


def test_server_logs_are_json_at_the_app_level():
    options = _options(LOG_LEVEL="WARNING")

    config = options["log_dictconfig"]
    assert options["log_level"].value == "warning"
    assert config["formatters"]["json"]["()"] == "visits.logs.JsonFormatter"
    assert config["loggers"]["_granian"] == {"handlers": ["json"], "level": "WARNING", "propagate": False}
    # The app writes the access log (visits.access_log) with its request id; granian's would be a template.
    assert options["log_access"] is False


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BIND_ADDRESS", "localhost:80"),
        ("PORT", "http"),
        ("PORT", "70000"),
        ("WEB_CONCURRENCY", "0"),
        ("WEB_THREADS", "many"),
        ("GRACEFUL_TIMEOUT", "-5"),
        ("HEADER_TIMEOUT", "0"),
        ("HEADER_TIMEOUT", "61"),
    ],
)
def test_bad_server_values_name_the_variable(name, value):
    with pytest.raises(ServerConfigError) as raised:
        _options(**{name: value})

    assert name in str(raised.value)
    assert repr(value) in str(raised.value)


def test_a_bad_app_setting_is_refused_before_the_server_starts():
    with pytest.raises(ConfigError) as raised:
        _options(COUNTER_TABLE="visits")

    assert "COUNTER_TABLE" in str(raised.value)
    assert "AWS_REGION" in str(raised.value)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "value"), [("WEB_CONCURRENCY", "zero"), ("LOG_LEVEL", "loud")])
def test_a_bad_value_stops_the_server_with_one_line_and_no_traceback(name, value):
    result = subprocess.run(
        server_command(), cwd=APP_DIR, env={**os.environ, name: value}, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("visits.server: ") and name in line and value in line


def _dockerfile_healthcheck() -> list[str]:
    text = (APP_DIR / "Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", text, re.MULTILINE)
    assert match, "Dockerfile has no exec-form HEALTHCHECK"
    return json.loads(match.group(1))


@pytest.mark.slow
def test_live_server_serves_json_logs_json_and_passes_the_image_healthcheck(start_server, http_get):
    server = start_server(WEB_CONCURRENCY="2", APP_VERSION="live-1")

    status, headers, body = http_get(server.port, "/", headers={"X-Request-Id": "live-req-1"})
    healthcheck = _dockerfile_healthcheck()
    assert healthcheck[0] == "python"
    probe = subprocess.run([sys.executable, *healthcheck[1:]], env={**os.environ, "PORT": str(server.port)}, timeout=30)
    exit_code = server.stop()

    assert status == 200
    assert headers["x-request-id"] == "live-req-1"
    assert json.loads(body)["version"] == "live-1"
    assert probe.returncode == 0
    assert exit_code == 0
    records = server.log_records()  # every line, the server's own included, must parse as JSON
    assert any(record["logger"].startswith("_granian") for record in records)
    access = [record for record in records if record.get("request_id") == "live-req-1"]
    assert [(record["logger"], record["path"], record["status"]) for record in access] == [("visits.access", "/", 200)]


@pytest.mark.slow
def test_image_healthcheck_fails_when_nothing_answers(free_port):
    healthcheck = _dockerfile_healthcheck()

    probe = subprocess.run(
        [sys.executable, *healthcheck[1:]],
        env={**os.environ, "PORT": str(free_port())},
        capture_output=True,
        timeout=30,
    )

    assert probe.returncode != 0


@pytest.mark.slow
def test_sigterm_drains_in_flight_requests_then_exits_cleanly(start_server, http_get):
    graceful_timeout = 15
    server = start_server(
        WEB_CONCURRENCY="2",
        WEB_THREADS="32",  # 64 threads: all 50 requests run at once
        GRACEFUL_TIMEOUT=str(graceful_timeout),
        SLOW_ENDPOINT_ENABLED="1",
    )

    with ThreadPoolExecutor(max_workers=50) as pool:
        pending = [pool.submit(slow_request, server.port, 3) for _ in range(50)]
        # Every request accepted and sleeping in the app: the access log has none of them yet.
        time.sleep(1.5)
        assert not any(future.done() for future in pending)
        terminated_at = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        results = [future.result(timeout=60) for future in pending]
        exit_code = server.process.wait(timeout=graceful_timeout + 30)
    exited_at = time.monotonic()

    assert [status for status, _ in results] == [200] * 50
    assert all(finished_at > terminated_at for _, finished_at in results)
    assert exit_code == 0
    assert exited_at - terminated_at < graceful_timeout
    with pytest.raises(OSError):
        http_get(server.port, "/health", timeout=2)  # stopped listening


class _Slowloris:
    """Connections that send a request's headers one short line at a time, never finishing them."""

    def __init__(self, port: int, connections: int, interval: float) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(connections)]
        self.interval = interval
        self.closed_by_server: set[int] = set()
        self._stop = threading.Event()
        for sock in self.sockets:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: visits\r\n")
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        line = 0
        while not self._stop.wait(self.interval):
            line += 1
            for index, sock in enumerate(self.sockets):
                if index in self.closed_by_server:
                    continue
                try:
                    sock.sendall(b"X-Slow-%d: x\r\n" % line)
                except OSError:
                    self.closed_by_server.add(index)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


@pytest.mark.slow
def test_a_slowloris_does_not_starve_normal_requests(start_server, http_get):
    # One worker with two Python threads: if slow-header connections held threads, 64 of them would
    # leave nothing for the normal requests below. The header deadline is longer than this test.
    server = start_server(WEB_CONCURRENCY="1", WEB_THREADS="2", HEADER_TIMEOUT="60")
    slowloris = _Slowloris(server.port, connections=64, interval=0.5)
    try:
        time.sleep(1.0)  # every slow connection accepted and mid-headers
        statuses = [http_get(server.port, "/", timeout=10)[0] for _ in range(20)]
        still_open = len(slowloris.sockets) - len(slowloris.closed_by_server)
    finally:
        slowloris.close()

    assert statuses == [200] * 20
    assert still_open == 64  # they were really there, holding connections, the whole time


@pytest.mark.slow
def test_a_client_that_never_finishes_its_headers_is_cut_off(start_server):
    server = start_server(HEADER_TIMEOUT="2")
    slowloris = _Slowloris(server.port, connections=4, interval=0.25)
    try:
        # The server closes each connection after HEADER_TIMEOUT; generous margin for a loaded machine.
        deadline = time.monotonic() + 30
        while len(slowloris.closed_by_server) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        closed = len(slowloris.closed_by_server)
    finally:
        slowloris.close()

    assert closed == 4


def _raw_exchange(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"NOT-HTTP\r\n\r\n", 400),
        (b"GET /\x01 HTTP/1.1\r\nHost: visits\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: visits\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n", 431),
    ],
    ids=["bad-request-line", "control-character-in-path", "too-many-headers"],
)
def test_requests_the_server_cannot_parse_are_refused_without_html(start_server, payload, status):
    server = start_server()

    answer = _raw_exchange(server.port, payload)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"content-length: 0" in head.lower()
    assert body == b""
    # The connection is closed after the refusal, and nothing reached the app (only the start-up probe).
    paths = [record["path"] for record in server.log_records() if record["logger"] == "visits.access"]
    assert set(paths) == {"/health"}
