"""Record: run the Pulumi program in-process under type-aware mocks and keep every
RegisterResourceRequest exactly as the engine would receive it.

    rec = record(ROOT, "dev")                      # the dev stack, every output known
    rec = record(ROOT, "dev", unknowns=True)       # computed outputs unknown, as in a first preview
    rec.one("aws:ecr/repository:Repository").inputs["imageScanningConfiguration"]

The program runs as the Python language host runs it: `__main__.py` via runpy with `__name__ ==
"__main__"`, the project directory as working directory and first on sys.path, inside a Stack
resource, with the stack's config set the way the CLI passes it. Always as a preview (`is_dry_run()`
is true), because that is what `pulumi preview` and the pull-request check run. `record` can be called
any number of times in one process: the runtime's globals are reset around every run.
"""

from __future__ import annotations

import logging
import runpy
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks, rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.proto import provider_pb2, resource_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from preflight import invoke_forms, remote_components
from preflight.language_host import as_language_host, in_project, reset_runtime
from preflight.mocks import UNKNOWN, StackMocks, UnknownInvokeError
from preflight.model import RecordedResource
from preflight.project import ProgramLocation, locate_program
from preflight.source_location import ProgramFiles, capturing
from preflight.stack_config import StackConfig, load_stack_config

STACK_TYPE = "pulumi:pulumi:Stack"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
ORGANIZATION = "organization"
"""The organization a local-backend stack belongs to; preflight has no backend."""


class ProgramError(Exception):
    """The program failed; `message` is what the user needs (a RunError's text, without a traceback)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Recording:
    """What one run of the program registered, in registration order (the Stack itself excluded)."""

    project: str
    stack: str
    config: dict[str, str]
    """The string config map the program was given."""
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    """Stack exports (`pulumi.export`), resolved; unknown ones are the engine's sentinel string."""
    outputs_struct: struct_pb2.Struct = field(default_factory=struct_pb2.Struct)
    """The same exports as the engine receives them: secrets and unknowns still marked, for reports."""
    warnings: list[str] = field(default_factory=list)
    """Messages the program logged with `pulumi.log.warn`."""
    unknowns: bool = False
    unanswered_data_sources: list[str] = field(default_factory=list)
    """Data sources (and stack references) preflight had no answer for, sorted: their outputs were unknown."""
    invokes: list[tuple[str, str]] = field(default_factory=list)
    """Every data-source call as (token, provider reference `urn::id`, empty for the default provider), in order."""

    def by_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        """The single resource of `type_` (named `name`); LookupError naming what was found otherwise."""
        found = [r for r in self.by_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = ", ".join(r.name for r in self.by_type(type_)) or "none"
            wanted = f"{type_} named {name}" if name else type_
            raise LookupError(f"expected one {wanted}, found {len(found)} (registered {type_}: {names})")
        return found[0]

    def by_urn(self, urn: str) -> RecordedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise LookupError(f"no resource with URN {urn}")

    def children(self, parent: RecordedResource) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == parent.urn]


def plain(value: Any) -> Any:
    """Engine values as plain Python: secrets unwrapped, unknowns left as the sentinel string, whole
    numbers as ints (a Struct only has doubles)."""
    if isinstance(value, struct_pb2.Struct):
        value = json_format.MessageToDict(value)
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return plain(value.get("value"))
        if value.get(rpc._special_sig_key) == rpc._special_resource_sig:
            return plain(resource_reference_value(value))
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def resource_reference_value(reference: dict[str, Any]) -> Any:
    """What the engine passes for a resource reference when the receiver does not keep references (as
    for analyzers): the custom resource's id (unknown while it is), else the component's URN.
    pulumi/pulumi pkg/resource/plugin/rpc.go `MarshalPropertyValue`, `!opts.KeepResources` branch."""
    if "id" in reference:
        resource_id = reference["id"]
        return UNKNOWN if resource_id in ("", None) else resource_id
    return reference.get("urn", "")


def _options(request: resource_pb2.RegisterResourceRequest) -> dict[str, Any]:
    """The resource options the engine hands to analyzers, only those the program set."""
    options: dict[str, Any] = {}
    if request.HasField("protect"):
        options["protect"] = request.protect
    if request.ignoreChanges:
        options["ignoreChanges"] = list(request.ignoreChanges)
    if request.deleteBeforeReplaceDefined:
        options["deleteBeforeReplace"] = request.deleteBeforeReplace
    if request.additionalSecretOutputs:
        options["additionalSecretOutputs"] = list(request.additionalSecretOutputs)
    aliases = list(request.aliasURNs) + [alias.urn for alias in request.aliases if alias.urn]
    if aliases:
        options["aliases"] = aliases
    if request.HasField("customTimeouts"):
        timeouts = request.customTimeouts
        options["customTimeouts"] = {
            key: getattr(timeouts, key) for key in ("create", "update", "delete") if getattr(timeouts, key)
        }
    if request.HasField("retainOnDelete"):
        options["retainOnDelete"] = request.retainOnDelete
    if request.replaceOnChanges:
        options["replaceOnChanges"] = list(request.replaceOnChanges)
    return options


