"""The host's bootstrap script: rendering and validation, shellcheck, and runs against fake host tools.

The sandbox runs the rendered script with bash and a PATH holding only the fakes
(tests/components/programs/fake_host_tool under each tool's name) and the few coreutils the script
really uses, so a call to anything else fails the run. SHIPSHAPE_ROOT moves the files it writes
into a scratch directory.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from components import user_data
from components.user_data import UserDataError, render_user_data

PROGRAMS = Path(__file__).resolve().parent / "programs"
SHELLCHECK = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "shellcheck"
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGE = f"{REGISTRY}/shipshape/web@{DIGEST}"
PASSWORD = "fake-ecr-token-Zq9v1LkP0s"
FAKED = ("dnf", "systemctl", "aws", "docker", "curl", "sleep")
# The real tools the script (and the fake, for itself) may use.
REAL = ("tee", "date", "mkdir", "dirname", "install", "cat", "chmod", "basename")
UNIT = "shipshape-app.service"


def render(**overrides) -> str:
    values = {
        "region": "eu-west-1",
        "registry": REGISTRY,
        "image_reference": IMAGE,
        "port": 8000,
        "counter_table": "visits-table-1a2b3c4",
        "app_version": "9f8e7d6c5b4a",
    }
    values.update(overrides)
    return render_user_data(**values)


@dataclass
class Run:
    returncode: int
    log: str
    calls: list[tuple[str, str, bool]]
    """(tool, arguments, whether the app's unit file existed at that moment), in call order."""
    root: Path

    def of(self, tool: str) -> list[str]:
        return [args for name, args, _unit in self.calls if name == tool]

    def without_sleeps(self) -> list[tuple[str, str]]:
        return [(name, args) for name, args, _unit in self.calls if name != "sleep"]


@pytest.fixture
def run_bootstrap(tmp_path: Path):
    def run(script: str | None = None, **fake_env: str) -> Run:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for name in FAKED:
            (bin_dir / name).symlink_to(PROGRAMS / "fake_host_tool")
        for name in REAL:
            found = shutil.which(name)
            assert found, f"the sandbox needs {name} on this machine"
            (bin_dir / name).symlink_to(found)
        root, state, home = tmp_path / "root", tmp_path / "state", tmp_path / "home"
        for directory in (root, state, home):
            directory.mkdir()
        script_path = tmp_path / "bootstrap.sh"
        script_path.write_text(script if script is not None else render(), encoding="utf-8")
        calls = tmp_path / "calls.tsv"
        env = {
            "PATH": str(bin_dir),
            "HOME": str(home),
            "SHIPSHAPE_ROOT": str(root),
            "FAKE_CALLS": str(calls),
            "FAKE_STATE": str(state),
            "FAKE_PASSWORD": PASSWORD,
            **fake_env,
        }
        bash = shutil.which("bash")
        assert bash
        completed = subprocess.run(
            [bash, str(script_path)], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        log_file = root / "var/log/shipshape-bootstrap.log"
        recorded = []
        for line in calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []:
            name, args, unit = line.split("\t")
            recorded.append((name, args, unit == "unit=yes"))
        return Run(
            returncode=completed.returncode,
            log=log_file.read_text(encoding="utf-8") if log_file.exists() else "",
            calls=recorded,
            root=root,
        )

    return run


# --- the script itself -----------------------------------------------------------------------


@pytest.mark.parametrize("table", ["visits-table-1a2b3c4", None])
def test_rendered_script_is_shellcheck_clean(tmp_path: Path, table: str | None) -> None:
    script = tmp_path / "bootstrap.sh"
    script.write_text(render(counter_table=table), encoding="utf-8")
    result = subprocess.run(
        [str(SHELLCHECK), "--severity=style", "--shell=bash", str(script)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_script_starts_with_bash_and_strict_mode() -> None:
    lines = render().splitlines()
    assert lines[0] == "#!/bin/bash"
    assert "set -euo pipefail" in lines[:10]


# --- runs against fake tools ------------------------------------------------------------------


def test_bootstrap_installs_logs_in_pulls_writes_unit_starts_and_checks_health_in_order(run_bootstrap) -> None:
    run = run_bootstrap()
    assert run.returncode == 0, run.log
    assert run.without_sleeps() == [
        ("dnf", "install -y docker"),
        ("systemctl", "enable --now docker"),
        ("aws", "ecr get-login-password --region eu-west-1"),
        ("docker", f"login --username AWS --password-stdin {REGISTRY}"),
        ("docker", f"pull {IMAGE}"),
        ("systemctl", "daemon-reload"),
        ("systemctl", f"enable {UNIT}"),
        ("systemctl", f"restart {UNIT}"),
        ("curl", "--silent --show-error --fail --max-time 3 --output /dev/null http://127.0.0.1:8000/health"),
    ]
    unit_seen = {(name, args): unit for name, args, unit in run.calls}
    assert unit_seen[("docker", f"pull {IMAGE}")] is False
    assert unit_seen[("systemctl", "daemon-reload")] is True
    assert "done: the app is running and healthy on port 8000" in run.log


def test_unit_runs_the_pinned_image_hardened_under_systemd(run_bootstrap) -> None:
    run = run_bootstrap()
    assert run.returncode == 0, run.log
    unit = (run.root / "etc/systemd/system" / UNIT).read_text(encoding="utf-8")
    (exec_start,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    arguments = exec_start.removeprefix("ExecStart=").split()
    assert arguments[:2] == ["/usr/bin/docker", "run"]
    assert arguments[-1] == IMAGE
    for flag in (
        ["--read-only"],
        ["--tmpfs", "/tmp"],
        ["--user", "10001"],
        ["--cap-drop", "ALL"],
        ["--security-opt", "no-new-privileges"],
        ["--publish", "8000:8000"],
        ["--env-file", "/etc/shipshape/app.env"],
        ["--pull=never"],
    ):
        position = arguments.index(flag[0])
        assert arguments[position : position + len(flag)] == flag
    assert "--restart" not in arguments
    assert "Restart=always" in unit.splitlines()
    assert "WantedBy=multi-user.target" in unit.splitlines()


def test_app_environment_carries_port_table_region_and_version(run_bootstrap) -> None:
    run = run_bootstrap()
    env_file = run.root / "etc/shipshape/app.env"
    assert env_file.read_text(encoding="utf-8").splitlines() == [
        "PORT=8000",
        "AWS_REGION=eu-west-1",
        "APP_VERSION=9f8e7d6c5b4a",
        "COUNTER_TABLE=visits-table-1a2b3c4",
    ]
    assert env_file.stat().st_mode & 0o077 == 0


def test_without_a_table_the_app_counts_in_memory(run_bootstrap) -> None:
    run = run_bootstrap(render(counter_table=None, app_version=None))
    assert run.returncode == 0, run.log
    lines = (run.root / "etc/shipshape/app.env").read_text(encoding="utf-8").splitlines()
    assert "COUNTER_TABLE=" in lines
    assert "APP_VERSION=" in lines


def test_two_failed_logins_then_success_still_completes(run_bootstrap) -> None:
    run = run_bootstrap(FAKE_LOGIN_FAILURES="2")
    assert run.returncode == 0, run.log
    assert len(run.of("aws")) == 3
    assert run.of("docker")[:2] == [f"login --username AWS --password-stdin {REGISTRY}", f"pull {IMAGE}"]
    assert run.of("sleep") == ["2", "4"]
    assert "ECR login failed (attempt 2 of 6); retrying in 4s" in run.log


def test_a_login_that_always_fails_stops_with_a_clear_message(run_bootstrap) -> None:
    run = run_bootstrap(FAKE_LOGIN_FAILURES="always")
    assert run.returncode != 0
    assert len(run.of("aws")) == 6
    assert run.of("sleep") == ["2", "4", "8", "16", "32"]
    assert "ERROR: ECR login failed 6 times; giving up" in run.log
    assert f"FAILED during 'log in to ECR ({REGISTRY})'" in run.log
    assert "Unable to locate credentials" in run.log
    assert not any(args.startswith("pull") for args in run.of("docker"))
    assert not (run.root / "etc/systemd/system" / UNIT).exists()


def test_a_failed_pull_is_retried(run_bootstrap) -> None:
    run = run_bootstrap(FAKE_PULL_FAILURES="1")
    assert run.returncode == 0, run.log
    assert run.of("docker").count(f"pull {IMAGE}") == 2
    assert "docker pull failed (attempt 1 of 6); retrying in 2s" in run.log


def test_an_app_that_never_gets_healthy_fails_the_bootstrap(run_bootstrap) -> None:
    run = run_bootstrap(FAKE_HEALTH_FAILURES="always")
    assert run.returncode != 0
    assert len(run.of("curl")) == 60
    assert "ERROR: the app never answered http://127.0.0.1:8000/health (60 attempts)" in run.log
    assert "FAILED during 'wait for the app's health check'" in run.log


def test_health_check_is_polled_until_the_app_answers(run_bootstrap) -> None:
    run = run_bootstrap(FAKE_HEALTH_FAILURES="3")
    assert run.returncode == 0, run.log
    assert len(run.of("curl")) == 4
    assert "answered after 4 attempt(s)" in run.log


@pytest.mark.parametrize("failures", ["0", "2", "always"])
def test_the_registry_password_is_never_written_anywhere(run_bootstrap, failures: str) -> None:
    run = run_bootstrap(FAKE_LOGIN_FAILURES=failures)
    # The log does capture the tools' stdout (docker's own answer), so a printed token would show.
    assert "Login Succeeded" in run.log or failures == "always"
    assert "Unable to locate credentials" in run.log or failures == "0"
    assert PASSWORD not in run.log
    for path in run.root.rglob("*"):
        if path.is_file():
            assert PASSWORD not in path.read_text(encoding="utf-8", errors="replace"), path
    assert not any(PASSWORD in args for _name, args, _unit in run.calls)


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"image_reference": f"{REGISTRY}/shipshape/web:latest"}, "must be pinned by digest"),
        ({"image_reference": f"{REGISTRY}/shipshape/web@sha256:abc"}, "must be pinned by digest"),
        ({"image_reference": f"{REGISTRY}/shipshape/web:v1@{DIGEST}"}, "without a tag"),
        (
            {"image_reference": f"210987654321.dkr.ecr.eu-west-1.amazonaws.com/web@{DIGEST}"},
            "is not in the registry",
        ),
        ({"registry": "docker.io"}, "registry = 'docker.io': not a private ECR registry host"),
        ({"region": "eu-west"}, "region = 'eu-west': not an AWS region name"),
        ({"region": "eu-west-1; reboot"}, "not an AWS region name"),
        ({"port": 80}, "port = 80: must be 1024 to 65535"),
        ({"port": 70000}, "port = 70000"),
        ({"port": True}, "port = True"),
        ({"port": "8000"}, "port = '8000'"),
        ({"counter_table": "x"}, "counter_table = 'x': not a DynamoDB table name"),
        ({"counter_table": "visits\nPORT=1"}, "counter_table"),
        ({"app_version": "$(reboot)"}, "app_version = '$(reboot)'"),
        ({"app_version": "v1 --privileged"}, "app_version"),
        ({"health_path": "health"}, "health_path = 'health'"),
        ({"health_path": "/health?x=$(id)"}, "health_path"),
    ],
)
def test_invalid_values_are_refused_naming_the_parameter(overrides: dict, message: str) -> None:
    with pytest.raises(UserDataError) as raised:
        render(**overrides)
    assert message in str(raised.value)


def test_values_are_shell_quoted_in_the_script() -> None:
    script = render()
    assert f"readonly IMAGE={IMAGE}\n" in script
    assert "readonly COUNTER_TABLE=''\n" in render(counter_table=None)


def test_registry_region_drives_the_login(run_bootstrap) -> None:
    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    run = run_bootstrap(render(registry=registry, image_reference=f"{registry}/web@{DIGEST}"))
    assert run.returncode == 0, run.log
    assert run.of("aws") == ["ecr get-login-password --region us-east-1"]
    assert "AWS_REGION=eu-west-1" in (run.root / "etc/shipshape/app.env").read_text(encoding="utf-8")


def test_a_script_over_16_kb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bloated = tmp_path / "bootstrap.sh.tmpl"
    padding = "# padding\n" * 1700
    bloated.write_text(user_data.TEMPLATE.read_text(encoding="utf-8") + padding, encoding="utf-8")
    monkeypatch.setattr(user_data, "TEMPLATE", bloated)
    with pytest.raises(UserDataError, match=r"bytes; EC2 accepts at most 16384 bytes"):
        render()


def test_the_real_script_leaves_room_under_the_limit() -> None:
    assert len(render().encode()) < user_data.MAX_USER_DATA_BYTES // 2


def test_a_template_placeholder_without_a_value_is_a_bug_not_silence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "bootstrap.sh.tmpl"
    broken.write_text(user_data.TEMPLATE.read_text(encoding="utf-8") + "echo {{UNKNOWN}}\n", encoding="utf-8")
    monkeypatch.setattr(user_data, "TEMPLATE", broken)
    with pytest.raises(RuntimeError, match="UNKNOWN"):
        render()
