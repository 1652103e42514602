"""Analyze: start the policy pack exactly as the Pulumi CLI does and call it, as the engine would, over
the analyzer gRPC protocol: GetAnalyzerInfo, Configure, Analyze per resource, AnalyzeStack once."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, plugin_pb2

from preflight.model import ADVISORY, DISABLED, MANDATORY, REMEDIATE, Diagnostic, PolicyInfo, RecordedResource

LEVELS = {
    analyzer_pb2.ADVISORY: ADVISORY,
    analyzer_pb2.MANDATORY: MANDATORY,
    analyzer_pb2.DISABLED: DISABLED,
    analyzer_pb2.REMEDIATE: REMEDIATE,
}
LEVEL_VALUES = {name: value for value, name in LEVELS.items()}
SEVERITIES = {
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
CANNOT_JUDGE_MARKERS = ("can't run policy", "cannot judge yet")
START_TIMEOUT_SECONDS = 60.0
MAX_MESSAGE = 400 * 1024 * 1024
CHANNEL_OPTIONS = [("grpc.max_send_message_length", MAX_MESSAGE), ("grpc.max_receive_message_length", MAX_MESSAGE)]


class AnalyzerError(Exception):
    """The pack would not start, or answered something the engine would refuse."""


class PolicyConfigError(Exception):
    """The policy-pack-config file names an unknown rule or gives options its schema refuses."""


class PolicyPack:
    """A running pack: `with PolicyPack(dir, ...) as pack: pack.info(); pack.analyze(...)`."""

    def __init__(self, pack_dir: Path, *, project: str, stack: str, config: Mapping[str, str], dry_run: bool) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.env = {
            **os.environ,
            "PULUMI_PROJECT": project,
            "PULUMI_STACK": stack,
            "PULUMI_DRY_RUN": "true" if dry_run else "false",
            "PULUMI_CONFIG": json.dumps(dict(config)),
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._info: analyzer_pb2.AnalyzerInfo | None = None

    def __enter__(self) -> PolicyPack:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        main = self.pack_dir / "__main__.py"
        if not main.is_file():
            raise AnalyzerError(f"policy pack: no __main__.py in {self.pack_dir}")
        # As the CLI does: the pack's own directory, `python __main__.py`, the port on its first line.
        self.process = subprocess.Popen(
            [sys.executable, "-u", "__main__.py"],
            cwd=self.pack_dir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True).start()
        try:
            first = lines.get(timeout=START_TIMEOUT_SECONDS)
        except queue.Empty:
            self.stop()
            raise AnalyzerError(
                f"policy pack in {self.pack_dir} printed no port within {START_TIMEOUT_SECONDS:.0f} s"
            ) from None
        if not first.strip().isdigit():
            stderr = self._stderr()
            self.stop()
            raise AnalyzerError(
                f"policy pack in {self.pack_dir} failed to start:\n{stderr or first.decode(errors='replace')}"
            )
        self.channel = grpc.insecure_channel(f"127.0.0.1:{int(first)}", options=CHANNEL_OPTIONS)
        grpc.channel_ready_future(self.channel).result(timeout=START_TIMEOUT_SECONDS)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def _stderr(self) -> str:
        if self.process is None or self.process.stderr is None:
            return ""
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return ""
        return self.process.stderr.read().decode(errors="replace").strip()

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
            self.process = None

    def _call(self, method: str, request: Any) -> Any:
        assert self.stub is not None, "the pack is not started"
        try:
            return getattr(self.stub, method)(request)
        except grpc.RpcError as error:
            raise AnalyzerError(f"policy pack {method} failed: {error.details() or error.code()}") from None

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        if self._info is None:
            self._info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        return self._info

    def plugin_version(self) -> str:
        response: plugin_pb2.PluginInfo = self._call("GetPluginInfo", empty_pb2.Empty())
        return response.version

    def configure(self, policy_config: Mapping[str, Any] | None) -> dict[str, str]:
        """Apply a policy-pack-config document the way the CLI does; returns rule -> level."""
        levels, properties = resolve_policy_config(self.info(), policy_config or {})
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, level in levels.items():
            config = analyzer_pb2.PolicyConfig(enforcementLevel=LEVEL_VALUES[level])
            config.properties.update(properties.get(name, {}))
            request.policyConfig[name].CopyFrom(config)
        self._call("Configure", request)
        return levels

    def analyze(
        self,
        resources: list[RecordedResource],
        *,
        progress: Callable[[int, int], None] | None = None,
        workers: int = 4,
    ) -> list[Diagnostic]:
        by_urn = {r.urn: r for r in resources}
        requests = [_analyze_request(r, by_urn) for r in resources]
        diagnostics: list[Diagnostic] = []
        done = 0
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for resource, response in zip(
                resources, pool.map(lambda q: self._call("Analyze", q), requests), strict=True
            ):
                diagnostics.extend(_diagnostics(response, resource.urn))
                done += 1
                if progress is not None:
                    progress(done, len(resources))
        stack = analyzer_pb2.AnalyzeStackRequest(resources=[_stack_resource(r, by_urn) for r in resources])
        diagnostics.extend(_diagnostics(self._call("AnalyzeStack", stack), ""))
        return diagnostics


def policies_of(info: analyzer_pb2.AnalyzerInfo, levels: Mapping[str, str] | None = None) -> list[PolicyInfo]:
    found = []
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema) if policy.HasField("configSchema") else {}
        found.append(
            PolicyInfo(
                name=policy.name,
                description=policy.description,
                level=(levels or {}).get(policy.name, LEVELS.get(policy.enforcementLevel, ADVISORY)),
                severity=SEVERITIES.get(policy.severity, ""),
                remediation_steps=policy.remediation_steps,
                tags=tuple(policy.tags),
                framework=policy.framework.name if policy.HasField("framework") else "",
                url=policy.url,
                kind="stack" if policy.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
                config_schema=schema,
            )
        )
    return found


def resolve_policy_config(
    info: analyzer_pb2.AnalyzerInfo, document: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Levels and options per rule: defaults, then `all`, then the rule's own entry; options checked
    against the rule's configSchema with its defaults applied."""
    names = {policy.name: policy for policy in info.policies}
    problems: list[str] = []
    unknown = sorted(set(document) - set(names) - {"all"})
    problems.extend(f"{name}: no such rule in policy pack {info.name}" for name in unknown)

    def level_of(key: str, value: Any) -> str | None:
        level = value.get("enforcementLevel") if isinstance(value, Mapping) else value
        if level is None and isinstance(value, Mapping):
            return None
        if level not in LEVEL_VALUES:
            problems.append(f"{key}: enforcement level {level!r} is not one of {', '.join(LEVEL_VALUES)}")
            return None
        return level

    all_level = level_of("all", document["all"]) if "all" in document else None
    levels: dict[str, str] = {}
    properties: dict[str, dict[str, Any]] = {}
    for name, policy in names.items():
        level = LEVELS.get(policy.enforcementLevel, ADVISORY)
        initial = info.initialConfig.get(name) if name in info.initialConfig else None
        options: dict[str, Any] = {}
        if initial is not None:
            level = LEVELS.get(initial.enforcementLevel, level)
            options.update(json_format.MessageToDict(initial.properties))
        if all_level is not None:
            level = all_level
        entry = document.get(name)
        if entry is not None:
            own = level_of(name, entry)
            level = own or level
            if isinstance(entry, Mapping):
                options.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        schema = json_format.MessageToDict(policy.configSchema) if policy.HasField("configSchema") else {}
        for key, spec in (schema.get("properties") or {}).items():
            if key not in options and isinstance(spec, Mapping) and "default" in spec:
                options[key] = spec["default"]
        if schema:
            full = {"type": "object", **schema}
            for error in jsonschema.Draft7Validator(full).iter_errors(options):
                where = ".".join(str(p) for p in error.absolute_path) or "(options)"
                problems.append(f"{name}: {where}: {error.message}")
        elif options:
            problems.append(f"{name}: takes no options, got {', '.join(sorted(options))}")
        levels[name] = level
        properties[name] = options
    if problems:
        raise PolicyConfigError("\n".join(problems))
    return levels, properties


