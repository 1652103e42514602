"""SARIF 2.1.0 output: valid against the OASIS schema, and shaped the way GitHub code scanning reads it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from preflight.model import ADVISORY, MANDATORY, Diagnostic, PolicyInfo, SourceLocation
from preflight.reports import render
from tests.preflight.example_report import example_report, scaled_report

SCHEMA_PATH = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
# The vendored copy must stay byte for byte what schemas/README.md says it is.
SCHEMA_SHA256 = "d9ae9a4394e29ad68cea57a3f7ec4ec0f283887edba0c8f8f2999c8903407636"


def _sarif(report=None) -> dict[str, Any]:
    return json.loads(render(report or example_report(), "sarif"))


def _validate(document: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.validate(document, schema, cls=jsonschema.Draft4Validator)


def test_vendored_schema_is_the_documented_file() -> None:
    assert hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest() == SCHEMA_SHA256


def test_sarif_validates_against_the_sarif_2_1_0_schema() -> None:
    _validate(_sarif())


def test_large_sarif_validates_too() -> None:
    _validate(_sarif(scaled_report(300)))


def test_schema_catches_a_broken_level() -> None:
    document = _sarif()
    document["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        _validate(document)


def test_one_result_per_verdict_with_level_from_enforcement() -> None:
    run = _sarif()["runs"][0]
    levels = {(r["ruleId"], r["properties"]["verdict"]): r["level"] for r in run["results"]}
    assert len(run["results"]) == len(example_report().diagnostics)
    assert levels[("aws-iam-no-wildcard-actions", "mandatory")] == "error"
    assert levels[("aws-ecr-repository-immutable-tags", "advisory")] == "warning"
    assert levels[("aws-ec2-instance-no-secrets-in-user-data", "cannot-judge")] == "note"


def test_rules_describe_the_policy_with_help_tags_and_security_severity() -> None:
    policy = next(p for p in example_report().policies if p.name == "aws-iam-no-wildcard-actions")
    with_url = dataclasses.replace(
        policy, url="https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html"
    )
    document = _sarif(dataclasses.replace(example_report(), policies=[with_url]))
    rule = next(r for r in document["runs"][0]["tool"]["driver"]["rules"] if r["id"] == policy.name)
    assert rule["name"] == "AwsIamNoWildcardActions"
    assert rule["shortDescription"]["text"] == policy.description
    assert rule["help"]["text"] == f"{policy.description}\n\nRemediation: {policy.remediation_steps}"
    assert (
        rule["properties"]["security-severity"]
        == {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}[policy.severity]
    )
    assert rule["properties"]["tags"][:2] == ["security", "pulumi-policy"]
    assert set(policy.tags) <= set(rule["properties"]["tags"])
    assert rule["defaultConfiguration"] == {"level": "error", "enabled": True}
    assert rule["helpUri"] == with_url.url


def test_every_result_points_at_its_rule() -> None:
    run = _sarif()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_results_point_at_the_line_where_the_program_constructed_the_resource() -> None:
    report = example_report()
    role = next(r for r in report.resources if r.type == "aws:iam/role:Role" and r.name == "web-task")
    run = _sarif(report)["runs"][0]
    result = next(r for r in run["results"] if r["ruleId"] == "aws-iam-no-wildcard-actions")
    location = result["locations"][0]
    assert location["logicalLocations"][0]["fullyQualifiedName"] == role.urn == result["properties"]["urn"]
    assert location["logicalLocations"][0]["kind"] == "resource"
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": role.source.file, "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": role.source.line},
    }
    assert role.source.line > 1
    assert result["message"]["text"].startswith("web-task (iam.Role): inline policy")


def test_without_a_construction_site_a_result_points_at_the_declaring_file() -> None:
    report = example_report()
    unplaced = dataclasses.replace(report, resources=[dataclasses.replace(r, source=None) for r in report.resources])
    run = _sarif(unplaced)["runs"][0]
    result = next(r for r in run["results"] if r["ruleId"] == "aws-iam-no-wildcard-actions")
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "components/web_service.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1},
    }
    stack_wide = next(r for r in run["results"] if r["ruleId"] == "aws-ec2-app-ingress-from-load-balancer-only")
    assert stack_wide["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Pulumi.dev.yaml"
    assert "logicalLocations" not in stack_wide["locations"][0]


def test_same_rule_on_two_resources_gives_two_distinct_fingerprints() -> None:
    report = example_report()
    role = next(d for d in report.diagnostics if d.level == MANDATORY)
    other = dataclasses.replace(role, urn=role.urn.replace("::web-task", "::web-execution"))
    run = _sarif(dataclasses.replace(report, diagnostics=[role, other]))["runs"][0]
    prints = [next(iter(r["partialFingerprints"].values())) for r in run["results"]]
    assert len(set(prints)) == 2


def test_a_verdict_from_an_undescribed_policy_gets_a_stand_in_rule() -> None:
    report = dataclasses.replace(
        example_report(),
        policies=[PolicyInfo(name="aws-known", description="Known.", level=ADVISORY)],
        diagnostics=[Diagnostic(policy="aws-unlisted", level=MANDATORY, urn="", message="m", description="Unlisted.")],
    )
    document = _sarif(report)
    _validate(document)
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["aws-known", "aws-unlisted"]
    assert rules[1]["shortDescription"]["text"] == "Unlisted."
    assert document["runs"][0]["results"][0]["ruleIndex"] == 1


def test_run_is_categorised_by_stack() -> None:
    assert _sarif()["runs"][0]["automationDetails"]["id"] == "preflight/dev/"


def test_a_program_file_outside_the_project_is_a_file_uri() -> None:
    report = example_report()
    outside = SourceLocation("/work/programs/main.py", 12)
    moved = [dataclasses.replace(r, source=outside) if r.name == "web-task" else r for r in report.resources]
    run = _sarif(dataclasses.replace(report, resources=moved))["runs"][0]
    result = next(r for r in run["results"] if r["ruleId"] == "aws-iam-no-wildcard-actions")
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "file:///work/programs/main.py"},
        "region": {"startLine": 12},
    }
