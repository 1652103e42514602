"""The pack as the engine sees it: pulumi-policy's servicer in process, and __main__.py over gRPC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel

from guardrails import PACK_NAME, sdk
from guardrails.registry import ALL_POLICIES, RULES_BY_NAME
from guardrails.values import CANNOT_JUDGE_YET, plain
from tests.policies.fixtures import COMPLIANT, REPOSITORY, ROLE, SECURITY_GROUP
from tests.policies.harness import UNKNOWN, changed, document, urn_for

POLICIES_DIR = Path(__file__).resolve().parents[2] / "policies"
MANDATORY_RULES = {name for name, rule in RULES_BY_NAME.items() if rule.info.mandatory}


def struct(props: dict) -> struct_pb2.Struct:
    return json_format.ParseDict(props, struct_pb2.Struct())


def analyze_request(resource_type: str, props: dict, name: str = "subject") -> proto.AnalyzeRequest:
    return proto.AnalyzeRequest(
        type=resource_type, properties=struct(props), urn=urn_for(resource_type, name), name=name
    )


def configure_request(config: dict) -> proto.ConfigureAnalyzerRequest:
    request = proto.ConfigureAnalyzerRequest()
    for name, entry in config.items():
        level = entry.get("enforcementLevel", "advisory")
        properties = {key: value for key, value in entry.items() if key != "enforcementLevel"}
        request.policyConfig[name].CopyFrom(
            proto.PolicyConfig(enforcementLevel=getattr(proto, level.upper()), properties=struct(properties))
        )
    return request


@pytest.fixture
def servicer() -> sdk.PackServicer:
    """The servicer __main__.py serves with (test_servicer.py shows it answers like the library's)."""
    return sdk.PackServicer(PACK_NAME, "0.0.1", list(ALL_POLICIES), EnforcementLevel.ADVISORY, convert=plain)


def levels(response) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for diagnostic in response.diagnostics:
        found.setdefault(diagnostic.policyName, set()).add(diagnostic.enforcementLevel)
    return found


def test_analyzer_info_lists_every_rule_with_its_level(servicer) -> None:
    info = servicer.GetAnalyzerInfo(empty_pb2.Empty(), None)
    assert info.name == PACK_NAME
    assert [policy.name for policy in info.policies] == list(RULES_BY_NAME)
    mandatory = {policy.name for policy in info.policies if policy.enforcementLevel == proto.MANDATORY}
    assert mandatory == MANDATORY_RULES
    for policy in info.policies:
        assert "exemptions" in json_format.MessageToDict(policy.configSchema)["properties"]
        assert policy.remediation_steps and policy.severity != proto.POLICY_SEVERITY_UNSPECIFIED


def test_cannot_judge_is_advisory_even_for_mandatory_rules(servicer) -> None:
    props = changed(COMPLIANT[ROLE], ("inlinePolicies", 0, "policy"), UNKNOWN)
    props["assumeRolePolicy"] = document({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"})
    response = servicer.Analyze(analyze_request(ROLE, props), None)
    assert levels(response) == {
        "aws-iam-role-trust-restricted": {proto.MANDATORY},
        "aws-iam-no-wildcard-actions": {proto.ADVISORY},
        "aws-iam-no-wildcard-resources": {proto.ADVISORY},
        "aws-iam-no-privilege-escalation": {proto.ADVISORY},
    }
    unknown = [d.message for d in response.diagnostics if d.policyName == "aws-iam-no-wildcard-actions"]
    assert unknown[0].startswith("can't run policy 'aws-iam-no-wildcard-actions'")
    assert "cannot judge yet: inlinePolicies[0].policy unknown during preview" in unknown[0]
    assert unknown[0].split("during preview: ", 1)[1].startswith(f"{CANNOT_JUDGE_YET}: ")


def test_configured_level_exemptions_and_options_reach_the_rules(servicer) -> None:
    servicer.Configure(
        configure_request(
            {
                "aws-ec2-security-group-no-world-ingress": {"enforcementLevel": "mandatory", "allowedPorts": [443]},
                "aws-iam-role-trust-restricted": {"enforcementLevel": "mandatory", "exemptions": ["*::legacy"]},
            }
        ),
        None,
    )
    response = servicer.Analyze(analyze_request(SECURITY_GROUP, COMPLIANT[SECURITY_GROUP]), None)
    assert levels(response) == {"aws-ec2-security-group-no-world-ingress": {proto.MANDATORY}}
    public_trust = changed(
        COMPLIANT[ROLE],
        ("assumeRolePolicy",),
        document({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}),
    )
    response = servicer.Analyze(analyze_request(ROLE, public_trust, name="legacy"), None)
    assert levels(response) == {}
    reasons = {item.policy_name: item.reason for item in response.not_applicable}
    assert reasons["aws-iam-role-trust-restricted"].startswith("exempted by pattern")
    # Every other rule says it does not judge roles, so a preview can count what no rule judged.
    assert {name for name, reason in reasons.items() if not reason.startswith("checks no ")} == {
        "aws-iam-role-trust-restricted"
    }


def test_stack_analysis_names_the_repository(servicer) -> None:
    repository = changed(COMPLIANT[REPOSITORY], ("imageScanningConfiguration", "scanOnPush"), False)
    request = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
                type=REPOSITORY, properties=struct(repository), urn=urn_for(REPOSITORY, "repo"), name="repo"
            )
        ]
    )
    response = servicer.AnalyzeStack(request, None)
    by_rule = {d.policyName: d for d in response.diagnostics}
    assert set(by_rule) == {"aws-ecr-repository-scan-on-push", "aws-ecr-repository-lifecycle-policy"}
    assert by_rule["aws-ecr-repository-scan-on-push"].urn == urn_for(REPOSITORY, "repo")
    assert by_rule["aws-ecr-repository-scan-on-push"].enforcementLevel == proto.MANDATORY


