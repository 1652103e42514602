"""components as a library: installed with pip, imported from outside the repository, documented field by field."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import components
from tests.conftest import ROOT

PIP_INSTALL = (sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps")
ARGS_TYPES = [getattr(components, name) for name in components.__all__ if name.endswith("Args")]

# A program of another project: one WebService with only the Args it requires.
CONSUMER_PROGRAM = """
import pulumi
from components import WebService, WebServiceArgs

web = WebService(
    "web",
    WebServiceArgs(
        vpc_id="vpc-0123456789abcdef0",
        public_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
        private_subnet_ids=["subnet-0cccccccccccccccc", "subnet-0dddddddddddddddd"],
        load_balancer_security_group_id="sg-0aaaaaaaaaaaaaaaa",
        app_security_group_id="sg-0bbbbbbbbbbbbbbbb",
        image="123456789012.dkr.ecr.eu-central-1.amazonaws.com/other/app@sha256:" + "c" * 64,
        certificate_arn="arn:aws:acm:eu-central-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
    ),
)
pulumi.export("url", web.url)
"""

# Runs in the consumer's directory with only the installed packages importable (not this repository).
DRIVER = """
import json, sys
from pathlib import Path

import components
from preflight.recorder import record

recording = record(Path.cwd(), "test")
print(json.dumps({
    "components": components.__file__,
    "path": sys.path,
    "resources": [[r.type, r.name, r.parent, r.inputs] for r in recording.resources],
    "outputs": recording.outputs,
}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install .` of this repository into a directory of its own (dependencies come from the venv).

    Built from a copy of what the build reads, so the build's scratch files stay out of the checkout."""
    source = tmp_path_factory.mktemp("source")
    shutil.copy(ROOT / "pyproject.toml", source)
    for package in ("components", "preflight"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path_factory.mktemp("site-packages")
    subprocess.run(
        [*PIP_INSTALL, "--target", str(target), str(source)],
        check=True,
        timeout=600,
    )
    return target


@pytest.fixture(scope="module")
def consumer(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    project = tmp_path_factory.mktemp("consumer")
    (project / "Pulumi.yaml").write_text("name: consumer\nruntime: python\n", encoding="utf-8")
    (project / "Pulumi.test.yaml").write_text("config:\n  aws:region: eu-central-1\n", encoding="utf-8")
    (project / "__main__.py").write_text(CONSUMER_PROGRAM, encoding="utf-8")
    (project / "driver.py").write_text(DRIVER, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PULUMI_")}
    env["PYTHONPATH"] = str(installed)
    run = subprocess.run(
        [sys.executable, "driver.py"], cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.slow
def test_an_outside_program_imports_the_installed_library(installed: Path, consumer: dict) -> None:
    assert Path(consumer["components"]).is_relative_to(installed)
    assert not any(Path(entry or ".").resolve() == ROOT for entry in consumer["path"])


@pytest.mark.slow
def test_a_web_service_with_only_its_required_args_builds_under_mocks(consumer: dict) -> None:
    resources = {name: (type_, parent, inputs) for type_, name, parent, inputs in consumer["resources"]}
    component_type, _, _ = resources["web"]
    assert component_type == "shipshape:web_service:WebService"
    children = [name for name, (_, parent, _) in resources.items() if parent.endswith("::web")]
    assert {"web-cluster", "web-task", "web-service", "web-alb", "web-https", "web-http"} <= set(children)
    # Secure defaults without a word from the caller: HTTPS, deletion protection, access logs, no exec.
    assert resources["web-https"][2]["protocol"] == "HTTPS"
    assert resources["web-alb"][2]["enableDeletionProtection"] is True
    assert "web-access-logs" in resources
    assert resources["web-service"][2]["enableExecuteCommand"] is False
    # The region comes from the provider (an invoke), not from this project's config.
    (container,) = json.loads(resources["web-task"][2]["containerDefinitions"])
    assert container["logConfiguration"]["options"]["awslogs-region"] == "eu-central-1"
    assert consumer["outputs"]["url"].startswith("https://")


@pytest.mark.parametrize("args_type", ARGS_TYPES, ids=lambda t: t.__name__)
def test_every_args_field_is_documented_with_its_default(args_type: type) -> None:
    docs = _field_docstrings(args_type)
    for field in dataclasses.fields(args_type):
        doc = " ".join(docs.get(field.name, "").split())
        assert doc, f"{args_type.__name__}.{field.name} has no docstring"
        has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        wanted = "Default" if has_default else "Required"
        assert wanted in doc, f"{args_type.__name__}.{field.name}: the docstring should say {wanted!r}: {doc!r}"


@pytest.mark.parametrize("args_type", ARGS_TYPES, ids=lambda t: t.__name__)
def test_args_are_frozen_keyword_only_dataclasses(args_type: type) -> None:
    params = args_type.__dataclass_params__
    assert params.frozen
    assert all(field.kw_only for field in dataclasses.fields(args_type))


def _field_docstrings(cls: type) -> dict[str, str]:
    """Attribute docstrings (a string right after an annotated field), as Sphinx and IDEs read them."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    docs: dict[str, str] = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = following.value.value
    return docs
