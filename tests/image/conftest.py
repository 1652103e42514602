"""Session fixtures for the image suite: the engine and registry, the test base, the built app image.

The suite installs what it needs (Debian packages, as root) and skips with the reason when it cannot:
not root, or no apt-get. Every server it starts is stopped by PID at the end of the session.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.image import engine as engine_module
from tests.image.engine import APP_DIR, REGISTRY_HOST, REPOSITORY, Engine, EngineUnavailable

# Seconds spent in each setup step, shown at the end of the run (README quotes them).
TIMINGS: dict[str, float] = {}


def pytest_terminal_summary(terminalreporter) -> None:
    if TIMINGS:
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in TIMINGS.items())
        terminalreporter.write_line(f"image suite setup: {steps}")


def _timed(name: str, seconds: float) -> None:
    TIMINGS[name] = round(seconds, 1)


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    try:
        _timed("apt installs", engine_module.ensure_packages())
    except EngineUnavailable as reason:
        pytest.skip(f"no container engine: {reason}")
    # Short and outside pytest's tmp tree: dockerd's socket path must stay under 108 bytes.
    workdir = Path(tempfile.mkdtemp(prefix="shipshape-engine-", dir="/tmp"))
    started = time.monotonic()
    try:
        with engine_module.started(workdir) as running:
            _timed("engine and registry start", time.monotonic() - started)
            yield running
            stopping = time.monotonic()
        _timed("engine and registry stop", time.monotonic() - stopping)
    finally:
        removing = time.monotonic()
        shutil.rmtree(workdir, ignore_errors=True)
        _timed("scratch removal", time.monotonic() - removing)


@pytest.fixture(scope="session")
def base_image(engine: Engine) -> str:
    tarball, seconds = engine_module.base_tarball()
    _timed("debootstrap base" if seconds else "base from cache", seconds)
    started = time.monotonic()
    name = engine_module.import_base(engine, tarball)
    _timed("docker import", time.monotonic() - started)
    return name


@pytest.fixture(scope="session")
def app_image(engine: Engine, base_image: str) -> str:
    """The app built from app/ exactly as users build it, with BASE_IMAGE pointing at the test base.

    Returns the image ID (content-addressed), which stays valid after the image is pulled back by digest.
    """
    started = time.monotonic()
    engine.docker(
        "build", "--progress=plain", "--build-arg", f"BASE_IMAGE={base_image}",
        "--tag", "shipshape/web:under-test", str(APP_DIR),
        timeout=1200,
    )  # fmt: skip
    _timed("image build", time.monotonic() - started)
    return engine.docker("image", "inspect", "--format", "{{.Id}}", "shipshape/web:under-test").stdout.strip()


@dataclass(frozen=True)
class Pushed:
    reference: str
    """`<registry>/<repository>@sha256:...`, as the host's user data receives it."""
    digest: str


@pytest.fixture(scope="session")
def pushed(engine: Engine, app_image: str) -> Pushed:
    """The app image pushed to the registry with the run's login; the client is logged out afterwards."""
    registry = engine.registry
    tag = f"{REGISTRY_HOST}/{REPOSITORY}:{app_image.removeprefix('sha256:')[:12]}"
    engine.docker("login", "--username", registry.username, "--password-stdin", REGISTRY_HOST, input=registry.password)
    try:
        engine.docker("tag", app_image, tag)
        output = engine.docker("push", tag, timeout=600).stdout
    finally:
        engine.docker("logout", REGISTRY_HOST)
    # docker push ends with "<tag>: digest: sha256:<hex> size: <n>"
    digest = re.search(r": digest: (sha256:[0-9a-f]{64}) size: ", output)
    assert digest, f"no digest in docker push's output:\n{output}"
    return Pushed(reference=f"{REGISTRY_HOST}/{REPOSITORY}@{digest[1]}", digest=digest[1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str, timeout: float = 10.0) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def wait_for_health(port: int, container: str, engine: Engine, deadline_seconds: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        try:
            if get(port, "/health", timeout=2)[0] == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.3)
    logs = engine.docker("logs", container, check=False)
    raise AssertionError(f"{container} did not answer /health in {deadline_seconds} s:\n{logs.stdout}{logs.stderr}")


# How ECS runs the task (components/web_service.py): read-only root, a tmpfs /tmp, UID 10001, no
# capabilities, no privilege gain through setuid binaries.
HARDENED = (
    "--read-only", "--tmpfs", "/tmp", "--user", "10001",
    "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
)  # fmt: skip


@dataclass(frozen=True)
class Container:
    name: str
    port: int


@pytest.fixture
def run_container(engine: Engine) -> Iterator:
    """run(image, **env): the image started as ECS runs it, published on a free port; removed in teardown."""
    names: list[str] = []

    def start(image: str, **env: str) -> Container:
        port = free_port()
        name = f"shipshape-test-{port}"
        environment = [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]
        engine.docker(
            "run", "--detach", "--name", name, *HARDENED, "--publish", f"127.0.0.1:{port}:8000", *environment, image
        )
        names.append(name)
        wait_for_health(port, name, engine)
        return Container(name=name, port=port)

    yield start
    if names:
        engine.docker("rm", "--force", *names, check=False)