def test_remediate_fixes_the_repository_through_the_servicer(servicer) -> None:
    servicer.Configure(configure_request({"aws-ecr-repository-scan-on-push": {"enforcementLevel": "remediate"}}), None)
    repository = changed(COMPLIANT[REPOSITORY], ("imageScanningConfiguration", "scanOnPush"), False)
    response = servicer.Remediate(analyze_request(REPOSITORY, repository), None)
    [remediation] = response.remediations
    assert remediation.policyName == "aws-ecr-repository-scan-on-push"
    assert json_format.MessageToDict(remediation.properties)["imageScanningConfiguration"] == {"scanOnPush": True}


# --- the real thing: python __main__.py from policies/, as the CLI starts it ---------------------------


@pytest.mark.slow
def test_pack_process_serves_analyzer_info_for_every_rule(pack_server) -> None:
    # How fast the pack starts and answers is measured by `make bench`, never asserted here.
    stub, _ = pack_server
    info = stub.GetAnalyzerInfo(empty_pb2.Empty())
    assert {policy.name for policy in info.policies} == set(RULES_BY_NAME)


@pytest.mark.slow
def test_pack_process_passes_every_compliant_fixture_under_the_prod_config(pack_server) -> None:
    stub, _ = pack_server
    config = json.loads((POLICIES_DIR / "config" / "prod.json").read_text())
    request = proto.ConfigureAnalyzerRequest()
    for name, entry in config.items():
        if name == "all":
            continue
        entry = {"enforcementLevel": entry} if isinstance(entry, str) else entry
        request.policyConfig[name].CopyFrom(configure_request({name: entry}).policyConfig[name])
    stub.Configure(request)
    responses = {
        resource_type: stub.Analyze(analyze_request(resource_type, props, name=f"r{index}"))
        for index, (resource_type, props) in enumerate(COMPLIANT.items())
    }
    assert {resource_type: list(response.diagnostics) for resource_type, response in responses.items()} == {
        resource_type: [] for resource_type in COMPLIANT
    }
