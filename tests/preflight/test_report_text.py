"""The text report: Pulumi's plan markers and summary, outputs, findings with their site and fix, a summary."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from preflight.model import ADVISORY, MANDATORY, Coverage, Diagnostic, PolicyInfo, Report
from preflight.recorder import Recording, record
from preflight.reports import compare, render
from preflight.reports.common import plan_summary_lines
from preflight.reports.text import render_text, short_urn
from preflight.reports.values import struct_to_json
from tests.preflight.example_report import example_report
from tests.preflight.golden_files import assert_matches_golden
from tests.preflight.test_diff import _baseline_of

PROJECT = Path(__file__).parent / "project"


@pytest.fixture(scope="module")
def recording() -> Recording:
    return record(PROJECT, "test")


def report_of(recording: Recording, diagnostics: list[Diagnostic], policies: list[PolicyInfo] = ()) -> Report:
    return Report(
        project=recording.project,
        stack=recording.stack,
        resources=recording.resources,
        outputs=struct_to_json(recording.outputs_struct),
        policies=list(policies),
        diagnostics=diagnostics,
        policy_pack="tiny-pack",
        policy_config="tiny.json",
        elapsed_seconds=1.234,
    )


def test_text_matches_golden() -> None:
    assert_matches_golden("example_report.txt", render(example_report(), "text"))


def test_text_with_a_baseline_matches_golden() -> None:
    report = example_report()
    assert_matches_golden("example_report_with_diff.txt", render(report, "text", compare(_baseline_of(report), report)))


def test_short_urn_is_type_and_name() -> None:
    urn = "urn:pulumi:dev::p::tiny:storage:Storage$aws:s3/bucket:Bucket::logs"
    assert short_urn(urn) == "aws:s3/bucket:Bucket::logs"
    assert short_urn("") == "(stack)"


def test_plan_marks_every_resource_to_create_under_the_stack_with_where_it_was_made(recording: Recording) -> None:
    lines = render_text(report_of(recording, [])).splitlines()
    assert lines[0] == "Previewing stack test of project tiny (offline; provider outputs mocked)"
    stack = lines.index(" +   pulumi:pulumi:Stack  tiny-test")
    source = (PROJECT / "__main__.py").read_text().splitlines()
    component_line = next(n for n, text in enumerate(source, 1) if text.startswith("storage = Storage("))
    bucket_line = next(n for n, text in enumerate(source, 1) if "aws.s3.Bucket(" in text)
    assert lines[stack + 3 : stack + 7] == [
        f" +   └─ tiny:storage:Storage  store  __main__.py:{component_line}",
        f" +      ├─ aws:s3/bucket:Bucket  store-0  __main__.py:{bucket_line}",
        f" +      ├─ aws:s3/bucket:Bucket  store-1  __main__.py:{bucket_line}",
        f" +      └─ aws:dynamodb/table:Table  store-table  __main__.py:{bucket_line + 1}",
    ]
    summary = lines.index("Resources:")
    assert lines[summary + 1 : summary + 3] == ["    + 7 to create", ""]
    assert "     2  aws:s3/bucket:Bucket" in lines
    assert "  none: every rule passed" in lines
    assert lines[-1] == "passed: 5 resources, 0 mandatory, 0 advisory, 0 cannot judge yet; 1.23 s"


def test_stack_outputs_are_listed_with_secrets_masked(recording: Recording) -> None:
    text = render_text(report_of(recording, []))
    outputs = text.split("\nOutputs:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert outputs[0] == "    apiTokenIsSecret: [secret]"
    assert outputs[2] == '    readers: ["111122223333"]'
    assert outputs[3].startswith('    roleArn: "arn:aws:iam::')


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"create": 42}, ["Resources:", "    + 42 to create"]),
        ({"same": 9}, ["Resources:", "    9 unchanged"]),
        (
            {"create": 1, "update": 2, "delete": 3, "replace": 1, "same": 5},
            [
                "Resources:",
                "    + 1 to create",
                "    ~ 2 to update",
                "    - 3 to delete",
                "    +-1 to replace",
                "    7 changes. 5 unchanged",
            ],
        ),
        ({"update": 1, "same": 2}, ["Resources:", "    ~ 1 to update", "    2 unchanged"]),
    ],
)
def test_summary_is_worded_as_pulumi_words_it(counts: dict[str, int], expected: list[str]) -> None:
    assert plan_summary_lines(counts) == expected


def test_a_baseline_marks_updates_deletes_and_replacements() -> None:
    report = example_report()
    repository = next(r for r in report.resources if r.type == "aws:ecr/repository:Repository")
    replaced = dataclasses.replace(repository, options={"replaceOnChanges": ["imageTagMutability"]})
    baseline = json.loads(render(report, "json"))
    target = next(r for r in baseline["resources"] if r["urn"] == repository.urn)
    target["inputs"]["imageTagMutability"] = "IMMUTABLE"
    updated = render_text(report, compare(baseline, report))
    assert " ~   │  ├─ aws:ecr/repository:Repository  registry  components/registry.py:19" in updated
    assert "    ~ 1 to update\n" in updated
    swapped = dataclasses.replace(report, resources=[replaced if r is repository else r for r in report.resources])
    text = render_text(swapped, compare(baseline, swapped))
    assert " +-  │  ├─ aws:ecr/repository:Repository  registry  components/registry.py:19" in text
    assert "    +-1 to replace\n" in text
    assert "  +- aws:ecr/repository:Repository::registry: imageTagMutability" in text


def test_findings_are_ordered_worst_first_with_their_fix(recording: Recording) -> None:
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
    policies = [
        PolicyInfo("tiny-a", "Buckets are a.", MANDATORY, remediation_steps="Make it a."),
        PolicyInfo("tiny-c", "Policies are c.", ADVISORY, remediation_steps="Make it c."),
    ]
    text = render_text(report_of(recording, diagnostics, policies))
    verdicts = text.split("Policy verdicts (tiny-pack, config tiny.json):\n", 1)[1].splitlines()
    line = recording.one("aws:s3/bucket:Bucket", "store-0").source.line
    policy_site = recording.one("aws:iam/rolePolicy:RolePolicy").source
    assert verdicts[:7] == [
        f"  [mandatory] tiny-a  aws:s3/bucket:Bucket::store-0  (__main__.py:{line})",
        "      not a",
        "      fix: Make it a.",
        f"  [advisory] tiny-b  aws:s3/bucket:Bucket::store-0  (__main__.py:{line})",
        "      not b",
        f"  [cannot judge] tiny-c  aws:iam/rolePolicy:RolePolicy::reader  ({policy_site})",
        "      cannot judge yet: policy unknown during preview",
    ]
    assert verdicts[-1] == (
        "FAILED: mandatory violations: 5 resources, 1 mandatory, 1 advisory, 1 cannot judge yet; 1.23 s"
    )


def test_an_empty_plan_never_claims_every_rule_passed(recording: Recording) -> None:
    components_only = dataclasses.replace(
        report_of(recording, []), resources=[r for r in recording.resources if not r.custom]
    )
    nothing_in_scope = dataclasses.replace(
        report_of(recording, []), coverage=Coverage(judged=(), unjudged=(recording.resources[0].urn,))
    )
    for report in (components_only, nothing_in_scope):
        text = render_text(report)
        assert "  none, but no rule judged any resource" in text
        assert "every rule passed" not in text
        assert "but no rule judged any resource: nothing was in scope." in render(report, "markdown")
    assert "Coverage: 0 of 1 resources judged by at least one rule (0 %)" in render_text(nothing_in_scope)


def test_a_finding_with_its_own_fix_gets_no_second_one(recording: Recording) -> None:
    """The catalogue's fix stands beside a finding only when the finding does not say its own, in text and
    Markdown alike."""
    bucket = recording.one("aws:s3/bucket:Bucket", "store-0").urn
    diagnostics = [
        Diagnostic("tiny-a", MANDATORY, bucket, "Bucket is open. Fix: close it with a block.", description=""),
        Diagnostic("tiny-b", MANDATORY, bucket, "Bucket is b.", description=""),
    ]
    policies = [
        PolicyInfo("tiny-a", "Buckets are a.", MANDATORY, remediation_steps="Make it a."),
        PolicyInfo("tiny-b", "Buckets are b.", MANDATORY, remediation_steps="Make it b."),
    ]
    report = report_of(recording, diagnostics, policies)
    text = render_text(report)
    assert "fix: Make it a." not in text and "Fix: close it with a block." in text
    assert "fix: Make it b." in text
    markdown = render(report, "markdown")
    assert "Make it a." not in markdown.split("### Violations", 1)[1]
    assert "Make it b." in markdown.split("### Violations", 1)[1]
