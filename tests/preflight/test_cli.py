"""preflight end to end: the real program, the real pack over gRPC, the exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from preflight.analyzer import PolicyPack
from preflight.cli import Progress
from preflight.policy_config import policies_of
from preflight.recorder import record
from preflight.reports.json_report import load_schema
from tests.conftest import ROOT

PROGRAMS = Path(__file__).parent / "programs"
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The pack's kept rule list goes to a directory of the test run's, not the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


def preflight(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    # The repository on the path stands in for an installed preflight, so it runs from any directory.
    return subprocess.run(
        [sys.executable, "-m", "preflight", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_preview_clean(stack: str) -> None:
    result = preflight("--stack", stack)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"stack {stack}" in result.stdout
    assert "0 mandatory" in result.stdout
    assert "aws:ecs/service:Service  web-service" in result.stdout


def test_bad_stack_file_exits_2_with_the_settings_message_and_no_traceback(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv", ".git", "tests", "__pycache__", "out"))
    # The copy's pack runs where its PulumiPolicy.yaml says, as the CLI runs it: this checkout's environment.
    (project / "policies" / ".venv").symlink_to(ROOT / "policies" / ".venv")
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  shipshape:cpu: 300\n  shipshape:healthyThreshold: 1\n")
    result = preflight("--stack", "dev", "--project-dir", str(project), "--quiet")
    assert result.returncode == 2
    assert "shipshape:cpu = 300: must be one of 256, 512, 1024, 2048, 4096, 8192, 16384" in result.stderr
    assert "shipshape:healthyThreshold = 1: must be 2 to 10" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_stack_that_does_not_exist_exits_2_naming_the_stacks_that_do() -> None:
    result = preflight("--stack", "nosuch", "--quiet")
    assert result.returncode == 2
    assert "Pulumi.nosuch.yaml: no such file" in result.stderr
    assert "no stack 'nosuch' here, the stacks are: dev, prod" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("program", "rule"),
    [
        ("unscanned_repository.py", "aws-ecr-repository-scan-on-push"),
        ("public_repository.py", "aws-ecr-no-public-repositories"),
    ],
)
def test_mandatory_violation_exits_1(program: str, rule: str) -> None:
    result = preflight("--stack", "dev", "--program", str(PROGRAMS / program), "--quiet")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"[mandatory] {rule}" in result.stdout


def test_unknown_rule_in_policy_config_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text('{"all": "advisory", "aws-no-such-rule": "mandatory"}')
    result = preflight("--stack", "dev", "--policy-config", str(config), "--quiet")
    assert result.returncode == 2
    assert "aws-no-such-rule: no such rule in policy pack shipshape-guardrails" in result.stderr


def test_unknowns_run_gets_no_error_from_the_pack() -> None:
    result = preflight("--stack", "dev", "--unknowns")
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "failed" not in result.stderr.lower()


def test_pack_answers_get_analyzer_info_with_its_rules() -> None:
    recording = record(ROOT, "dev")
    with PolicyPack(ROOT / "policies", project="shipshape", stack="dev", config=recording.config, dry_run=True) as pack:
        info = pack.info()
        names = {policy.name for policy in policies_of(info)}
    assert info.name == "shipshape-guardrails"
    assert {"aws-ecr-repository-scan-on-push", "aws-ecr-no-public-repositories"} <= names


def test_recorded_inputs_are_engine_camel_case_with_parent_urns() -> None:
    recording = record(ROOT, "dev", program=PROGRAMS / "unscanned_repository.py")
    repo = recording.one("aws:ecr/repository:Repository")
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": False}
    assert repo.inputs_struct.fields["imageTagMutability"].string_value == "IMMUTABLE"
    assert repo.parent == "urn:pulumi:dev::shipshape::pulumi:pulumi:Stack::shipshape-dev"


TINY = Path(__file__).parent / "project"
TINY_PACK = Path(__file__).parent / "packs" / "tiny"


def tiny(*args: str) -> subprocess.CompletedProcess[str]:
    return preflight("--stack", "test", "--project-dir", str(TINY), "--policy-pack", str(TINY_PACK), "--quiet", *args)


def test_a_crashing_program_exits_2_with_one_line_and_no_traceback() -> None:
    result = tiny("--program", str(PROGRAMS / "crashing.py"))
    assert result.returncode == 2
    assert result.stderr == "preflight: error: crashing.py:7: KeyError: 'port'\n"
    assert result.stdout == ""


def test_debug_shows_the_traceback() -> None:
    result = tiny("--program", str(PROGRAMS / "crashing.py"), "--debug")
    assert result.returncode == 2
    assert "Traceback" in result.stderr


def test_mandatory_violation_from_policy_config_options_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "tiny.json"
    config.write_text('{"tiny-required-tags": {"tags": ["team", "owner"]}}')
    result = tiny("--policy-config", str(config))
    assert result.returncode == 1, result.stderr
    assert "[mandatory] tiny-required-tags  aws:s3/bucket:Bucket::store-0" in result.stdout
    assert "missing tags: owner" in result.stdout
    assert "FAILED: mandatory violations: 5 resources, 2 mandatory" in result.stdout


def test_bad_policy_options_exit_2_naming_rule_and_key(tmp_path: Path) -> None:
    config = tmp_path / "tiny.json"
    config.write_text('{"tiny-stack-shape": {"maxResources": 0}}')
    result = tiny("--policy-config", str(config))
    assert result.returncode == 2
    assert "tiny-stack-shape: maxResources: 0 is less than the minimum of 1" in result.stderr


def test_a_bad_policy_config_is_reported_before_the_program_runs(tmp_path: Path) -> None:
    config = tmp_path / "tiny.json"
    config.write_text('{"tiny-no-such-rule": "mandatory"}')
    result = preflight(
        "--stack", "test", "--project-dir", str(TINY), "--policy-pack", str(TINY_PACK),
        "--program", str(PROGRAMS / "crashing.py"), "--policy-config", str(config),
    )  # fmt: skip
    assert result.returncode == 2
    assert "tiny-no-such-rule: no such rule in policy pack" in result.stderr
    assert "KeyError" not in result.stderr and "recording stack" not in result.stderr


def test_a_syntax_error_names_the_programs_file_and_line(tmp_path: Path) -> None:
    program = tmp_path / "broken.py"
    program.write_text("import pulumi\n\nbucket = (\n")
    result = tiny("--program", str(program))
    assert result.returncode == 2
    assert result.stderr.startswith(f"preflight: error: {program.as_posix()}:3: SyntaxError: "), result.stderr
    assert "Traceback" not in result.stderr


def test_runs_from_any_directory_and_defaults_to_the_current_one(tmp_path: Path) -> None:
    elsewhere = preflight(
        "--stack", "test", "--project-dir", str(TINY), "--policy-pack", str(TINY_PACK), "--quiet", cwd=tmp_path
    )
    here = preflight("--policy-pack", str(TINY_PACK), "--quiet", cwd=TINY)  # the only stack: test
    assert elapsed_free(elsewhere.stdout) == elapsed_free(here.stdout)
    assert (elsewhere.returncode, here.returncode) == (0, 0), elsewhere.stderr + here.stderr
    assert "Previewing stack test of project tiny" in here.stdout


def elapsed_free(text: str) -> str:
    """The text report without its one run-dependent line."""
    return text.rsplit("\n", 2)[0]


def test_json_report_round_trips_as_a_baseline(tmp_path: Path) -> None:
    first = tiny("--format", "json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    jsonschema.validate(report, load_schema(), cls=jsonschema.Draft202012Validator)
    assert report["project"] == "tiny" and report["stack"] == "test"
    assert report["peakRssBytes"] > 0 and report["summary"]["plan"] == {"create": 7}
    assert {r["name"]: r["source"]["file"] for r in report["resources"]}["store-0"] == "__main__.py"
    baseline = tmp_path / "plan.json"
    baseline.write_text(first.stdout)
    out = tmp_path / "out"
    second = tiny("--baseline", str(baseline), "--output-dir", str(out), "--format", "markdown")
    assert second.returncode == 0, second.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "architecture.mmd",
        "report.json",
        "report.md",
        "report.sarif",
        "report.txt",
    ]
    assert json.loads((out / "report.json").read_text())["stack"] == "test"
    text = (out / "report.txt").read_text()
    assert "Plan (since the baseline tiny/test):" in text
    assert "Resources:\n    7 unchanged\n" in text


def test_a_baseline_that_is_not_json_exits_2(tmp_path: Path) -> None:
    baseline = tmp_path / "plan.json"
    baseline.write_text("not json")
    result = tiny("--baseline", str(baseline))
    assert result.returncode == 2
    assert f"{baseline}: not valid JSON" in result.stderr


def test_progress_lines_go_to_stderr() -> None:
    result = preflight("--stack", "test", "--project-dir", str(TINY), "--policy-pack", str(TINY_PACK))
    assert result.returncode == 0, result.stderr
    assert "recording stack test of project tiny" in result.stderr
    assert "analyzing 6/6" in result.stderr
    assert "recording" not in result.stdout
    # Nothing from the interpreter's teardown (the command exits once the report is flushed).
    assert "Exception ignored" not in result.stderr and "BaseEventLoop" not in result.stderr


def test_recording_progress_counts_registrations_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(quiet=False, interval=0.0)
    record(TINY, "test", progress=progress.recording)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == ["recording: 1 resource so far"] + [
        f"recording: {n} resources so far" for n in range(2, 7)
    ]


def test_esc_environments_the_stack_imports_are_reported_not_judged(tmp_path: Path) -> None:
    """A stack that imports Pulumi ESC environments previews with what it has, and every report names the
    environments whose values were missing offline; the verdict is otherwise the plain stack's."""
    project = tmp_path / "project"
    shutil.copytree(TINY, project, ignore=shutil.ignore_patterns("__pycache__"))
    stack_file = project / "Pulumi.test.yaml"
    stack_file.write_text("environment:\n  - team/aws-creds\n" + stack_file.read_text())
    plain = tiny("--format", "json")
    result = preflight(
        "--stack", "test", "--project-dir", str(project), "--policy-pack", str(TINY_PACK), "--format", "json"
    )
    assert result.returncode == plain.returncode, result.stderr
    report = json.loads(result.stdout)
    assert report["unansweredDataSources"] == ["ESC environment team/aws-creds (imported by Pulumi.test.yaml)"]
    assert "cannot judge yet: no offline answer for data source ESC environment team/aws-creds" in result.stderr
    assert len(report["resources"]) == len(json.loads(plain.stdout)["resources"])
