"""The host's bootstrap script: rendering and validation, shellcheck, and runs against fake host tools.

The sandbox runs the rendered script with bash and a PATH holding only the fakes
(tests/components/programs/fake_host_tool under each tool's name) and the few coreutils the script
really uses, so a call to anything else fails the run. SHIPSHAPE_ROOT moves the files it writes
into a scratch directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from components import user_data
from components.user_data import UserDataError, render_user_data

PROGRAMS = Path(__file__).resolve().parent / "programs"
# The AWS CLI stand-in the real-engine test uses too: it answers the secret reads from files.
HOST_AWS = Path(__file__).resolve().parents[1] / "image" / "host_tools" / "aws"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shipshape/api-key-AbCdEf"
PARAMETER_ARN = "arn:aws:ssm:eu-west-1:123456789012:parameter/shipshape/db-password"
SHELLCHECK = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "shellcheck"
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGE = f"{REGISTRY}/shipshape/web@{DIGEST}"
FAKED = ("dnf", "systemctl", "aws", "docker", "curl", "sleep")
# The real tools the script (and the fake, for itself) may use.
REAL = ("tee", "date", "mkdir", "dirname", "install", "cat", "chmod", "basename")
UNIT = "shipshape-app.service"
INSTANCE_ID = "i-0123456789abcdef0"
REPORT_UNHEALTHY = (
    f"autoscaling set-instance-health --region eu-west-1 --instance-id {INSTANCE_ID} "
    "--health-status Unhealthy --no-should-respect-grace-period --cli-connect-timeout 10"
)


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
        # What cloud-init writes before user data runs.
        (root / "var/lib/cloud/data").mkdir(parents=True)
        (root / "var/lib/cloud/data/instance-id").write_text(INSTANCE_ID + "\n", encoding="utf-8")
        script_path = tmp_path / "bootstrap.sh"
        script_path.write_text(script if script is not None else render(), encoding="utf-8")
        calls = tmp_path / "calls.tsv"
        env = {
            "PATH": str(bin_dir),
            "HOME": str(home),
            "SHIPSHAPE_ROOT": str(root),
            "FAKE_CALLS": str(calls),
            "FAKE_STATE": str(state),
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


def test_bootstrap_installs_pulls_writes_unit_starts_and_checks_health_in_order(run_bootstrap) -> None:
    run = run_bootstrap()
    assert run.returncode == 0, run.log
    assert run.without_sleeps() == [
        ("dnf", "install -y docker amazon-ecr-credential-helper"),
        ("systemctl", "enable --now docker"),
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
    assert run.of("aws") == []


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


def test_docker_pulls_through_the_ecr_credential_helper_and_stores_no_token(run_bootstrap) -> None:
    run = run_bootstrap()
    assert run.returncode == 0, run.log
    config = Path(run.root.parent / "home/.docker/config.json")
    assert json.loads(config.read_text(encoding="utf-8")) == {"credHelpers": {REGISTRY: "ecr-login"}}
    assert config.stat().st_mode & 0o077 == 0
    assert not any(args.startswith("login") for args in run.of("docker"))
    script = render()
    assert "export AWS_ECR_DISABLE_CACHE=true\n" in script
    assert "docker login" not in script.replace("no `docker login`", "")


def test_a_pull_without_the_credential_helper_configured_fails(run_bootstrap) -> None:
    script = render().replace("\nuse_credential_helper\n", "\n")
    run = run_bootstrap(script)
    assert run.returncode != 0
    assert "no basic auth credentials" in run.log
    assert "ERROR: docker pull failed 6 times; giving up" in run.log


def test_a_pull_that_always_fails_stops_with_a_clear_message(run_bootstrap) -> None:
    run = run_bootstrap(FAKE_PULL_FAILURES="always")
    assert run.returncode != 0
    assert run.of("docker").count(f"pull {IMAGE}") == 6
    assert run.of("sleep") == ["2", "4", "8", "16", "32"]
    assert "ERROR: docker pull failed 6 times; giving up" in run.log
    assert f"FAILED during 'pull {IMAGE}'" in run.log
    assert not (run.root / "etc/systemd/system" / UNIT).exists()
    assert run.of("aws") == [REPORT_UNHEALTHY]


def test_a_failed_pull_is_retried(run_bootstrap) -> None:
    run = run_bootstrap(FAKE_PULL_FAILURES="1")
    assert run.returncode == 0, run.log
    assert run.of("docker").count(f"pull {IMAGE}") == 2
    assert "docker pull failed (attempt 1 of 6); retrying in 2s" in run.log


def test_a_docker_start_that_fails_twice_is_retried(run_bootstrap) -> None:
    run = run_bootstrap(FAKE_DOCKER_START_FAILURES="2")
    assert run.returncode == 0, run.log
    assert run.of("systemctl").count("enable --now docker") == 3
    assert "start docker failed (attempt 2 of 6); retrying in 4s" in run.log
    assert run.of("aws") == []


def test_a_docker_that_never_starts_fails_and_reports_the_instance_unhealthy(run_bootstrap) -> None:
    run = run_bootstrap(FAKE_DOCKER_START_FAILURES="always")
    assert run.returncode != 0
    assert "ERROR: start docker failed 6 times; giving up" in run.log
    assert "FAILED during 'start docker'" in run.log
    assert run.of("aws") == [REPORT_UNHEALTHY]
    assert "reported this instance unhealthy: its Auto Scaling group replaces it" in run.log
    assert run.of("docker") == []


def test_a_failed_report_powers_the_host_off_so_its_group_replaces_it(run_bootstrap) -> None:
    # With VPC endpoints only the Auto Scaling API is out of reach: the launch template terminates a host that
    # shuts down (test_container_host), so powering off needs no API.
    run = run_bootstrap(FAKE_PULL_FAILURES="always", FAKE_AWS_FAILS="yes")
    assert run.returncode != 0
    assert run.of("aws") == [REPORT_UNHEALTHY]
    assert "Unable to locate credentials" in run.log
    assert "could not report this instance unhealthy; powering off (the group replaces it)" in run.log
    assert run.of("systemctl")[-1] == "poweroff"


def test_a_reported_failure_does_not_power_off(run_bootstrap) -> None:
    run = run_bootstrap(FAKE_PULL_FAILURES="always")
    assert run.of("aws") == [REPORT_UNHEALTHY]
    assert "poweroff" not in run.of("systemctl")


def test_dnf_reads_the_repositories_from_the_regional_s3_name(run_bootstrap) -> None:
    # AL2023's mirror list is al2023-repos-$awsregion-de612dc2.s3$dualstack.$awsregion...: an empty dualstack
    # makes it s3.<region>, the name an S3 gateway endpoint serves.
    run = run_bootstrap()
    assert run.returncode == 0, run.log
    assert (run.root / "etc/dnf/vars/dualstack").read_text(encoding="utf-8") == ""


def test_an_app_that_never_gets_healthy_fails_the_bootstrap(run_bootstrap) -> None:
    run = run_bootstrap(FAKE_HEALTH_FAILURES="always")
    assert run.returncode != 0
    assert len(run.of("curl")) == 60
    assert "ERROR: the app never answered http://127.0.0.1:8000/health (60 attempts)" in run.log
    assert "FAILED during 'wait for the app's health check'" in run.log
    assert run.of("aws") == [REPORT_UNHEALTHY]


def test_health_check_is_polled_until_the_app_answers(run_bootstrap) -> None:
    run = run_bootstrap(FAKE_HEALTH_FAILURES="3")
    assert run.returncode == 0, run.log
    assert len(run.of("curl")) == 4
    assert "answered after 4 attempt(s)" in run.log


# --- environment and secrets ------------------------------------------------------------------


def with_settings() -> str:
    return render(
        environment={"FEATURE_FLAG": "on", "GREETING": "hello world = yes"},
        secrets={"API_KEY": SECRET_ARN, "DB_PASSWORD": PARAMETER_ARN},
    )


def test_environment_reaches_the_env_file_and_secrets_only_as_arns(run_bootstrap) -> None:
    script = with_settings()
    run = run_bootstrap(script)
    assert run.returncode == 0, run.log
    lines = (run.root / "etc/shipshape/app.env").read_text(encoding="utf-8").splitlines()
    assert lines[-2:] == ["FEATURE_FLAG=on", "GREETING=hello world = yes"]
    assert not any(line.startswith(("API_KEY", "DB_PASSWORD")) for line in lines)
    listed = (run.root / "etc/shipshape/secrets.list").read_text(encoding="utf-8").splitlines()
    assert listed == [f"API_KEY {SECRET_ARN}", f"DB_PASSWORD {PARAMETER_ARN}"]
    unit = (run.root / "etc/systemd/system" / UNIT).read_text(encoding="utf-8").splitlines()
    assert "ExecStartPre=/usr/local/libexec/shipshape-fetch-secrets" in unit
    (exec_start,) = [line for line in unit if line.startswith("ExecStart=")]
    assert "--env-file /etc/shipshape/app.env --env-file /run/shipshape/secrets.env" in exec_start


def fetch_secrets(run_bootstrap, tmp_path: Path, script: str, values: dict[str, str]):
    """Run the bootstrap (fake tools), then its fetch script as systemd's ExecStartPre would, with the AWS CLI
    stand-in answering `values` (ARN -> secret value)."""
    booted = run_bootstrap(script)
    assert booted.returncode == 0, booted.log
    state = tmp_path / "aws-state"
    (state / "secrets").mkdir(parents=True)
    for arn, value in values.items():
        (state / "secrets" / arn.replace(":", "_").replace("/", "_")).write_text(value, encoding="utf-8")
    bin_dir = tmp_path / "aws-bin"
    bin_dir.mkdir()
    (bin_dir / "aws").symlink_to(HOST_AWS)
    fetch = booted.root / "usr/local/libexec/shipshape-fetch-secrets"
    assert fetch.stat().st_mode & 0o777 == 0o700
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "SHIPSHAPE_ROOT": str(booted.root), "FAKE_STATE": str(state)}
    ran = subprocess.run([str(fetch)], env=env, capture_output=True, text=True, timeout=60, check=False)
    calls = (state / "calls").read_text(encoding="utf-8").splitlines() if (state / "calls").exists() else []
    return ran, booted.root / "run/shipshape", calls


def test_secrets_are_fetched_with_the_role_into_a_root_only_tmpfs_env_file(run_bootstrap, tmp_path: Path) -> None:
    ran, run_dir, calls = fetch_secrets(
        run_bootstrap, tmp_path, with_settings(), {SECRET_ARN: "k-123\n", PARAMETER_ARN: "p=w d"}
    )
    assert ran.returncode == 0, ran.stderr
    secrets_env = run_dir / "secrets.env"
    assert secrets_env.read_text(encoding="utf-8").splitlines() == ["API_KEY=k-123", "DB_PASSWORD=p=w d"]
    assert secrets_env.stat().st_mode & 0o777 == 0o600
    assert run_dir.stat().st_mode & 0o777 == 0o700
    assert calls == [
        f"aws secretsmanager get-secret-value --region eu-west-1 --secret-id {SECRET_ARN} "
        "--query SecretString --output text",
        f"aws ssm get-parameter --region eu-west-1 --name {PARAMETER_ARN} --with-decryption "
        "--query Parameter.Value --output text",
    ]
    assert "k-123" not in with_settings()


def test_an_unreadable_secret_stops_the_container_start_and_leaves_no_partial_file(
    run_bootstrap, tmp_path: Path
) -> None:
    ran, run_dir, _calls = fetch_secrets(run_bootstrap, tmp_path, with_settings(), {SECRET_ARN: "k-123"})
    assert ran.returncode != 0
    assert "ParameterNotFound" in ran.stderr
    assert list(run_dir.iterdir()) == []


def test_a_multi_line_secret_is_refused_naming_it(run_bootstrap, tmp_path: Path) -> None:
    ran, run_dir, _calls = fetch_secrets(
        run_bootstrap, tmp_path, with_settings(), {SECRET_ARN: "a\nb", PARAMETER_ARN: "x"}
    )
    assert ran.returncode != 0
    assert "API_KEY: the value spans lines" in ran.stderr
    assert list(run_dir.iterdir()) == []


def test_without_secrets_the_env_file_is_empty_and_nothing_is_read(run_bootstrap, tmp_path: Path) -> None:
    ran, run_dir, calls = fetch_secrets(run_bootstrap, tmp_path, render(), {})
    assert ran.returncode == 0, ran.stderr
    assert (run_dir / "secrets.env").read_text(encoding="utf-8") == ""
    assert calls == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"environment": {"1BAD": "x"}}, "environment = '1BAD': not an environment variable name"),
        ({"environment": {"PORT": "9"}}, "environment = 'PORT': set by the host itself"),
        ({"environment": {"A": "x\nB=y"}}, "environment['A']: the value must be one line"),
        ({"secrets": {"KEY": "not-an-arn"}}, "secrets['KEY'] = 'not-an-arn': not a Secrets Manager"),
        ({"secrets": {"AWS_REGION": SECRET_ARN}}, "secrets = 'AWS_REGION': set by the host itself"),
        ({"environment": {"KEY": "x"}, "secrets": {"KEY": SECRET_ARN}}, "KEY: both in environment and secrets"),
    ],
)
def test_bad_environment_or_secrets_are_refused_naming_them(overrides: dict, message: str) -> None:
    with pytest.raises(UserDataError) as raised:
        render(**overrides)
    assert message in str(raised.value)


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


def test_the_credential_helper_serves_the_image_registry_in_any_region(run_bootstrap) -> None:
    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    run = run_bootstrap(render(registry=registry, image_reference=f"{registry}/web@{DIGEST}"))
    assert run.returncode == 0, run.log
    config = json.loads((run.root.parent / "home/.docker/config.json").read_text(encoding="utf-8"))
    assert config == {"credHelpers": {registry: "ecr-login"}}
    assert "AWS_REGION=eu-west-1" in (run.root / "etc/shipshape/app.env").read_text(encoding="utf-8")


def test_a_script_over_16_kb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bloated = tmp_path / "bootstrap.sh.tmpl"
    padding = "# padding\n" * 1700
    bloated.write_text(user_data.TEMPLATE.read_text(encoding="utf-8") + padding, encoding="utf-8")
    monkeypatch.setattr(user_data, "TEMPLATE", bloated)
    with pytest.raises(UserDataError, match=r"bytes; EC2 accepts at most 16384 bytes"):
        render()


def test_the_real_script_leaves_room_under_the_limit_for_environment_and_secrets() -> None:
    # About 6 KB stays free: some 60 secrets ARNs with their names, or a few KB of plain settings.
    assert len(render().encode()) < user_data.MAX_USER_DATA_BYTES * 5 // 8


def test_environment_that_overflows_user_data_is_refused() -> None:
    with pytest.raises(UserDataError, match=r"bytes; EC2 accepts at most 16384 bytes"):
        render(environment={f"SETTING_{index}": "x" * 100 for index in range(80)})


def test_a_template_placeholder_without_a_value_is_a_bug_not_silence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "bootstrap.sh.tmpl"
    broken.write_text(user_data.TEMPLATE.read_text(encoding="utf-8") + "echo {{UNKNOWN}}\n", encoding="utf-8")
    monkeypatch.setattr(user_data, "TEMPLATE", broken)
    with pytest.raises(RuntimeError, match="UNKNOWN"):
        render()
