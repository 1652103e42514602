"""The Makefile's commands as a user runs them."""

from __future__ import annotations

import gc
import importlib
import json
import os
import shutil
import subprocess
import tomllib

import pytest

from tests.conftest import ROOT

PREVIEW_ENVIRONMENTS = [".venv/.installed-program", "policies/.venv/.installed-pack"]


@pytest.mark.slow
def test_make_preview_writes_nothing_but_the_report_on_stdout() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    # A nested make (under `make test`) must not inherit the outer one's flags or job server.
    env = {key: value for key, value in os.environ.items() if key not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    ready = subprocess.run([make, "-q", *PREVIEW_ENVIRONMENTS], cwd=ROOT, env=env, check=False)
    if ready.returncode != 0:
        pytest.skip("the preview's environments are not prepared (`make env pack-env`)")
    result = subprocess.run(
        [make, "preview", "ARGS=--format json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # preflight exits 1 on a mandatory violation, which make reports as 2; either way stdout is the report.
    assert result.returncode in (0, 2), result.stderr
    report = json.loads(result.stdout)
    assert report["schemaVersion"] and report["stack"] == "dev"


def test_the_preflight_command_points_at_the_cli_entry(capsys: pytest.CaptureFixture[str]) -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, function = scripts["preflight"].partition(":")
    main = getattr(importlib.import_module(module), function)
    # What the generated console script does: sys.exit(main()).
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["--help"])
    finally:
        gc.enable()  # the command turns the collector off for its imports
    assert exit_info.value.code == 0
    assert "--project-dir" in capsys.readouterr().out
