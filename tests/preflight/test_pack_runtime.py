"""The interpreter preflight starts a pack with is the one the Pulumi CLI would (PulumiPolicy.yaml's runtime)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from preflight.analyzer import AnalyzerError, PolicyPack
from preflight.pack_runtime import PackEnvironmentError, pack_python
from tests.conftest import ROOT


def _pack(tmp_path: Path, project: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "PulumiPolicy.yaml").write_text(project, encoding="utf-8")
    (tmp_path / "__main__.py").write_text("", encoding="utf-8")
    return tmp_path


def _venv(directory: Path) -> Path:
    python = directory / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("", encoding="utf-8")
    return python


def test_the_repository_pack_runs_in_policies_venv() -> None:
    if not (ROOT / "policies" / ".venv" / "bin" / "python").is_file():
        pytest.skip("policies/.venv is not prepared (`make pack-env`)")
    assert pack_python(ROOT / "policies") == str(ROOT / "policies" / ".venv" / "bin" / "python")


def test_a_relative_virtualenv_is_inside_the_pack(tmp_path: Path) -> None:
    pack = _pack(tmp_path, "runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: env\n")
    python = _venv(pack / "env")
    assert pack_python(pack) == str(python)


def test_an_absolute_virtualenv_is_taken_as_it_is(tmp_path: Path) -> None:
    venv = tmp_path / "elsewhere"
    pack = _pack(tmp_path / "pack", f"runtime:\n  name: python\n  options:\n    virtualenv: {venv}\n")
    python = _venv(venv)
    assert pack_python(pack) == str(python)


def test_uv_defaults_to_a_venv_beside_the_pack(tmp_path: Path) -> None:
    pack = _pack(tmp_path, "runtime:\n  name: python\n  options:\n    toolchain: uv\n")
    python = _venv(pack / ".venv")
    assert pack_python(pack) == str(python)


@pytest.mark.parametrize("runtime", ["runtime: python\n", "runtime:\n  name: python\n", "description: none\n"])
def test_without_a_virtualenv_the_ambient_python_runs_the_pack(tmp_path: Path, runtime: str) -> None:
    assert pack_python(_pack(tmp_path, runtime)) == sys.executable


def test_a_missing_virtualenv_is_named_with_the_command_that_creates_it(tmp_path: Path) -> None:
    pack = _pack(tmp_path, "runtime:\n  name: python\n  options:\n    virtualenv: .venv\n")
    with pytest.raises(PackEnvironmentError, match=r"sets virtualenv '\.venv', but .*\.venv is not a virtualenv"):
        pack_python(pack)
    # preflight reports it as the pack not starting, before any process is launched.
    with pytest.raises(AnalyzerError, match=r"scripts/venv\.sh .*\.venv .*requirements\.txt"):
        PolicyPack(pack, project="p", stack="s", config={}).launch()


def test_a_policy_project_that_is_not_yaml_is_named(tmp_path: Path) -> None:
    pack = _pack(tmp_path, "runtime: [python\n")
    with pytest.raises(PackEnvironmentError, match=r"PulumiPolicy\.yaml is not valid YAML"):
        pack_python(pack)
