"""One analysis: Analyze per resource on a few workers (after the pack is ready), then AnalyzeStack once.

Verdicts are collected in the order the resources were recorded, so a report never depends on thread timing.
`submit` may be called from any thread as resources arrive; `finish` sends the rest and collects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from pulumi.runtime.proto import analyzer_pb2

from preflight.model import ADVISORY, CANNOT_JUDGE_YET, Coverage, Diagnostic, RecordedResource
from preflight.policy_config import LEVELS, SEVERITIES

PROVIDER_PREFIX = "pulumi:providers:"


class Pack(Protocol):
    """What an Analysis asks of a running pack (preflight.analyzer.PolicyPack)."""

    stack_urn: str
    coverage: Coverage | None

    def _call(self, method: str, request: Any) -> Any: ...
    def _stack_request(self) -> analyzer_pb2.AnalyzeRequest: ...
    def _analyze_request(
        self, resource: RecordedResource, by_urn: Mapping[str, RecordedResource]
    ) -> analyzer_pb2.AnalyzeRequest: ...
    def _enabled_resource_rules(self) -> set[str]: ...
    def _stack_resources(
        self, resources: list[RecordedResource], by_urn: Mapping[str, RecordedResource]
    ) -> list[analyzer_pb2.AnalyzerResource]: ...


class Analysis:
    """Analyze for each resource (`submit`, or `finish` for those not submitted), then every verdict in
    recording order and AnalyzeStack once (`finish`).

    `ready`, when given, runs first on a worker (connecting to and configuring a pack that is still starting);
    no Analyze is sent before it returns, and an error it raises is raised again by `finish`.
    """

    def __init__(self, pack: Pack, *, ready: Callable[[], Any] | None = None, workers: int = 4) -> None:
        self.pack = pack
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="analyze")
        self._ready: Future[Any] | None = self._pool.submit(ready) if ready is not None else None
        self._by_urn: dict[str, RecordedResource] = {}
        self._pending: dict[str, Future[analyzer_pb2.AnalyzeResponse]] = {}
        self._stack: Future[analyzer_pb2.AnalyzeResponse] = self._pool.submit(self._send, lambda: pack._stack_request())

    def ready(self) -> Any:
        """What `ready` returned (waiting for it), or None without one."""
        return self._ready.result() if self._ready is not None else None

    def submit(self, resource: RecordedResource) -> None:
        """Send this resource's Analyze. The request is built on a worker (its provider is found among the
        resources submitted before it), so a failure to build or send it surfaces in `finish`."""
        self._by_urn[resource.urn] = resource
        self._pending[resource.urn] = self._pool.submit(
            self._send, lambda: self.pack._analyze_request(resource, self._by_urn)
        )

    def _send(self, build: Callable[[], analyzer_pb2.AnalyzeRequest]) -> analyzer_pb2.AnalyzeResponse:
        if self._ready is not None:
            self._ready.result()
        return self.pack._call("Analyze", build())

    def cancel(self) -> None:
        """Send nothing more and wait for what is in flight (the program failed, or the run is interrupted)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def finish(
        self, resources: list[RecordedResource], *, progress: Callable[[int, int], None] | None = None
    ) -> list[Diagnostic]:
        """Every resource's verdicts in recording order (sending Analyze for any not yet submitted), then
        AnalyzeStack once; sets the pack's coverage."""
        try:
            self.ready()
            for resource in resources:
                if resource.urn not in self._pending:
                    self.submit(resource)
            pack = self.pack
            diagnostics = list(diagnostics_of(self._stack.result(), pack.stack_urn))
            judged: set[str] = set()
            enabled = pack._enabled_resource_rules()
            for done, resource in enumerate(resources, start=1):
                response = self._pending[resource.urn].result()
                found = list(diagnostics_of(response, resource.urn))
                diagnostics.extend(found)
                not_applicable = {entry.policy_name for entry in response.not_applicable}
                if found or enabled - not_applicable:
                    judged.add(resource.urn)
                if progress is not None:
                    progress(done, len(resources))
            stack = analyzer_pb2.AnalyzeStackRequest(resources=pack._stack_resources(resources, self._by_urn))
            stack_diagnostics = list(diagnostics_of(pack._call("AnalyzeStack", stack), ""))
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        diagnostics.extend(stack_diagnostics)
        # Stack rules do not say which resources they read; those they name in a verdict they judged.
        judged.update(diagnostic.urn for diagnostic in stack_diagnostics)
        scope = [r.urn for r in resources if (r.custom and not r.type.startswith(PROVIDER_PREFIX)) or r.remote]
        pack.coverage = Coverage(
            judged=tuple(urn for urn in scope if urn in judged),
            unjudged=tuple(urn for urn in scope if urn not in judged),
        )
        return diagnostics


def is_cannot_judge(message: str, description: str = "") -> bool:
    """pulumi-policy's own preview message, or a rule's reason that starts with "cannot judge yet"."""
    if "can't run policy" in message and "during preview" in message:
        return True
    reason = message[len(description) :] if description and message.startswith(description) else message
    return reason.strip().lower().startswith(CANNOT_JUDGE_YET)


def diagnostics_of(response: analyzer_pb2.AnalyzeResponse, urn: str) -> Iterable[Diagnostic]:
    """A response's diagnostics as preflight's; `urn` for those that name none (the resource analyzed)."""
    for diagnostic in response.diagnostics:
        yield Diagnostic(
            policy=diagnostic.policyName,
            level=LEVELS.get(diagnostic.enforcementLevel, ADVISORY),
            urn=diagnostic.urn or urn,
            message=diagnostic.message,
            severity=SEVERITIES.get(diagnostic.severity, ""),
            description=diagnostic.description,
            pack=diagnostic.policyPackName,
            cannot_judge=is_cannot_judge(diagnostic.message, diagnostic.description),
        )
