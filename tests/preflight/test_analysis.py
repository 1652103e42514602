"""One Analysis: verdicts in recording order whatever order the pack answers in, nothing sent before the pack
is ready, and a pack that fails to get ready fails the run (its error, not a hang or a silent pass)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from preflight.analysis import Analysis
from preflight.model import RecordedResource

STACK_URN = "urn:pulumi:dev::demo::pulumi:pulumi:Stack::demo-dev"


def resource(number: int) -> RecordedResource:
    return RecordedResource(
        urn=f"urn:pulumi:dev::demo::aws:s3/bucket:Bucket::b{number}",
        type="aws:s3/bucket:Bucket",
        name=f"b{number}",
        custom=True,
        parent=STACK_URN,
        provider="",
        dependencies=(),
        property_dependencies={},
        inputs_struct=struct_pb2.Struct(),
        inputs={},
    )


class FakePack:
    """The parts of PolicyPack an Analysis uses; answers Analyze in reverse order of the requests."""

    stack_urn = STACK_URN

    def __init__(self, expected: int) -> None:
        self.calls: list[str] = []
        self.ready = threading.Event()
        self.coverage: Any = None
        self._arrived: list[str] = []
        self._count = 0
        self._turn = threading.Condition()
        self._expected = expected

    def _stack_request(self) -> analyzer_pb2.AnalyzeRequest:
        return analyzer_pb2.AnalyzeRequest(urn=STACK_URN, type="pulumi:pulumi:Stack")

    def _analyze_request(self, resource: RecordedResource, by_urn: Any) -> analyzer_pb2.AnalyzeRequest:
        return analyzer_pb2.AnalyzeRequest(urn=resource.urn, type=resource.type, name=resource.name)

    def _enabled_resource_rules(self) -> set[str]:
        return {"rule"}

    def _stack_resources(self, resources: list[RecordedResource], by_urn: Any) -> list[Any]:
        return []

    def _call(self, method: str, request: Any) -> Any:
        assert self.ready.is_set(), f"{method} sent before the pack was ready"
        self.calls.append(method)
        if method == "AnalyzeStack":
            return analyzer_pb2.AnalyzeResponse()
        if request.urn != STACK_URN:
            with self._turn:  # the last request to arrive is answered first, the first last
                self._arrived.append(request.urn)
                self._count += 1
                self._turn.notify_all()
                self._turn.wait_for(lambda: self._count >= self._expected)
                self._turn.wait_for(lambda: self._arrived[-1] == request.urn)
                self._arrived.remove(request.urn)
                self._turn.notify_all()
        diagnostic = analyzer_pb2.AnalyzeDiagnostic(policyName="rule", message=f"about {request.urn}")
        return analyzer_pb2.AnalyzeResponse(diagnostics=[diagnostic])


def test_verdicts_come_in_recording_order_whatever_order_the_pack_answers() -> None:
    resources = [resource(number) for number in range(4)]
    pack = FakePack(expected=len(resources))
    analysis = Analysis(pack, ready=pack.ready.set, workers=len(resources) + 1)  # type: ignore[arg-type]
    for item in resources:
        analysis.submit(item)
    seen: list[tuple[int, int]] = []
    diagnostics = analysis.finish(resources, progress=lambda done, total: seen.append((done, total)))
    assert [d.urn for d in diagnostics] == [STACK_URN] + [r.urn for r in resources]
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert pack.calls.count("Analyze") == 5 and pack.calls[-1] == "AnalyzeStack"
    assert pack.coverage.judged == tuple(r.urn for r in resources)


def test_nothing_is_sent_before_the_pack_is_ready() -> None:
    resources = [resource(number) for number in range(3)]
    pack = FakePack(expected=len(resources))
    release = threading.Event()

    def ready() -> dict[str, str]:
        release.wait(timeout=30)
        pack.ready.set()
        return {"rule": "advisory"}

    analysis = Analysis(pack, ready=ready, workers=len(resources) + 2)  # type: ignore[arg-type]
    for item in resources:
        analysis.submit(item)
    assert pack.calls == []  # FakePack._call also asserts readiness for every call
    release.set()
    assert analysis.ready() == {"rule": "advisory"}
    assert len(analysis.finish(resources)) == 4


def test_a_pack_that_cannot_get_ready_fails_the_run_and_sends_nothing() -> None:
    resources = [resource(number) for number in range(3)]
    pack = FakePack(expected=len(resources))

    def refuse() -> None:
        raise ValueError("policy config problems: no such rule")

    analysis = Analysis(pack, ready=refuse)  # type: ignore[arg-type]
    for item in resources:
        analysis.submit(item)
    with pytest.raises(ValueError, match="no such rule"):
        analysis.finish(resources)
    assert pack.calls == []
