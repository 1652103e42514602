"""Analyze: start the policy pack exactly as the Pulumi CLI does and call it, as the engine would, over
the analyzer gRPC protocol: GetAnalyzerInfo, Configure, Analyze per resource, AnalyzeStack once."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, plugin_pb2

from preflight.analysis import PROVIDER_PREFIX, Analysis
from preflight.marshal import for_analyzer, resource_options, stack_properties
from preflight.model import (
    DISABLED,
    Coverage,
    Diagnostic,
    RecordedResource,
)
from preflight.pack_runtime import PackEnvironmentError, pack_python
from preflight.policy_config import (
    LEVEL_VALUES,
    policies_of,
    resolve_policy_config,
)
from preflight.recorder import ORGANIZATION, STACK_TYPE

START_TIMEOUT_SECONDS = 60.0
MAX_MESSAGE = 400 * 1024 * 1024
CHANNEL_OPTIONS = [("grpc.max_send_message_length", MAX_MESSAGE), ("grpc.max_receive_message_length", MAX_MESSAGE)]


class AnalyzerError(Exception):
    """The pack would not start, or answered something the engine would refuse."""


class PolicyPack:
    """A running pack, spoken to as the engine speaks to it.

    with PolicyPack(ROOT / "policies", project="shipshape", stack="dev", config=rec.config) as pack:
        levels = pack.configure(policy_config)
        diagnostics = pack.analyze(rec.resources)
    """

    def __init__(
        self,
        pack_dir: Path,
        *,
        project: str,
        stack: str,
        config: Mapping[str, str],
        dry_run: bool = True,
        secret_keys: Iterable[str] = (),
    ) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.project = project
        self.stack = stack
        self.config = dict(config)
        self.dry_run = dry_run
        self.secret_keys = sorted(secret_keys)
        # What the CLI sets for a policy pack plugin; the pack's runtime settings come from these.
        self.env = {
            **os.environ,
            "PULUMI_PROJECT": project,
            "PULUMI_STACK": stack,
            "PULUMI_ORGANIZATION": ORGANIZATION,
            "PULUMI_DRY_RUN": "true" if dry_run else "false",
            "PULUMI_CONFIG": json.dumps(self.config),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(self.secret_keys),
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._info: analyzer_pb2.AnalyzerInfo | None = None
        self._levels: dict[str, str] = {}
        self._default_providers: dict[str, analyzer_pb2.AnalyzerProviderResource] = {}
        self.coverage: Coverage | None = None
        """Set by `analyze`: which resources at least one rule judged."""
        self._stderr: list[bytes] = []
        self._first_line: queue.Queue[bytes] = queue.Queue()
        self._stderr_reader: threading.Thread | None = None
        self._port: int | None = None

    def __enter__(self) -> PolicyPack:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def stack_urn(self) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{STACK_TYPE}::{self.project}-{self.stack}"

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Start `python -u __main__.py` in the pack directory and connect to the port it prints."""
        self.launch()
        self.connect(timeout)

    def launch(self) -> None:
        """Start the pack's process without waiting for it, so its imports overlap other work."""
        main = self.pack_dir / "__main__.py"
        if not main.is_file():
            raise AnalyzerError(f"policy pack: no __main__.py in {self.pack_dir}")
        try:
            python = pack_python(self.pack_dir)
        except PackEnvironmentError as error:
            raise AnalyzerError(str(error)) from None
        self.process = subprocess.Popen(
            [python, "-u", "__main__.py"],
            cwd=self.pack_dir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        process = self.process
        # Drained continuously so a chatty pack can never block on a full stderr pipe.
        self._stderr_reader = threading.Thread(
            target=lambda: self._stderr.extend(iter(process.stderr.readline, b"")), daemon=True
        )
        self._stderr_reader.start()
        threading.Thread(target=lambda: self._first_line.put(process.stdout.readline()), daemon=True).start()

    def port(self, timeout: float = START_TIMEOUT_SECONDS) -> int:
        """Wait for the launched pack's port (its first line on stdout), without opening a channel: a
        process that forks (`preflight --watch`) must have no gRPC channel of its own."""
        if self._port is None:
            self._port = self._read_port(timeout)
        return self._port

    def connect(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Wait for the launched pack's port and open the channel."""
        port = self.port(timeout)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
        try:
            grpc.channel_ready_future(self.channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            self.stop()
            raise AnalyzerError(f"policy pack in {self.pack_dir} did not accept connections on port {port}") from None
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def disconnect(self) -> None:
        """Close the channel and leave the pack running (it serves the next connection)."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        self.stub = None

    def _read_port(self, timeout: float) -> int:
        process = self.process
        if process is None:
            raise AnalyzerError("the policy pack is not launched")
        lines = self._first_line
        try:
            first = lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise AnalyzerError(
                f"policy pack in {self.pack_dir} printed no port within {timeout:.0f} s{self._stderr_tail()}"
            ) from None
        if not first.strip().isdigit():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            said = first.decode(errors="replace").strip()
            message = (
                f"policy pack in {self.pack_dir} failed to start"
                + (f" (it printed {said!r} instead of a port)" if said else "")
                + self._stderr_tail()
            )
            self.stop()
            raise AnalyzerError(message)
        return int(first)

    def _stderr_tail(self, lines: int = 40) -> str:
        if self._stderr_reader is not None and self.process is not None and self.process.poll() is not None:
            self._stderr_reader.join(timeout=5)  # the pack has exited: let the reader reach the end
        text = b"".join(self._stderr[-lines:]).decode(errors="replace").strip()
        return f":\n{text}" if text else ""

    def stop(self) -> None:
        """Close the channel and end the pack: SIGINT (its server's own clean stop), then terminate."""
        self.disconnect()
        process, self.process = self.process, None
        if process is None:
            return
        for stop in (lambda: process.send_signal(signal.SIGINT), process.terminate, process.kill):
            if process.poll() is not None:
                break
            stop()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        process.wait()
        if self._stderr_reader is not None:
            self._stderr_reader.join(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    def _call(self, method: str, request: Any, *, optional: bool = False) -> Any:
        if self.stub is None:
            raise AnalyzerError("the policy pack is not started")
        try:
            return getattr(self.stub, method)(request)
        except grpc.RpcError as error:
            if optional and error.code() == grpc.StatusCode.UNIMPLEMENTED:
                return None
            details = error.details() if hasattr(error, "details") else str(error)
            raise AnalyzerError(f"policy pack {method} failed: {details}{self._stderr_tail(10)}") from None

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        if self._info is None:
            self._info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        return self._info

    def plugin_version(self) -> str:
        response: plugin_pb2.PluginInfo = self._call("GetPluginInfo", empty_pb2.Empty())
        return response.version

    def configure(self, policy_config: Mapping[str, Any] | None) -> dict[str, str]:
        """Apply a policy-pack-config document the way the CLI does, then tell the pack which stack it
        judges (ConfigureStack); returns rule -> enforcement level."""
        levels, properties = resolve_policy_config(self.info(), policy_config or {})
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, level in levels.items():
            config = analyzer_pb2.PolicyConfig(enforcementLevel=LEVEL_VALUES[level])
            config.properties.update(properties.get(name, {}))
            request.policyConfig[name].CopyFrom(config)
        self._call("Configure", request)
        self._levels = dict(levels)
        self._call(
            "ConfigureStack",
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=self.stack,
                project=self.project,
                organization=ORGANIZATION,
                dry_run=self.dry_run,
                config=self.config,
                config_secret_keys=self.secret_keys,
                tags={"pulumi:project": self.project, "pulumi:runtime": "python"},
            ),
            optional=True,  # packs built on older pulumi-policy do not implement it; the CLI carries on too
        )
        return levels

    def analyze(
        self,
        resources: list[RecordedResource],
        *,
        progress: Callable[[int, int], None] | None = None,
        workers: int = 4,
    ) -> list[Diagnostic]:
        """Analyze every resource (the Stack first, as the engine registers it), then AnalyzeStack once."""
        return self.stream(workers=workers).finish(resources, progress=progress)

    def stream(self, *, ready: Callable[[], Any] | None = None, workers: int = 4) -> Analysis:
        """An Analysis to submit resources to while the program records (see preflight/analysis.py)."""
        return Analysis(self, ready=ready, workers=workers)

    def _enabled_resource_rules(self) -> set[str]:
        """Rules that run on Analyze (resource rules not disabled by the policy config)."""
        return {
            policy.name
            for policy in policies_of(self.info(), self._levels)
            if policy.level != DISABLED and policy.kind == "resource"
        }

    def _stack_request(self) -> analyzer_pb2.AnalyzeRequest:
        return analyzer_pb2.AnalyzeRequest(
            type=STACK_TYPE, properties=struct_pb2.Struct(), urn=self.stack_urn, name=f"{self.project}-{self.stack}"
        )

    def _provider(
        self, resource: RecordedResource, by_urn: Mapping[str, RecordedResource]
    ) -> analyzer_pb2.AnalyzerProviderResource | None:
        if resource.type.startswith(PROVIDER_PREFIX) or not resource.custom:
            return None
        if resource.provider:
            provider = by_urn.get(resource.provider.rsplit("::", 1)[0])
            if provider is None:
                return None
            return analyzer_pb2.AnalyzerProviderResource(
                type=provider.type,
                properties=for_analyzer(provider.inputs_struct),
                urn=provider.urn,
                name=provider.name,
            )
        # The engine's default provider for the package, configured from the stack's `<package>:` keys.
        package = resource.type.split(":", 1)[0]
        if package not in self._default_providers:
            self._default_providers[package] = self._default_provider(package)
        return self._default_providers[package]

    def _default_provider(self, package: str) -> analyzer_pb2.AnalyzerProviderResource:
        properties = struct_pb2.Struct()
        properties.update(
            {key.split(":", 1)[1]: value for key, value in self.config.items() if key.startswith(f"{package}:")}
        )
        return analyzer_pb2.AnalyzerProviderResource(
            type=f"{PROVIDER_PREFIX}{package}",
            properties=properties,
            urn=f"urn:pulumi:{self.stack}::{self.project}::{PROVIDER_PREFIX}{package}::default",
            name="default",
        )

    def _analyze_request(
        self, resource: RecordedResource, by_urn: Mapping[str, RecordedResource]
    ) -> analyzer_pb2.AnalyzeRequest:
        return analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            properties=for_analyzer(resource.inputs_struct),
            urn=resource.urn,
            name=resource.name,
            options=resource_options(resource),
            provider=self._provider(resource, by_urn),
        )

    def _stack_resources(
        self, resources: list[RecordedResource], by_urn: Mapping[str, RecordedResource]
    ) -> list[analyzer_pb2.AnalyzerResource]:
        """What AnalyzeStack sees: every resource but providers, with its outputs (as after a preview)."""
        judged = [
            analyzer_pb2.AnalyzerResource(
                type=STACK_TYPE, properties=struct_pb2.Struct(), urn=self.stack_urn, name=f"{self.project}-{self.stack}"
            )
        ]
        for resource in resources:
            if resource.type.startswith(PROVIDER_PREFIX):
                continue
            judged.append(
                analyzer_pb2.AnalyzerResource(
                    type=resource.type,
                    properties=stack_properties(resource),
                    urn=resource.urn,
                    name=resource.name,
                    options=resource_options(resource),
                    provider=self._provider(resource, by_urn),
                    parent=resource.parent,
                    dependencies=list(resource.dependencies),
                    propertyDependencies={
                        key: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
                        for key, urns in resource.property_dependencies.items()
                    },
                )
            )
        return judged
