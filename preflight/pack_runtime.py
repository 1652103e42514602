"""Which python the Pulumi CLI runs a Python policy pack with, read from the pack's PulumiPolicy.yaml.

Pulumi's python language host picks the interpreter through the project's toolchain
(pulumi/pulumi sdk/python/toolchain):
- pip (the default): with `virtualenv` set, `<root>/<virtualenv>/bin/python` (pip.go: resolveVirtualEnvironmentPath
  joins a relative path to the project root; Command runs the venv's python; ValidateVenv refuses a directory that
  is not a virtualenv, NewVirtualEnvError). Without it, `python3` from PATH (CommandPath).
- uv: `uv run python` in the project environment, `virtualenv` or else `.venv` beside uv.lock / pyproject.toml
  (uv.go: newUv, uvCommand sets UV_PROJECT_ENVIRONMENT).
For a local pack the CLI installs nothing: the environment must exist before `--policy-pack DIR` runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

from preflight.config_types import load_yaml

POLICY_PROJECT_FILE = "PulumiPolicy.yaml"


class PackEnvironmentError(Exception):
    """PulumiPolicy.yaml names a virtualenv that does not exist, or cannot be read."""


def _runtime_options(pack_dir: Path) -> dict[str, object]:
    path = pack_dir / POLICY_PROJECT_FILE
    if not path.is_file():
        return {}
    try:
        project = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise PackEnvironmentError(f"policy pack: {path} is not valid YAML: {error}") from None
    runtime = project.get("runtime") if isinstance(project, dict) else None
    # `runtime: python` (a string) carries no options.
    options = runtime.get("options") if isinstance(runtime, dict) else None
    return options if isinstance(options, dict) else {}


def pack_python(pack_dir: Path) -> str:
    """The interpreter for `python __main__.py` in pack_dir; the ambient one is this process's python."""
    options = _runtime_options(pack_dir)
    virtualenv = options.get("virtualenv")
    if not virtualenv and options.get("toolchain") == "uv":
        virtualenv = ".venv"
    if not virtualenv:
        return sys.executable
    venv = Path(str(virtualenv))
    if not venv.is_absolute():
        venv = pack_dir / venv
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.is_file():
        raise PackEnvironmentError(
            f"policy pack: {pack_dir / POLICY_PROJECT_FILE} sets virtualenv {virtualenv!r}, but {venv} is not a "
            f"virtualenv; the Pulumi CLI does not create it either. Create it from the pack's lock: "
            f"`scripts/venv.sh {venv} {pack_dir / 'requirements.txt'}` in this repository (`make pack-env`), "
            f"or `python3 -m venv {venv} && {venv}/bin/pip install -r {pack_dir / 'requirements.txt'}`"
        )
    return str(python)