class RecordingMonitor(mocks.MockMonitor):
    """A mock resource monitor that keeps each registration exactly as sent.

    Outputs are the input Struct itself (so secret and unknown inputs stay secret and unknown, as the
    engine echoes them) plus the values `StackMocks.computed` adds. Local components get no outputs:
    the engine computes nothing for them.
    """

    mocks: StackMocks

    def __init__(self, stack_mocks: StackMocks) -> None:
        super().__init__(stack_mocks)
        self.recorded: list[RecordedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self.stack_outputs_struct = struct_pb2.Struct()
        self.unanswered: list[str] = []
        self.invokes: list[tuple[str, str]] = []
        self._by_urn: dict[str, RecordedResource] = {}
        self._lock = threading.Lock()
        self.program_files: ProgramFiles | None = None
        self.progress: Callable[[int], None] | None = None

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # As the engine names them: parent types joined by `$`, but never the root Stack's type
        # (MockMonitor prepends that too, giving URNs no real deployment has).
        if parent and parent.split("::")[2] == STACK_TYPE:
            parent = ""
        return super().make_urn(parent, type_, name)

    def Invoke(self, request: resource_pb2.ResourceInvokeRequest) -> resource_pb2.ResourceInvokeResponse:
        # The SDK sends the provider reference it resolved (explicit, or inherited from the parent); an empty one
        # means the engine's default provider (pulumi/runtime/invoke.py, ResourceInvokeRequest.provider).
        with self._lock:
            self.invokes.append((request.tok, request.provider))
        try:
            return super().Invoke(request)
        except UnknownInvokeError:
            with self._lock:
                if request.tok not in self.unanswered:
                    self.unanswered.append(request.tok)
            return invoke_forms.unknown_result(request.tok, plain=invoke_forms.in_plain_invoke())
        except ValueError as error:
            # The provider refuses such arguments (a policy document with a repeated Sid); the SDK raises
            # the failure in the program, naming the data source.
            return resource_pb2.ResourceInvokeResponse(failures=[provider_pb2.CheckFailure(reason=str(error))])

    def ReadResource(self, request: resource_pb2.ReadResourceRequest) -> resource_pb2.ReadResourceResponse:
        """`Resource.get(name, id)` and stack references. A read of an existing resource returns its id
        (the SDK takes the response's id; an empty one would make it unknown during a preview). Another
        stack's outputs are not available offline: a stack reference answers none, so every output read
        from it is unknown, and it is noted like a data source without an answer."""
        if request.type == STACK_REFERENCE_TYPE:
            with self._lock:
                self.unanswered.append(f"{STACK_REFERENCE_TYPE} {request.name}")
            urn = self.make_urn(request.parent, request.type, request.name)
            return resource_pb2.ReadResourceResponse(urn=urn, id=request.id or request.name)
        response = super().ReadResource(request)
        response.id = request.id
        return response

    def RegisterResource(self, request: resource_pb2.RegisterResourceRequest) -> resource_pb2.RegisterResourceResponse:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        inputs = plain(request.object)
        resource_id = ""
        outputs = struct_pb2.Struct()
        if request.remote:
            # No Construct runs offline: only the plain outputs that follow from the inputs are answered.
            answered = remote_components.outputs(request.type, request.name, urn, inputs, self.mocks.region)
            outputs.update({key: UNKNOWN for key in answered} if self.mocks.unknowns else answered)
        elif request.custom:
            resource_id, computed = self.mocks.computed(request.type, request.name, urn, inputs)
            outputs.CopyFrom(request.object)
            outputs.update(computed)
        state = plain(outputs)
        recorded = RecordedResource(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent,
            provider=request.provider,
            dependencies=tuple(request.dependencies),
            property_dependencies={key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()},
            inputs_struct=request.object,
            inputs=inputs,
            outputs=state,
            options=_options(request),
            remote=bool(request.remote),
            source=self.program_files.location(request.sourcePosition)
            if self.program_files and request.HasField("sourcePosition")
            else None,
        )
        with self._lock:
            self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
            self.recorded.append(recorded)
            self._by_urn[urn] = recorded
            count = len(self.recorded)
        if self.progress is not None:
            self.progress(count)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=outputs)

    def RegisterResourceOutputs(self, request: resource_pb2.RegisterResourceOutputsRequest) -> Any:
        outputs = plain(request.outputs)
        if request.urn.split("::")[2] == STACK_TYPE:
            self.stack_outputs = outputs
            self.stack_outputs_struct = request.outputs
        else:
            # A component's outputs are what it registers; the engine keeps them as its state.
            with self._lock:
                component = self._by_urn.get(request.urn)
                if component is not None:
                    component.outputs.update(outputs)
        return super().RegisterResourceOutputs(request)


