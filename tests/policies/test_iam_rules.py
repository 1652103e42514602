"""IAM rules: wildcard actions and resources, privileged managed policies, role trust."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel

from guardrails import PACK_NAME, iam_knowledge, sdk
from guardrails.registry import ALL_POLICIES, RULES_BY_NAME
from guardrails.values import plain
from tests.policies.fixtures import (
    COMPLIANT,
    IAM_POLICY,
    LOGIN_STATEMENT,
    POLICY_ATTACHMENT,
    PULL_STATEMENT,
    REPOSITORY_ARN,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    SESSION_MANAGER_PERMISSIONS,
)
from tests.policies.harness import DELETE, changed, document, judge, urn_for

ACTIONS = "aws-iam-no-wildcard-actions"
RESOURCES = "aws-iam-no-wildcard-resources"
MANAGED = "aws-iam-no-privileged-managed-policies"
TRUST = "aws-iam-role-trust-restricted"
ESCALATION = "aws-iam-no-privilege-escalation"
CONFIG_DIR = Path(__file__).resolve().parents[2] / "policies" / "config"


def policy(*statements: dict) -> dict:
    return changed(COMPLIANT[IAM_POLICY], ("policy",), document(LOGIN_STATEMENT, *statements))


def allow(action: object, resource: object = REPOSITORY_ARN, **extra: object) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        # "*" includes iam:CreatePolicyVersion on every policy: an escalation path of its own.
        pytest.param(allow("*", "*"), {ACTIONS, RESOURCES, ESCALATION}, id="star-on-star"),
        pytest.param(allow("*"), {ACTIONS}, id="star-action-on-named-resource"),
        pytest.param(allow(["ecr:BatchGetImage", "*"]), {ACTIONS}, id="star-hidden-in-action-list"),
        pytest.param(allow("ecr:*"), {ACTIONS}, id="service-star"),
        pytest.param(
            allow("iam:Pass*", "arn:aws:iam::123456789012:role/x"), {ACTIONS}, id="wildcard-reaching-pass-role"
        ),
        pytest.param(allow("IAM:PASS*", "arn:aws:iam::123456789012:role/x"), {ACTIONS}, id="wildcard-any-case"),
        pytest.param(allow("iam:Put*Policy", "arn:aws:iam::123456789012:role/x"), {ACTIONS}, id="wildcard-inside-name"),
        pytest.param(allow("s3:Get*", "arn:aws:s3:::bucket/*"), set(), id="read-wildcard-without-privileged-actions"),
        pytest.param(allow("ecr:BatchGet*"), set(), id="narrow-wildcard"),
        pytest.param({"Effect": "Allow", "NotAction": "iam:*", "Resource": REPOSITORY_ARN}, {ACTIONS}, id="not-action"),
        pytest.param(
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, {ACTIONS, RESOURCES}, id="not-action-on-star"
        ),
        pytest.param(allow("s3:GetObject", "*"), {RESOURCES}, id="arn-action-on-star"),
        pytest.param(allow("S3:GETOBJECT", "*"), {RESOURCES}, id="arn-action-on-star-any-case"),
        pytest.param(allow("s3:GetObject", "arn:aws:*:*:*:*"), {RESOURCES}, id="arn-that-matches-everything"),
        pytest.param(allow("s3:GetObject", ["arn:aws:s3:::b/*", "*"]), {RESOURCES}, id="star-hidden-in-resource-list"),
        pytest.param(allow("ecr:GetAuthorizationToken", "*"), set(), id="star-only-action-on-star"),
        pytest.param(allow("ssmmessages:OpenDataChannel", "*"), set(), id="ssm-messages-on-star"),
        pytest.param(allow("logs:Create*", "*"), {RESOURCES}, id="wildcard-expanding-to-arn-actions-on-star"),
        pytest.param(allow("ecr:MadeUpAction", "*"), {RESOURCES}, id="action-unknown-to-the-database-on-star"),
        pytest.param(
            {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"},
            {RESOURCES},
            id="not-resource",
        ),
        pytest.param({"Effect": "Deny", "Action": "*", "Resource": "*"}, set(), id="deny-star-is-fine"),
        pytest.param({"Effect": "Deny", "NotAction": "s3:*", "NotResource": "*"}, set(), id="deny-with-not-keys"),
        pytest.param(
            {"Resource": REPOSITORY_ARN, "Action": ["ecr:BatchGetImage"], "Effect": "Allow", "Sid": "KeysInAnyOrder"},
            set(),
            id="keys-in-any-order",
        ),
    ],
)
def test_permission_statements_fire_exactly(statement: dict, expected: set[str]) -> None:
    assert judge(IAM_POLICY, policy(statement)).fired == expected


@pytest.mark.parametrize("resource_type", [IAM_POLICY, ROLE_POLICY])
def test_single_statement_object_and_string_fields(resource_type: str) -> None:
    props = changed(
        COMPLIANT[resource_type],
        ("policy",),
        json.dumps({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}),
    )
    assert judge(resource_type, props).fired == {ACTIONS, RESOURCES}


def test_policy_as_dict_is_judged_like_json() -> None:
    props = changed(COMPLIANT[IAM_POLICY], ("policy",), {"Statement": [allow("*", "*")]})
    assert judge(IAM_POLICY, props).fired == {ACTIONS, RESOURCES, ESCALATION}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("{", id="malformed"),
        pytest.param('{"Statement": "nope"}', id="statement-is-a-string"),
        pytest.param('{"Statement": [{"Effect": "Allow", "Resource": "*"}]}', id="no-action"),
        pytest.param(
            '{"Statement": [{"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"}]}', id="bad-effect"
        ),
        pytest.param('{"Statement": [{"Effect": "Allow", "Action": [1], "Resource": "*"}]}', id="non-string-action"),
    ],
)
def test_unreadable_permission_policy_is_a_finding_of_every_permission_rule(text: str) -> None:
    verdict = judge(IAM_POLICY, changed(COMPLIANT[IAM_POLICY], ("policy",), text))
    assert verdict.fired == {ACTIONS, RESOURCES, ESCALATION}


def test_role_inline_policies_are_judged() -> None:
    props = changed(COMPLIANT[ROLE], ("inlinePolicies", 0, "policy"), document(allow("iam:*", "*")))
    verdict = judge(ROLE, props)
    assert verdict.fired == {ACTIONS, RESOURCES, ESCALATION}
    assert "inlinePolicies[0] ('task')" in verdict.text(ACTIONS)


def test_role_inline_policy_placeholder_that_removes_policies_is_not_malformed() -> None:
    props = changed(COMPLIANT[ROLE], ("inlinePolicies",), [{"name": "", "policy": ""}])
    assert judge(ROLE, props).fired == set()


def test_scoped_session_manager_policy_passes_with_default_options() -> None:
    assert judge(ROLE_POLICY, {"role": "host", "policy": SESSION_MANAGER_PERMISSIONS}).fired == set()


def test_session_manager_registration_on_star_fires_when_config_removes_the_allowance() -> None:
    config = {RESOURCES: {"extraActionsAllowedOnWildcard": []}}
    verdict = judge(ROLE_POLICY, {"role": "host", "policy": SESSION_MANAGER_PERMISSIONS}, config=config)
    assert verdict.fired == {RESOURCES}
    assert "ssm:UpdateInstanceInformation" in verdict.text(RESOURCES)


def test_extra_actions_allowed_on_star_come_from_config() -> None:
    config = {RESOURCES: {"extraActionsAllowedOnWildcard": ["s3:ListAllMyBuckets", "S3:GetObject"]}}
    assert judge(IAM_POLICY, policy(allow("s3:GetObject", "*")), config=config).fired == set()


def test_pull_statement_alone_passes() -> None:
    assert judge(IAM_POLICY, changed(COMPLIANT[IAM_POLICY], ("policy",), document(PULL_STATEMENT))).fired == set()


# --- managed policies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "privileged"),
    [
        pytest.param("arn:aws:iam::aws:policy/AdministratorAccess", True, id="admin"),
        pytest.param("arn:aws:iam::aws:policy/PowerUserAccess", True, id="power-user"),
        pytest.param("arn:aws:iam::aws:policy/IAMFullAccess", True, id="iam-full"),
        pytest.param("arn:aws:iam::aws:policy/AmazonS3FullAccess", True, id="any-full-access"),
        pytest.param("arn:aws:iam::aws:policy/job-function/SystemAdministrator", True, id="job-function"),
        pytest.param("arn:aws:iam::aws:policy/job-function/NetworkAdministrator", True, id="network-admin"),
        pytest.param("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser", True, id="registry-power-user"),
        pytest.param("arn:aws-us-gov:iam::aws:policy/AdministratorAccess", True, id="gov-partition"),
        pytest.param("arn:aws-cn:iam::aws:policy/AdministratorAccess", True, id="china-partition"),
        pytest.param("arn:aws:iam::aws:policy/service-role/AWSLambdaFullAccess", True, id="with-path"),
        # ssm:GetParameter* and ssm:GetDocument on "*": every parameter and document of the account.
        pytest.param("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", True, id="ssm-core"),
        # ECR pulls on "*": every repository of the account, as an inline policy would be judged.
        pytest.param("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", True, id="task-exec"),
        pytest.param("arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess", False, id="star-only-actions"),
        pytest.param("arn:aws:iam::123456789012:policy/AdministratorAccess", False, id="customer-policy-same-name"),
    ],
)
@pytest.mark.parametrize("resource_type", [ROLE_POLICY_ATTACHMENT, POLICY_ATTACHMENT])
def test_managed_policy_attachments(resource_type: str, arn: str, privileged: bool) -> None:
    verdict = judge(resource_type, changed(COMPLIANT[resource_type], ("policyArn",), arn))
    assert verdict.fired == ({MANAGED} if privileged else set())


def test_role_managed_policy_arns_are_judged() -> None:
    props = changed(
        COMPLIANT[ROLE],
        ("managedPolicyArns",),
        ["arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess", "arn:aws:iam::aws:policy/AdministratorAccess"],
    )
    verdict = judge(ROLE, props)
    assert verdict.fired == {MANAGED}
    assert "AdministratorAccess" in verdict.text(MANAGED)


# --- trust -------------------------------------------------------------------------------------


def trust(principal: object, **extra: object) -> dict:
    return changed(
        COMPLIANT[ROLE],
        ("assumeRolePolicy",),
        document({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}),
    )


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        pytest.param({"Service": "ec2.amazonaws.com"}, set(), id="ec2"),
        pytest.param({"Service": ["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"]}, set(), id="both-services"),
        # The defaults suit any program: every AWS service; a project config narrows them.
        pytest.param({"Service": "lambda.amazonaws.com"}, set(), id="lambda"),
        pytest.param({"Service": ["states.amazonaws.com", "eks.amazonaws.com"]}, set(), id="step-functions-and-eks"),
        pytest.param({"Service": "lambda.amazonaws.com.cn"}, set(), id="china-partition-service"),
        pytest.param({"Service": "evil.example.com"}, {TRUST}, id="not-an-aws-service"),
        pytest.param({"Service": "*"}, {TRUST}, id="any-service"),
        pytest.param("*", {TRUST}, id="public"),
        pytest.param({"AWS": "*"}, {TRUST}, id="aws-star"),
        pytest.param({"AWS": "arn:aws:iam::111122223333:root"}, set(), id="named-account"),
    ],
)
def test_role_trust(principal: object, expected: set[str]) -> None:
    assert judge(ROLE, trust(principal)).fired == expected


def test_trusted_services_come_from_config() -> None:
    config = {TRUST: {"trustedServices": ["lambda.amazonaws.com"]}}
    assert judge(ROLE, trust({"Service": "lambda.amazonaws.com"}), config=config).fired == set()
    assert judge(ROLE, trust({"Service": "ec2.amazonaws.com"}), config=config).fired == {TRUST}


def test_missing_trust_policy_is_a_finding() -> None:
    assert judge(ROLE, changed(COMPLIANT[ROLE], ("assumeRolePolicy",), DELETE)).fired == {TRUST}


# --- contradictions and harshness -------------------------------------------------------------------

ACTION_NAME = re.compile(r"\b[a-z0-9-]+:[A-Za-z*]+\b")


def test_wildcard_resources_fix_recommends_nothing_the_wildcard_actions_rule_blocks() -> None:
    recommended = ACTION_NAME.findall(RULES_BY_NAME[RESOURCES].info.remediation_steps)
    assert recommended
    for action in recommended:
        assert judge(IAM_POLICY, policy(allow(action, "*"))).fired == set(), action


def test_describe_wildcard_on_star_says_which_of_its_actions_accept_arns() -> None:
    expanded = iam_knowledge.expand("ec2:Describe*")
    takes_arns = sorted(facts.name for facts in expanded if not facts.wildcard_resource_only)
    verdict = judge(IAM_POLICY, policy(allow("ec2:Describe*", "*")))
    assert verdict.fired == {RESOURCES}
    assert f"{len(takes_arns)} of its {len(expanded)} actions accept ARNs: {takes_arns[0]}" in verdict.text(RESOURCES)


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("service", ["lambda.amazonaws.com", "states.amazonaws.com", "eks.amazonaws.com"])
def test_committed_configs_accept_roles_of_other_programs(environment: str, service: str) -> None:
    config = json.loads((CONFIG_DIR / f"{environment}.json").read_text())
    entry = config[TRUST]
    assert (
        judge(ROLE, trust({"Service": service}), config={TRUST: entry if isinstance(entry, dict) else {}}).fired
        == set()
    )


# --- robustness and messages --------------------------------------------------------------------------


def nested(depth: int) -> dict:
    value: dict = {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}
    for _ in range(depth):
        value = {"StringEquals": value}
    return value


def deep_trust(depth: int) -> dict:
    return {"Sid": "Deep", "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": nested(depth)}


def test_condition_nested_500_deep_is_a_finding_not_a_crash() -> None:
    verdict = judge(ROLE, changed(COMPLIANT[ROLE], ("assumeRolePolicy",), document(deep_trust(500))))
    assert verdict.fired == {TRUST}
    assert "nests deeper than" in verdict.text(TRUST) and "could not evaluate" not in verdict.text(TRUST)


def test_deep_condition_sent_as_an_object_through_the_servicer_is_a_finding() -> None:
    # Protobuf caps a Struct's nesting (100 levels, two per object), so an object this deep is what can arrive.
    servicer = sdk.PackServicer(PACK_NAME, "0.0.1", list(ALL_POLICIES), EnforcementLevel.ADVISORY, convert=plain)
    props = changed(COMPLIANT[ROLE], ("assumeRolePolicy",), json.loads(document(deep_trust(40))))
    request = proto.AnalyzeRequest(
        type=ROLE, properties=json_format.ParseDict(props, struct_pb2.Struct()), urn=urn_for(ROLE, "deep"), name="deep"
    )
    messages = [d.message for d in servicer.Analyze(request, None).diagnostics if d.policyName == TRUST]
    assert len(messages) == 1 and "nests deeper than" in messages[0]


def test_huge_values_give_bounded_messages_and_one_finding_per_statement() -> None:
    statement = {
        "Sid": "S" * 1_000_000,
        "Effect": "Allow",
        "Action": [f"s3:*{i}" for i in range(5000)] + ["*"],
        "Resource": "*",
    }
    verdict = judge(IAM_POLICY, policy(statement))
    assert verdict.fired == {ACTIONS, RESOURCES, ESCALATION}
    for rule in verdict.fired:
        messages = verdict.messages[rule]
        assert len(messages) == 1, rule
        assert len(messages[0][0]) <= 700


def test_finding_names_statement_action_and_fix() -> None:
    text = judge(IAM_POLICY, policy({"Sid": "Reads", **allow("s3:GetObject", "arn:aws:s3:::*/*")})).text(RESOURCES)
    assert "statement 'Reads'" in text and "'s3:GetObject'" in text and "every s3 object" in text and "Fix:" in text
    unnamed = judge(IAM_POLICY, policy(allow("s3:GetObject", "*"))).text(RESOURCES)
    assert "statement #2" in unnamed
