"""compare(baseline, report): resources added, removed, changed; violations new and fixed."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import jsonschema
import pytest

from preflight.model import ADVISORY, Diagnostic, PlanDiff, Report
from preflight.reports import compare, render
from preflight.reports.json_report import load_schema
from tests.preflight.example_report import example_report
from tests.preflight.golden_files import assert_matches_golden

GONE_URN = "urn:pulumi:dev::shipshape::shipshape:registry:Repository$aws:ecr/repository:Repository::old-registry"


def _urn(report: Report, resource_type: str, name: str) -> str:
    return next(r.urn for r in report.resources if r.type == resource_type and r.name == name)


def _baseline_of(report: Report) -> dict[str, Any]:
    """A baseline written by an earlier run: one resource fewer, one more, one with other inputs,
    one violation fewer (new now) and one more (fixed now)."""
    baseline = json.loads(render(report, "json"))
    cluster = _urn(report, "aws:ecs/cluster:Cluster", "web")
    listener = _urn(report, "aws:lb/listener:Listener", "web-http")
    repository = _urn(report, "aws:ecr/repository:Repository", "registry")
    baseline["resources"] = [r for r in baseline["resources"] if r["urn"] != cluster]
    gone = copy.deepcopy(next(r for r in baseline["resources"] if r["urn"] == repository))
    gone |= {"urn": GONE_URN, "name": "old-registry"}
    baseline["resources"].append(gone)
    changed = next(r for r in baseline["resources"] if r["urn"] == repository)
    changed["inputs"]["imageTagMutability"] = "IMMUTABLE"
    del changed["inputs"]["forceDelete"]
    baseline["diagnostics"] = [d for d in baseline["diagnostics"] if d["urn"] != listener]
    baseline["diagnostics"].append(
        {"policy": "aws-ecr-repository-scan-on-push", "level": "mandatory", "urn": GONE_URN, "message": "scan off"}
    )
    return baseline


def test_compare_finds_the_added_removed_and_changed_resources() -> None:
    report = example_report()
    diff = compare(_baseline_of(report), report)
    assert [ref.name for ref in diff.added] == ["web"]
    assert [ref.type for ref in diff.added] == ["aws:ecs/cluster:Cluster"]
    assert [ref.urn for ref in diff.removed] == [GONE_URN]
    assert [(change.name, change.keys) for change in diff.changed] == [
        ("registry", ("forceDelete", "imageTagMutability"))
    ]


def test_compare_finds_new_and_fixed_violations_by_policy_and_resource() -> None:
    report = example_report()
    diff = compare(_baseline_of(report), report)
    assert [(v.policy, v.urn) for v in diff.new_violations] == [
        ("aws-lb-listener-https", _urn(report, "aws:lb/listener:Listener", "web-http"))
    ]
    assert [(v.policy, v.urn, v.level) for v in diff.fixed_violations] == [
        ("aws-ecr-repository-scan-on-push", GONE_URN, "mandatory")
    ]


def test_a_report_compared_with_itself_has_no_changes() -> None:
    report = example_report()
    diff = compare(json.loads(render(report, "json")), report)
    assert diff.empty
    assert diff == PlanDiff(baseline="shipshape/dev")


def test_cannot_judge_notes_are_never_new_violations() -> None:
    report = example_report()
    baseline = json.loads(render(report, "json"))
    extra = Diagnostic(
        policy="aws-ecs-cluster-container-insights", level=ADVISORY, urn="", message="?", cannot_judge=True
    )
    diff = compare(baseline, dataclasses.replace(report, diagnostics=[*report.diagnostics, extra]))
    assert diff.new_violations == ()


def test_secrets_compare_masked_so_a_rotated_secret_is_no_change() -> None:
    report = example_report()
    baseline = json.loads(render(report, "json"))
    image = next(r for r in baseline["resources"] if r["type"] == "docker:index/image:Image")
    assert image["inputs"]["registry"]["password"] == "[secret]"
    assert compare(baseline, report).changed == ()


@pytest.mark.parametrize(
    ("baseline", "message"),
    [
        ([], "baseline report: expected a JSON object, got list"),
        ({"resources": []}, "baseline report: schemaVersion is None; this preflight reads version 1"),
        ({"schemaVersion": 99, "resources": []}, "schemaVersion is 99"),
        ({"schemaVersion": 1, "resources": {}}, "`resources` must be a list"),
        ({"schemaVersion": 1, "resources": [{"name": "x"}]}, r"resources\[0\] needs a string `urn`"),
        ({"schemaVersion": 1, "resources": [], "diagnostics": [{}]}, r"diagnostics\[0\] needs a string `policy`"),
    ],
)
def test_a_baseline_that_is_not_a_report_is_refused_with_a_clear_message(baseline: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compare(baseline, example_report())


def test_diff_shows_in_markdown() -> None:
    report = example_report()
    assert_matches_golden(
        "example_report_with_diff.md", render(report, "markdown", compare(_baseline_of(report), report))
    )


def test_empty_diff_says_nothing_changed() -> None:
    report = example_report()
    text = render(report, "markdown", compare(json.loads(render(report, "json")), report))
    assert "No resources added, removed or changed, and no verdict changed." in text


def test_diff_shows_in_json_and_validates_against_the_schema() -> None:
    report = example_report()
    document = json.loads(render(report, "json", compare(_baseline_of(report), report)))
    jsonschema.validate(document, load_schema(), cls=jsonschema.Draft202012Validator)
    assert document["diff"]["changed"][0]["keys"] == ["forceDelete", "imageTagMutability"]
    assert document["diff"]["removed"][0]["urn"] == GONE_URN
    assert document["diff"]["newViolations"][0]["policy"] == "aws-lb-listener-https"


def test_a_report_with_a_diff_is_still_a_valid_baseline() -> None:
    report = example_report()
    with_diff = json.loads(render(report, "json", compare(_baseline_of(report), report)))
    assert compare(with_diff, report).empty


def test_runs_made_differently_are_flagged_in_the_diff() -> None:
    report = example_report()
    baseline = json.loads(render(report, "json")) | {"unknowns": True, "stack": "prod"}
    diff = compare(baseline, report)
    assert diff.warnings == (
        "the baseline is shipshape/prod, this run shipshape/dev",
        "the baseline ran with unknown provider outputs and this run with mocked ones, "
        "so inputs built from outputs differ for that reason alone",
    )
    assert "> ⚠️ the baseline ran with unknown provider outputs" in render(report, "markdown", diff)