class _ProgramLog(logging.Handler):
    """Collects what the program logs through `pulumi.log` (the mock engine sends it to a logger)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.warnings: list[str] = []
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        (self.errors if record.levelno >= logging.ERROR else self.warnings).append(record.getMessage())


def record(
    project_dir: Path,
    stack: str = "dev",
    *,
    unknowns: bool = False,
    config_overrides: Mapping[str, Any] | None = None,
    program: Path | None = None,
    config: StackConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> Recording:
    """Run the program for `stack` under type-aware mocks and return every registration.

    `config_overrides` are merged over the stack file as if written there (`{"shipshape:cpu": 512}`);
    `program` replaces the program Pulumi.yaml names (`main`, default `<project_dir>/__main__.py`);
    `config` skips loading the stack files; `progress` is called with the count after every registration.
    Raises ConfigError for bad config and ProgramError when the program fails.
    """
    project_dir = Path(project_dir).resolve()
    config = config or load_stack_config(project_dir, stack, config_overrides)
    location = locate_program(project_dir)
    if program is not None:
        program = Path(program).resolve()
        location = ProgramLocation(program=program, directory=project_dir, virtualenv=location.virtualenv)
    program = location.program
    if not program.is_file():
        raise ProgramError(f"no program at {program}")

    log = _ProgramLog()
    logger = logging.getLogger("preflight.program")
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    logger.addHandler(log)

    stack_mocks = StackMocks(config.region, unknowns=unknowns, project=config.project, stack=config.stack)
    monitor = RecordingMonitor(stack_mocks)
    monitor.program_files = ProgramFiles(project_dir, program)
    monitor.progress = progress
    reset_runtime()
    pulumi.runtime.set_all_config(dict(config.values), sorted(config.secret_keys))
    pulumi.runtime.set_mocks(
        stack_mocks,
        config.project,
        config.stack,
        preview=True,
        logger=logger,
        monitor=monitor,
        organization=ORGANIZATION,
    )
    runtime_settings.SETTINGS.root_directory = str(project_dir)
    # set_mocks registered a Stack of its own; run_in_stack makes the one the program runs in.
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
    try:
        with (
            as_language_host(project_dir, location),
            invoke_forms.marking_plain_invokes(),
            capturing(monitor.program_files),
        ):
            _sync_await(run_in_stack(lambda: runpy.run_path(str(program), run_name="__main__")))
    except pulumi.RunError as error:
        raise ProgramError(str(error)) from None
    except SyntaxError as error:
        where = monitor.program_files.syntax_error(error)
        raise ProgramError(where or _describe(error, project_dir, program)) from error
    except ModuleNotFoundError as error:
        hint = location.missing_virtualenv() or (
            f"install it into the project's virtualenv ({location.virtualenv})"
            if location.virtualenv
            else "install it where preflight runs, or name the project's virtualenv in Pulumi.yaml"
        )
        raise ProgramError(f"{_describe(error, project_dir, program)}; {hint}") from error
    except Exception as error:
        raise ProgramError(_describe(error, project_dir, program)) from error
    finally:
        reset_runtime()
        pulumi.runtime.set_all_config({}, [])
        logger.removeHandler(log)
    if log.errors:
        raise ProgramError("the program logged errors:\n" + "\n".join(log.errors))
    return Recording(
        project=config.project,
        stack=config.stack,
        config=dict(config.values),
        resources=monitor.recorded,
        outputs=monitor.stack_outputs,
        outputs_struct=monitor.stack_outputs_struct,
        warnings=log.warnings,
        unknowns=unknowns,
        unanswered_data_sources=sorted(set(monitor.unanswered)),
        invokes=list(monitor.invokes),
    )


def _describe(error: BaseException, project_dir: Path, program: Path) -> str:
    """One line for an unexpected error: where in the project it was raised, its type and message."""
    # Pulumi re-raises errors from inside outputs with the original as the cause; that one names the input.
    seen = {id(error)}
    while error.__cause__ is not None and id(error.__cause__) not in seen and not isinstance(error, pulumi.RunError):
        error = error.__cause__
        seen.add(id(error))
    if isinstance(error, pulumi.RunError):
        return str(error)
    where = ""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if Path(frame.filename).resolve() == program:
            where = f"{program.name}:{frame.lineno}: "
            break
        if in_project(frame.filename, project_dir):
            where = f"{Path(frame.filename).resolve().relative_to(project_dir)}:{frame.lineno}: "
            break
    text = " ".join(str(error).split())
    return f"{where}{type(error).__name__}: {text}" if text else f"{where}{type(error).__name__}"
