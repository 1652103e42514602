"""Where a project's program is and which packages it runs with, read from Pulumi.yaml as the CLI does.

- `main`: "Path to the Pulumi program, relative to the location of Pulumi.yaml", a directory or a file
  (Pulumi project file reference, pulumi.com/docs/reference/pulumi-yaml). The Python language host
  changes into that directory and runs it with
  `runpy.run_path(PROGRAM, run_name="__main__")` (pulumi/pulumi sdk/python/cmd/pulumi-language-python-exec):
  a directory runs its `__main__.py` with the directory first on sys.path.
- `runtime.options.virtualenv`: the virtual environment, relative to the project directory, whose packages
  the program imports. Preflight keeps its own pulumi SDK (the mocks belong to it) and adds the
  environment's site-packages after its own, so the program's other packages (pulumi-random,
  pulumi-command, its own libraries) import.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from preflight.config_types import load_yaml
from preflight.stack_config import ConfigError


@dataclass(frozen=True)
class ProgramLocation:
    program: Path
    """The file to run (`__main__.py` of the main directory, or the main file)."""
    directory: Path
    """The working directory and first sys.path entry."""
    virtualenv: Path | None = None
    """The project's virtual environment as Pulumi.yaml names it (it may not exist)."""

    def site_packages(self) -> list[Path]:
        """The environment's site-packages, this Python's version first; empty when it does not exist."""
        if self.virtualenv is None or not self.virtualenv.is_dir():
            return []
        found = sorted(self.virtualenv.glob("lib/python3*/site-packages")) + sorted(
            self.virtualenv.glob("Lib/site-packages")
        )
        own = f"python{sys.version_info.major}.{sys.version_info.minor}"
        return sorted(found, key=lambda path: path.parent.name != own)

    def missing_virtualenv(self) -> str | None:
        """A message when Pulumi.yaml names an environment that is not there, else None."""
        if self.virtualenv is None or self.site_packages():
            return None
        return (
            f"Pulumi.yaml sets runtime.options.virtualenv to {self.virtualenv.name!r}, but {self.virtualenv} "
            "holds no Python environment; create it (python -m venv "
            f"{self.virtualenv.name} && {self.virtualenv.name}/bin/pip install -r requirements.txt)"
        )


def _project_document(project_dir: Path) -> dict[str, Any]:
    path = project_dir / "Pulumi.yaml"
    try:
        document = load_yaml(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except yaml.YAMLError as error:
        raise ConfigError(f"Pulumi.yaml: not valid YAML: {' '.join(str(error).split())}") from None
    return document if isinstance(document, dict) else {}


def locate_program(project_dir: Path) -> ProgramLocation:
    """The program and environment Pulumi.yaml describes; ConfigError naming the key when they are bad."""
    project_dir = Path(project_dir).resolve()
    document = _project_document(project_dir)
    main = document.get("main")
    if main is None:
        target = project_dir
    elif not isinstance(main, str) or not main.strip():
        raise ConfigError(f"Pulumi.yaml: main: expected a path, got {main!r}")
    else:
        target = (project_dir / main).resolve()
        if not target.exists():
            raise ConfigError(f"Pulumi.yaml: main: {main} does not exist in {project_dir}")
    if target.is_dir():
        program, directory = target / "__main__.py", target
    else:
        program, directory = target, target.parent
    runtime = document.get("runtime")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    virtualenv = options.get("virtualenv") if isinstance(options, dict) else None
    if virtualenv is not None and not isinstance(virtualenv, str):
        raise ConfigError(f"Pulumi.yaml: runtime.options.virtualenv: expected a path, got {virtualenv!r}")
    return ProgramLocation(
        program=program, directory=directory, virtualenv=(project_dir / virtualenv).resolve() if virtualenv else None
    )
