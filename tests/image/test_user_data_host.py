"""The host's user data against the real engine and registry.

Only what an Amazon Linux host has and this machine cannot have is faked (tests/image/host_tools):
dnf, systemd's systemctl, the AWS CLI and the ECR credential helper's call to ECR (it answers docker's
credential-helper protocol with the test registry's password). docker, its use of the helper, the
registry's check of the credentials, the pull by digest, the hardened `docker run` from the systemd
unit, curl's health wait and every sleep are real. The script
reaches the test's dockerd through DOCKER_HOST and keeps its files under SHIPSHAPE_ROOT.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.user_data import render_user_data
from tests.image.conftest import free_port, get
from tests.image.engine import REGISTRY_HOST, REPOSITORY, Engine

pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(3600)]

HOST_TOOLS = Path(__file__).resolve().parent / "host_tools"
CONTAINER = "shipshape-app"
UNIT = "shipshape-app.service"
REGION = "eu-west-1"
INSTANCE_ID = "i-0123456789abcdef0"
REPORT_UNHEALTHY = (
    f"aws autoscaling set-instance-health --region {REGION} --instance-id {INSTANCE_ID} "
    "--health-status Unhealthy --no-should-respect-grace-period --cli-connect-timeout 10"
)


@dataclass
class HostRun:
    process: subprocess.Popen
    env: dict[str, str]
    root: Path
    state: Path
    home: Path

    def wait(self, timeout: float = 600) -> HostRun:
        self.process.wait(timeout=timeout)
        return self

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    @property
    def log(self) -> str:
        path = self.root / "var/log/shipshape-bootstrap.log"
        return path.read_text() if path.exists() else ""

    @property
    def calls(self) -> list[str]:
        path = self.state / "calls"
        return path.read_text().splitlines() if path.exists() else []

    def systemctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(HOST_TOOLS / "systemctl"), *args], env=self.env, capture_output=True, text=True, timeout=120
        )


@pytest.fixture
def boot(engine: Engine, tmp_path: Path) -> Iterator[Callable[..., HostRun]]:
    """boot(script, ecr_password, name): start the rendered script as cloud-init would (bash, as root)."""
    runs: list[HostRun] = []

    def start(script: str, ecr_password: str, name: str = "host") -> HostRun:
        base = tmp_path / name
        root, state, home = base / "root", base / "state", base / "home"
        for directory in (root, state, home, state / "secrets"):
            directory.mkdir(parents=True)
        # The secret the role may read (tests/image/host_tools/aws answers from here).
        (state / "secrets" / SECRET_ARN.replace(":", "_").replace("/", "_")).write_text(f"{SECRET_VALUE}\n")
        # What cloud-init writes before user data runs.
        (root / "var/lib/cloud/data").mkdir(parents=True)
        (root / "var/lib/cloud/data/instance-id").write_text(f"{INSTANCE_ID}\n")
        (base / "user-data.sh").write_text(script)
        env = {
            "PATH": f"{HOST_TOOLS}:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(home),
            "SHIPSHAPE_ROOT": str(root),
            # The host's docker CLI talks to /var/run/docker.sock; here, to the test's engine.
            "DOCKER_HOST": engine.env["DOCKER_HOST"],
            "FAKE_STATE": str(state),
            "FAKE_ECR_PASSWORD": ecr_password,
        }
        process = subprocess.Popen(
            ["/bin/bash", str(base / "user-data.sh")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        run = HostRun(process=process, env=env, root=root, state=state, home=home)
        runs.append(run)
        return run

    yield start
    for run in runs:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        if (run.state / "unit.pid").exists():
            stopped = run.systemctl("stop", UNIT)
            assert stopped.returncode == 0, stopped.stderr
    engine.docker("rm", "--force", CONTAINER, check=False)


SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shipshape/api-key-AbCdEf"
SECRET_VALUE = "s3cr3t-value-for-the-host-test"


def _render(reference: str, port: int) -> str:
    return render_user_data(
        region=REGION,
        registry=REGISTRY_HOST,
        image_reference=reference,
        port=port,
        app_version="host-test",
        environment={"FEATURE_FLAG": "on"},
        secrets={"API_KEY": SECRET_ARN},
    )


def _forget_local_copies(engine: Engine, reference: str) -> None:
    """The host starts without the image: the bootstrap's own pull must fetch it."""
    found = engine.docker("image", "inspect", reference, check=False)
    if found.returncode == 0:
        engine.docker("image", "rm", "--force", json.loads(found.stdout)[0]["Id"])


