"""AWS managed policies judged by their documents (policies/data, derived from AWS's snapshot), attached by
ARN in any partition, with the same tests as an inline policy."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from guardrails import iam_knowledge, managed_policies
from guardrails.registry import RULES_BY_NAME
from tests.policies.fixtures import COMPLIANT, IAM_POLICY, ROLE_POLICY_ATTACHMENT
from tests.policies.harness import changed, judge

ACTIONS = "aws-iam-no-wildcard-actions"
RESOURCES = "aws-iam-no-wildcard-resources"
ESCALATION = "aws-iam-no-privilege-escalation"
MANAGED = "aws-iam-no-privileged-managed-policies"
INLINE_RULES = {ACTIONS, RESOURCES, ESCALATION}
DERIVE = Path(__file__).resolve().parents[2] / "policies" / "data" / "derive_aws_managed_policies.py"
PRIVILEGED_NAME = re.compile(r"FullAccess|^AdministratorAccess|^PowerUserAccess$|^IAMFullAccess$")


def attached(arn: str) -> dict:
    return changed(COMPLIANT[ROLE_POLICY_ATTACHMENT], ("policyArn",), arn)


def inlined(policy_document: dict) -> dict:
    return changed(COMPLIANT[IAM_POLICY], ("policy",), json.dumps(policy_document))


def arn_of(record: managed_policies.ManagedPolicy, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::aws:policy{record.path}{record.name}"


def only_star_actions(policy_document: dict) -> bool:
    """Every Allow grants exact actions AWS allows on '*' alone (policy_sentry), and only on '*'."""
    for statement in (
        policy_document["Statement"]
        if isinstance(policy_document["Statement"], list)
        else [policy_document["Statement"]]
    ):
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        for action in actions if isinstance(actions, list) else [actions]:
            facts = iam_knowledge.lookup(action)
            if facts is None or not facts.wildcard_resource_only:
                return False
    return True


PRIVILEGED = [
    record
    for name in managed_policies.names()
    if PRIVILEGED_NAME.search(name) and (record := managed_policies.lookup(name)).document is not None
]
STAR_ONLY = sorted(record.name for record in PRIVILEGED if only_star_actions(record.document))


def test_the_snapshot_holds_the_privileged_policies_the_issue_counts() -> None:
    assert len(PRIVILEGED) > 300
    assert managed_policies.snapshot_date() == "2025-02-22"


@pytest.mark.exhaustive
@pytest.mark.parametrize("record", PRIVILEGED, ids=lambda record: record.name)
def test_every_privileged_managed_policy_is_blocked_inline_and_attached_unless_star_only(record) -> None:
    inline = judge(IAM_POLICY, inlined(record.document)).fired
    attachment = judge(ROLE_POLICY_ATTACHMENT, attached(arn_of(record))).fired
    if record.name in STAR_ONLY:
        assert (inline, attachment) == (set(), set())
    else:
        assert inline and inline <= INLINE_RULES
        assert attachment == {MANAGED}


def test_star_only_exceptions_are_listed_in_the_rules_documented_limits() -> None:
    assert STAR_ONLY == [
        "AWSMarketplaceMeteringFullAccess",
        "AWSSupportPlansFullAccess",
        "AmazonHoneycodeTeamAssociationFullAccess",
    ]
    limits = RULES_BY_NAME[MANAGED].info.limits
    assert all(name in limits for name in STAR_ONLY)


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
@pytest.mark.parametrize(
    "path",
    [
        "job-function/SystemAdministrator",
        "job-function/NetworkAdministrator",
        "AmazonEC2ContainerRegistryPowerUser",
        "AmazonSSMManagedInstanceCore",
    ],
)
def test_policies_that_passed_by_name_are_blocked_by_their_document(partition: str, path: str) -> None:
    verdict = judge(ROLE_POLICY_ATTACHMENT, attached(f"arn:{partition}:iam::aws:policy/{path}"))
    assert verdict.fired == {MANAGED}
    text = verdict.text(MANAGED)
    assert "snapshot 2025-02-22" in text
    # One fix, the one that fits an attachment (the inline-policy advice of the cause is left out), and no
    # sentence ends twice.
    assert text.count("Fix:") == 1 and "Fix: detach it" in text
    assert ".." not in text


def test_ssm_core_finding_names_the_parameter_reads_on_star() -> None:
    text = judge(ROLE_POLICY_ATTACHMENT, attached("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")).text(MANAGED)
    assert "ssm:" in text and "'*'" in text


def test_a_policy_newer_than_the_data_is_reported_as_unknown_to_the_snapshot() -> None:
    verdict = judge(ROLE_POLICY_ATTACHMENT, attached("arn:aws:iam::aws:policy/AmazonBrandNewServiceFullAccess"))
    assert verdict.fired == {MANAGED}
    assert "snapshot 2025-02-22" in verdict.text(MANAGED) and "newer than the data" in verdict.text(MANAGED)


def test_a_policy_without_a_document_in_the_snapshot_is_not_passed() -> None:
    verdict = judge(ROLE_POLICY_ATTACHMENT, attached("arn:aws:iam::aws:policy/AWSCodePipelineFullAccess"))
    assert verdict.fired == {MANAGED}
    assert "no document" in verdict.text(MANAGED)


def test_customer_managed_policies_are_judged_where_defined_not_here() -> None:
    assert (
        judge(ROLE_POLICY_ATTACHMENT, attached("arn:aws:iam::123456789012:policy/AdministratorAccess")).fired == set()
    )


def test_a_project_may_accept_a_managed_policy_knowingly() -> None:
    config = {MANAGED: {"allowedManagedPolicies": ["AmazonSSMManagedInstanceCore"]}}
    props = attached("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    assert judge(ROLE_POLICY_ATTACHMENT, props, config=config).fired == set()


def _derive_module():
    spec = importlib.util.spec_from_file_location("derive_aws_managed_policies", DERIVE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_data_is_what_the_script_derives_from_the_snapshot() -> None:
    derive = _derive_module()
    snapshot = derive.default_snapshot()
    if not (snapshot / "policies-list.json").is_file():
        pytest.skip(f"the managed-policy snapshot is not at {snapshot}")
    assert derive.encode(derive.derive(snapshot)) == derive.OUTPUT.read_bytes()
