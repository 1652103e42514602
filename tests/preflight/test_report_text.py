"""The text report: the plan as a tree by component, counts by type, verdicts, a summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.model import ADVISORY, MANDATORY, Diagnostic, Report
from preflight.recorder import Recording, record
from preflight.report_text import render_text, short_urn

PROJECT = Path(__file__).parent / "project"


@pytest.fixture(scope="module")
def recording() -> Recording:
    return record(PROJECT, "test")


def report_of(recording: Recording, diagnostics: list[Diagnostic]) -> Report:
    return Report(
        project=recording.project,
        stack=recording.stack,
        resources=recording.resources,
        outputs=recording.outputs,
        policies=[],
        diagnostics=diagnostics,
        policy_pack="tiny-pack",
        policy_config="tiny.json",
        elapsed_seconds=1.234,
    )


def test_short_urn_is_type_and_name() -> None:
    urn = "urn:pulumi:dev::p::tiny:storage:Storage$aws:s3/bucket:Bucket::logs"
    assert short_urn(urn) == "aws:s3/bucket:Bucket::logs"
    assert short_urn("") == "(stack)"


def test_plan_is_a_tree_by_component_with_counts(recording: Recording) -> None:
    text = render_text(report_of(recording, []))
    lines = text.splitlines()
    component = lines.index("  + tiny:storage:Storage  store")
    assert lines[component + 1 : component + 4] == [
        "    - aws:dynamodb/table:Table  store-table",
        "    - aws:s3/bucket:Bucket  store-0",
        "    - aws:s3/bucket:Bucket  store-1",
    ]
    assert "  - aws:iam/role:Role  reader" in lines
    assert "     2  aws:s3/bucket:Bucket" in lines
    assert "  none: every rule passed" in lines
    assert lines[-1] == "passed: 6 resources, 0 mandatory, 0 advisory, 0 cannot judge yet; 1.23 s"


def test_verdicts_mandatory_first_then_advisory_then_cannot_judge(recording: Recording) -> None:
    bucket = recording.one("aws:s3/bucket:Bucket", "store-0").urn
    policy = recording.one("aws:iam/rolePolicy:RolePolicy").urn
    diagnostics = [
        Diagnostic("tiny-b", ADVISORY, bucket, "Buckets are b.\nnot b", description="Buckets are b."),
        Diagnostic(
            "tiny-c",
            ADVISORY,
            policy,
            "can't run policy 'tiny-c' from policy pack 'tiny-pack@v1' during preview: cannot judge yet: policy "
            "unknown during preview",
            cannot_judge=True,
        ),
        Diagnostic("tiny-a", MANDATORY, bucket, "Buckets are a.\nnot a", description="Buckets are a."),
    ]
    text = render_text(report_of(recording, diagnostics))
    verdicts = text.split("Policy verdicts (tiny-pack, config tiny.json):\n", 1)[1].splitlines()
    assert verdicts[:6] == [
        "  [mandatory] tiny-a  aws:s3/bucket:Bucket::store-0",
        "      not a",
        "  [advisory] tiny-b  aws:s3/bucket:Bucket::store-0",
        "      not b",
        "  [cannot judge] tiny-c  aws:iam/rolePolicy:RolePolicy::reader",
        "      cannot judge yet: policy unknown during preview",
    ]
    assert verdicts[-1] == (
        "FAILED: mandatory violations: 6 resources, 1 mandatory, 1 advisory, 1 cannot judge yet; 1.23 s"
    )