def test_bootstrap_pulls_by_digest_runs_hardened_and_waits_for_health(engine, pushed, boot):
    _forget_local_copies(engine, pushed.reference)
    port = free_port()

    host = boot(_render(pushed.reference, port), engine.registry.password).wait()

    assert host.returncode == 0, host.log
    assert f"done: the app is running and healthy on port {port}" in host.log
    assert f"Status: Downloaded newer image for {pushed.reference}" in host.log
    # docker asked the credential helper, and kept nothing: no `docker login`, no token in any file.
    assert "docker-credential-ecr-login get" in host.calls
    assert not any(call.startswith("aws autoscaling") for call in host.calls)
    config = json.loads((host.home / ".docker/config.json").read_text())
    assert config == {"credHelpers": {REGISTRY_HOST: "ecr-login"}}
    assert engine.registry.password not in host.log
    for path in [*host.root.rglob("*"), *host.home.rglob("*")]:
        if path.is_file() and path.name != "secrets.env":
            assert engine.registry.password not in path.read_text(errors="replace"), path
    container = json.loads(engine.docker("inspect", CONTAINER).stdout)[0]
    assert container["Config"]["Image"] == pushed.reference
    assert container["Config"]["User"] == "10001"
    assert container["HostConfig"]["ReadonlyRootfs"] is True
    assert container["HostConfig"]["CapDrop"] == ["ALL"]
    assert container["HostConfig"]["SecurityOpt"] == ["no-new-privileges"]
    assert list(container["HostConfig"]["Tmpfs"]) == ["/tmp"]
    status, body = get(port, "/")
    assert (status, body["version"]) == (200, "host-test")
    # The plain setting and the secret reached the app's processes; the secret only through /run.
    printed = engine.docker(
        "exec", CONTAINER, "python", "-c", "import os; print(os.environ['FEATURE_FLAG'], os.environ['API_KEY'])"
    )
    assert printed.stdout.split() == ["on", SECRET_VALUE]
    secrets_env = host.root / "run/shipshape/secrets.env"
    assert secrets_env.stat().st_mode & 0o777 == 0o600
    assert SECRET_VALUE not in (host.root / "etc/shipshape/app.env").read_text()
    assert SECRET_VALUE not in host.log
    fetched = f"aws secretsmanager get-secret-value --region {REGION} --secret-id {SECRET_ARN}"
    assert f"{fetched} --query SecretString --output text" in host.calls


def test_bootstrap_fails_loudly_when_the_login_is_refused_or_the_image_is_missing(engine, pushed, boot):
    missing = f"{REGISTRY_HOST}/{REPOSITORY}@sha256:{hashlib.sha256(os.urandom(16)).hexdigest()}"
    # A pull by digest of an image the engine already holds never asks the registry: forget it first.
    _forget_local_copies(engine, pushed.reference)
    # Both run at once: each spends its minute of retries against the real registry.
    refused = boot(_render(pushed.reference, free_port()), "an-expired-token", name="refused")
    absent = boot(_render(missing, free_port()), engine.registry.password, name="absent")
    refused.wait()
    absent.wait()

    assert refused.returncode != 0
    assert "unauthorized: authentication required" in refused.log, refused.log
    assert "ERROR: docker pull failed 6 times; giving up" in refused.log
    assert f"FAILED during 'pull {pushed.reference}'" in refused.log
    assert refused.calls.count("docker-credential-ecr-login get") >= 6
    assert not any(call.startswith("systemctl restart") for call in refused.calls)
    assert REPORT_UNHEALTHY in refused.calls
    assert "reported this instance unhealthy" in refused.log

    assert absent.returncode != 0
    assert "manifest unknown" in absent.log, absent.log
    assert "ERROR: docker pull failed 6 times; giving up" in absent.log
    assert f"FAILED during 'pull {missing}'" in absent.log
    assert not any(call.startswith("systemctl restart") for call in absent.calls)
    assert REPORT_UNHEALTHY in absent.calls