def _provider(
    resource: RecordedResource, by_urn: Mapping[str, RecordedResource]
) -> analyzer_pb2.AnalyzerProviderResource | None:
    urn = resource.provider.rsplit("::", 1)[0] if resource.provider else ""
    provider = by_urn.get(urn)
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, properties=provider.inputs_struct, urn=provider.urn, name=provider.name
    )


def _analyze_request(resource: RecordedResource, by_urn: Mapping[str, RecordedResource]) -> analyzer_pb2.AnalyzeRequest:
    return analyzer_pb2.AnalyzeRequest(
        type=resource.type,
        properties=resource.inputs_struct,
        urn=resource.urn,
        name=resource.name,
        options=analyzer_pb2.AnalyzerResourceOptions(),
        provider=_provider(resource, by_urn),
    )


def _stack_resource(
    resource: RecordedResource, by_urn: Mapping[str, RecordedResource]
) -> analyzer_pb2.AnalyzerResource:
    return analyzer_pb2.AnalyzerResource(
        type=resource.type,
        properties=resource.inputs_struct,
        urn=resource.urn,
        name=resource.name,
        options=analyzer_pb2.AnalyzerResourceOptions(),
        provider=_provider(resource, by_urn),
        parent=resource.parent,
        dependencies=list(resource.dependencies),
        propertyDependencies={
            key: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
            for key, urns in resource.property_dependencies.items()
        },
    )


def _diagnostics(response: analyzer_pb2.AnalyzeResponse, urn: str) -> Iterable[Diagnostic]:
    for diagnostic in response.diagnostics:
        message = diagnostic.message
        yield Diagnostic(
            policy=diagnostic.policyName,
            level=LEVELS.get(diagnostic.enforcementLevel, ADVISORY),
            urn=diagnostic.urn or urn,
            message=message,
            severity=SEVERITIES.get(diagnostic.severity, ""),
            description=diagnostic.description,
            pack=diagnostic.policyPackName,
            cannot_judge=any(marker in message for marker in CANNOT_JUDGE_MARKERS),
        )


def empty_struct() -> struct_pb2.Struct:
    return struct_pb2.Struct()
