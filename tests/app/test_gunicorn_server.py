"""gunicorn with app/gunicorn.conf.py: settings from the environment, and a live server that drains on SIGTERM."""

from __future__ import annotations

import http.client
import json
import os
import re
import runpy
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[2] / "app"
CONFIG = APP_DIR / "gunicorn.conf.py"
GUNICORN_ENV = ("PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GRACEFUL_TIMEOUT", "LOG_LEVEL")


@pytest.fixture
def load_config(monkeypatch):
    for name in GUNICORN_ENV:
        monkeypatch.delenv(name, raising=False)

    def load(**env: str) -> dict:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(CONFIG))

    return load


def test_config_defaults_suit_an_ecs_task(load_config):
    config = load_config()

    assert config["bind"] == "0.0.0.0:8000"
    assert config["wsgi_app"] == "visits:create_app()"
    assert config["worker_class"] == "gthread"
    assert config["workers"] >= 2
    assert config["threads"] == 4
    # ECS sends SIGKILL after stopTimeout (default 30 s): draining must finish first.
    assert config["graceful_timeout"] == 20
    assert config["keepalive"] > 60  # longer than the ALB's idle timeout
    assert config["logger_class"] == "visits.gunicorn_logger.JsonAccessLogger"


def test_config_reads_the_environment(load_config):
    config = load_config(PORT="9000", WEB_CONCURRENCY="3", GUNICORN_THREADS="8", GRACEFUL_TIMEOUT="12")

    assert (config["bind"], config["workers"], config["threads"], config["graceful_timeout"]) == (
        "0.0.0.0:9000",
        3,
        8,
        12,
    )


def test_workers_follow_the_cgroup_cpu_quota(load_config, monkeypatch):
    # Fargate shows the host's CPUs; a task limited to 3 CPUs has a cgroup quota of three periods.
    monkeypatch.setattr(Path, "read_text", lambda self, *args, **kwargs: "300000 100000\n")

    assert load_config()["workers"] == 3


def test_workers_never_drop_below_two(load_config, monkeypatch):
    # A quarter-vCPU task still gets two workers, so one crashing does not take the task offline.
    monkeypatch.setattr(Path, "read_text", lambda self, *args, **kwargs: "25000 100000\n")

    assert load_config()["workers"] == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [("PORT", "http"), ("WEB_CONCURRENCY", "0"), ("GRACEFUL_TIMEOUT", "-5"), ("LOG_LEVEL", "loud")],
)
def test_bad_values_stop_gunicorn_with_a_message_naming_the_variable(load_config, name, value):
    with pytest.raises(SystemExit) as raised:
        load_config(**{name: value})

    assert name in str(raised.value)
    assert value in str(raised.value)


def test_a_bad_app_setting_stops_gunicorn_before_any_worker_boots(load_config, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)

    with pytest.raises(SystemExit) as raised:
        load_config(COUNTER_TABLE="visits")

    assert "COUNTER_TABLE" in str(raised.value)
    assert "AWS_REGION" in str(raised.value)


def test_heartbeat_files_live_in_shared_memory_when_it_exists(load_config):
    expected = "/dev/shm" if os.path.isdir("/dev/shm") else None

    assert load_config()["worker_tmp_dir"] == expected


def test_heartbeat_files_fall_back_to_tmp_without_shared_memory(load_config, monkeypatch):
    real_isdir = os.path.isdir
    monkeypatch.setattr(os.path, "isdir", lambda path: False if path == "/dev/shm" else real_isdir(path))

    assert load_config()["worker_tmp_dir"] is None


def _dockerfile_healthcheck() -> list[str]:
    text = (APP_DIR / "Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", text, re.MULTILINE)
    assert match, "Dockerfile has no exec-form HEALTHCHECK"
    return json.loads(match.group(1))


@pytest.mark.slow
def test_live_server_serves_json_logs_and_passes_the_image_healthcheck(start_gunicorn, http_get):
    server = start_gunicorn(WEB_CONCURRENCY="2", APP_VERSION="live-1")

    status, headers, body = http_get(server.port, "/", headers={"X-Request-Id": "live-req-1"})
    healthcheck = _dockerfile_healthcheck()
    assert healthcheck[0] == "python"
    probe = subprocess.run([sys.executable, *healthcheck[1:]], env={**os.environ, "PORT": str(server.port)}, timeout=30)
    exit_code = server.stop()

    assert status == 200
    assert headers["X-Request-Id"] == "live-req-1"
    assert json.loads(body)["version"] == "live-1"
    assert probe.returncode == 0
    assert exit_code == 0
    records = server.log_records()  # every line must parse as JSON
    access = [record for record in records if record.get("request_id") == "live-req-1"]
    assert [(record["logger"], record["path"], record["status"]) for record in access] == [
        ("gunicorn.access", "/", 200)
    ]


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


def _slow_request(port: int, seconds: float) -> tuple[int, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", f"/slow?seconds={seconds}")
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic()
    finally:
        connection.close()


@pytest.mark.slow
def test_sigterm_drains_in_flight_requests_then_exits_cleanly(start_gunicorn):
    graceful_timeout = 10
    server = start_gunicorn(
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="32",  # 64 threads: all 50 requests run at once
        GRACEFUL_TIMEOUT=str(graceful_timeout),
        SLOW_ENDPOINT_ENABLED="1",
    )

    with ThreadPoolExecutor(max_workers=50) as pool:
        pending = [pool.submit(_slow_request, server.port, 3) for _ in range(50)]
        time.sleep(1.0)  # every request accepted and sleeping in the app
        assert not any(future.done() for future in pending)
        terminated_at = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        results = [future.result(timeout=30) for future in pending]
        exit_code = server.process.wait(timeout=graceful_timeout + 5)
    exited_at = time.monotonic()

    assert [status for status, _ in results] == [200] * 50
    assert all(finished_at > terminated_at for _, finished_at in results)
    assert exit_code == 0
    assert exited_at - terminated_at < graceful_timeout
