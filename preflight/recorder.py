"""Record: run the Pulumi program in-process under mocks and keep every RegisterResourceRequest as
the engine would receive it."""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from preflight.mocks import StackMocks
from preflight.model import RecordedResource
from preflight.stack_config import StackConfig, load_stack_config


class ProgramError(Exception):
    """The program failed; `message` is what the user needs (a RunError's text, without a traceback)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Recording:
    project: str
    stack: str
    config: dict[str, str]
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def by_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.by_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {type_}{' named ' + name if name else ''}, found {len(found)}")
        return found[0]


class RecordingMonitor(mocks.MockMonitor):
    """A mock monitor that keeps each registration exactly as sent."""

    def __init__(self, mock: pulumi.runtime.Mocks) -> None:
        super().__init__(mock)
        self.recorded: list[RecordedResource] = []
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = self.resources.get(response.urn)
        inputs = _plain(json_format.MessageToDict(request.object))
        self.recorded.append(
            RecordedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                provider=request.provider,
                dependencies=tuple(request.dependencies),
                property_dependencies={key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()},
                inputs_struct=request.object,
                inputs=inputs,
                outputs=dict(registration.state) if registration else {},
            )
        )
        return response

    def RegisterResourceOutputs(self, request):
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.stack_outputs = _plain(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)


def _plain(value: Any) -> Any:
    """Engine values as plain Python: secrets unwrapped, unknowns left as the sentinel string."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _plain(value.get("value"))
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@contextlib.contextmanager
def _project_on_path(project_dir: Path) -> Iterator[None]:
    previous_cwd = Path.cwd()
    sys.path.insert(0, str(project_dir))
    os.chdir(project_dir)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(str(project_dir))


def _reset_runtime() -> None:
    runtime_settings.reset_options()
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]


def record(
    project_dir: Path,
    stack: str = "dev",
    *,
    unknowns: bool = False,
    config_overrides: Mapping[str, Any] | None = None,
    program: Path | None = None,
    config: StackConfig | None = None,
) -> Recording:
    """Run the program for `stack` under type-aware mocks and return every registration."""
    project_dir = Path(project_dir).resolve()
    config = config or load_stack_config(project_dir, stack, config_overrides)
    program = Path(program or project_dir / "__main__.py").resolve()

    _reset_runtime()
    pulumi.runtime.set_all_config(dict(config.values), sorted(config.secret_keys))
    monitor = RecordingMonitor(StackMocks(config.region, unknowns=unknowns))
    pulumi.runtime.set_mocks(monitor.mocks, config.project, config.stack, preview=unknowns, monitor=monitor)
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]

    with _project_on_path(project_dir):
        try:
            _sync_await(run_in_stack(lambda: runpy.run_path(str(program), run_name="__main__")))
        except pulumi.RunError as error:
            raise ProgramError(str(error)) from None
        except Exception as error:
            raise ProgramError(_describe(error)) from error
        finally:
            _reset_runtime()
    return Recording(
        project=config.project,
        stack=config.stack,
        config=dict(config.values),
        resources=monitor.recorded,
        outputs=monitor.stack_outputs,
    )


def _describe(error: BaseException) -> str:
    # Pulumi wraps errors raised inside outputs; the innermost cause is the one that names the input.
    while error.__cause__ is not None and not isinstance(error, pulumi.RunError):
        error = error.__cause__
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[-1] if text else ''}"
