"""The real image, built by a real engine and run as ECS runs it."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.app.conftest import slow_request
from tests.image.conftest import get
from tests.image.engine import Engine

pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(3600)]

APP_UID = 10001
# Written by the container's own python as UID 10001: every write outside /tmp must fail with EROFS.
WRITE_PROBE = """
import errno, sys
refused = []
for path in ("/probe", "/app/probe", "/etc/probe", "/opt/venv/probe"):
    try:
        open(path, "w").close()
    except OSError as error:
        refused.append((path, errno.errorcode[error.errno]))
    else:
        refused.append((path, "WRITTEN"))
with open("/tmp/probe", "w") as scratch:
    scratch.write("ok")
print(refused)
"""


def _inspect(engine: Engine, name: str) -> dict:
    return json.loads(engine.docker("inspect", name).stdout)[0]


def _status_fields(pid: str) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def test_image_config_runs_the_server_as_uid_10001_with_a_healthcheck(engine, app_image):
    config = _inspect(engine, app_image)["Config"]

    assert config["User"] == f"{APP_UID}:{APP_UID}"
    assert config["Cmd"] == ["python", "-m", "visits.server"]
    assert list(config["ExposedPorts"]) == ["8000/tcp"]
    assert config["Healthcheck"]["Test"][:3] == ["CMD", "python", "-c"]
    assert "PYTHONDONTWRITEBYTECODE=1" in config["Env"]


def test_serves_its_endpoints_under_the_task_definitions_restrictions(engine, app_image, run_container):
    container = run_container(app_image, APP_VERSION="image-test")

    index = get(container.port, "/")
    health = get(container.port, "/health")
    ready = get(container.port, "/ready")

    assert index[0] == 200 and index[1]["visits"] == 1 and index[1]["version"] == "image-test"
    assert health == (200, {"status": "ok"})
    assert ready[0] == 200 and ready[1]["status"] == "ready"


def test_every_process_runs_as_uid_10001_without_capabilities(engine, app_image, run_container):
    container = run_container(app_image)

    pids = engine.docker("top", container.name, "-o", "pid").stdout.split()[1:]
    statuses = {pid: _status_fields(pid) for pid in pids}

    # The server's main process and at least two workers.
    assert len(pids) >= 3, pids
    for pid, status in statuses.items():
        # real, effective, saved and filesystem IDs alike
        assert status["Uid"].split() == [str(APP_UID)] * 4, (pid, status["Name"], status["Uid"])
        assert status["Gid"].split() == [str(APP_UID)] * 4, (pid, status["Name"], status["Gid"])
        assert int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0, (pid, status["CapEff"])
        assert status["NoNewPrivs"] == "1", pid


def test_root_filesystem_cannot_be_written_and_tmp_can(engine, app_image, run_container):
    container = run_container(app_image)

    probe = engine.docker("exec", container.name, "python", "-c", WRITE_PROBE)

    assert probe.stdout.strip() == str(
        [("/probe", "EROFS"), ("/app/probe", "EROFS"), ("/etc/probe", "EROFS"), ("/opt/venv/probe", "EROFS")]
    )


def test_the_images_own_healthcheck_turns_healthy(engine, app_image, run_container):
    container = run_container(app_image)
    healthcheck = _inspect(engine, container.name)["Config"]["Healthcheck"]
    # The first probe runs one interval after start; allow two intervals and a timeout.
    interval = healthcheck["Interval"] / 1e9
    deadline = time.monotonic() + 2 * interval + healthcheck["Timeout"] / 1e9 + 10

    state = _inspect(engine, container.name)["State"]
    while state["Health"]["Status"] == "starting" and time.monotonic() < deadline:
        time.sleep(1)
        state = _inspect(engine, container.name)["State"]

    assert state["Health"]["Status"] == "healthy", state["Health"]
    assert state["Health"]["Log"][-1]["ExitCode"] == 0


def _threads_sleeping_in_requests(engine: Engine, name: str) -> int:
    """Threads of the container blocked in a kernel sleep: the /slow requests inside time.sleep."""
    count = 0
    for pid in engine.docker("top", name, "-o", "pid").stdout.split()[1:]:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                if "nanosleep" in (task / "wchan").read_text():
                    count += 1
            except FileNotFoundError:
                continue  # the thread ended between listing and reading
    return count


def test_docker_stop_finishes_in_flight_requests_and_exits_zero(engine, app_image, run_container):
    # Requests long enough that all of them are in flight together even on a loaded machine (the server
    # starts its request threads on demand), and a graceful timeout longer than a whole request.
    graceful_timeout, requests, request_seconds = 25, 50, 15
    # As many threads per worker as requests: however the two workers share the connections out,
    # every request runs at once and none waits in a worker's queue.
    container = run_container(
        app_image, SLOW_ENDPOINT_ENABLED="1", GRACEFUL_TIMEOUT=str(graceful_timeout),
        WEB_CONCURRENCY="2", WEB_THREADS=str(requests),
    )  # fmt: skip

    with ThreadPoolExecutor(max_workers=requests) as pool:
        started_at = time.monotonic()
        pending = [pool.submit(slow_request, container.port, request_seconds) for _ in range(requests)]
        # Stop only once every request is inside the app, sleeping: none can still be on its way in.
        sleeping = _threads_sleeping_in_requests(engine, container.name)
        while sleeping < requests and time.monotonic() < started_at + request_seconds - 3:
            time.sleep(0.1)
            sleeping = _threads_sleeping_in_requests(engine, container.name)
        assert sleeping == requests, f"{sleeping} of {requests} requests were in the app at once"
        stopped_at = time.monotonic()
        # docker's own kill comes 40 s after its SIGTERM: the server must finish before, on its own.
        engine.docker("stop", "--time", "40", container.name)
        stop_seconds = time.monotonic() - stopped_at
        results = [future.result(timeout=60) for future in pending]

    state = _inspect(engine, container.name)["State"]
    assert [status for status, _ in results] == [200] * requests
    assert all(finished > stopped_at for _, finished in results)
    assert (state["ExitCode"], state["OOMKilled"]) == (0, False)
    assert stop_seconds < graceful_timeout
