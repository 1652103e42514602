"""Privilege escalation on named resources: policy versions, changes to the holder itself, PassRole to a
more privileged role; each finding names the escalation path."""

from __future__ import annotations

import pytest

from tests.policies.fixtures import (
    ACCOUNT,
    COMPLIANT,
    GROUP_POLICY,
    IAM_POLICY,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    USER_POLICY,
)
from tests.policies.harness import Spec, changed, document, judge, judge_stack

ESCALATION = "aws-iam-no-privilege-escalation"
RESOURCES = "aws-iam-no-wildcard-resources"


def allow(action: object, resource: object) -> dict:
    return {"Sid": "UnderTest", "Effect": "Allow", "Action": action, "Resource": resource}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


@pytest.mark.parametrize(
    ("resource_type", "statement", "path"),
    [
        pytest.param(
            IAM_POLICY,
            allow("iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/app-permissions"),
            "CreatePolicyVersion",
            id="create-policy-version-on-a-named-policy",
        ),
        pytest.param(
            IAM_POLICY,
            allow("iam:SetDefaultPolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/app-permissions"),
            "CreatePolicyVersion",
            id="set-default-policy-version",
        ),
        pytest.param(
            ROLE_POLICY, allow("iam:AttachRolePolicy", role_arn("host-role")), "AttachRolePolicy", id="attach-to-itself"
        ),
        pytest.param(
            ROLE_POLICY, allow("iam:PutRolePolicy", role_arn("host-role")), "PutRolePolicy", id="put-on-itself"
        ),
        pytest.param(
            ROLE_POLICY,
            allow("iam:Put*", role_arn("host-*")),
            "PutRolePermissionsBoundary",
            id="wildcards-reaching-itself",
        ),
        pytest.param(
            USER_POLICY,
            allow("iam:AttachUserPolicy", f"arn:aws:iam::{ACCOUNT}:user/deployer"),
            "AttachUserPolicy",
            id="user-attaches-to-itself",
        ),
        pytest.param(
            GROUP_POLICY,
            allow("iam:PutGroupPolicy", f"arn:aws:iam::{ACCOUNT}:group/deployers"),
            "PutGroupPolicy",
            id="group-puts-on-itself",
        ),
    ],
)
def test_escalation_on_named_resources_fires_and_names_the_path(resource_type: str, statement: dict, path: str) -> None:
    props = changed(COMPLIANT[resource_type], ("policy",), document(statement))
    verdict = judge(resource_type, props)
    assert ESCALATION in verdict.fired and verdict.fired <= {ESCALATION, "aws-iam-no-wildcard-actions"}
    assert f"escalation path {path}" in verdict.text(ESCALATION)
    assert "statement 'UnderTest'" in verdict.text(ESCALATION)


def test_role_inline_policy_changing_its_own_role_fires() -> None:
    props = changed(
        COMPLIANT[ROLE], ("inlinePolicies", 0, "policy"), document(allow("iam:PutRolePolicy", role_arn("web")))
    )
    props["name"] = "web"
    assert judge(ROLE, props).fired == {ESCALATION}


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(allow("iam:PutRolePolicy", role_arn("other-role")), id="another-named-role"),
        pytest.param(allow("iam:GetPolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/p"), id="read-policy-versions"),
        pytest.param(allow("iam:PassRole", role_arn("web-task")), id="pass-role-alone"),
    ],
)
def test_grants_that_open_no_escalation_path_pass(statement: dict) -> None:
    props = changed(COMPLIANT[ROLE_POLICY], ("policy",), document(statement))
    assert judge(ROLE_POLICY, props).fired == set()


def role(name: str, *statements: dict, managed: list[str] | None = None) -> Spec:
    props = changed(COMPLIANT[ROLE], ("inlinePolicies", 0, "policy"), document(*statements))
    props["name"] = name
    props["managedPolicyArns"] = managed or []
    return Spec(ROLE, name, props)


ADMIN_OF_ROLES = allow(["iam:AttachRolePolicy", "iam:PutRolePolicy"], role_arn("app-*"))


def test_pass_role_to_a_more_privileged_role_fires_naming_the_path() -> None:
    deployer = role("deployer", allow("iam:PassRole", role_arn("admin")))
    admin = role("admin", ADMIN_OF_ROLES)
    verdict = judge_stack([deployer, admin])
    assert verdict.fired == {ESCALATION}
    [(message, urn)] = verdict.messages[ESCALATION]
    assert "escalation path PassRole" in message and "'admin'" in message and "iam:AttachRolePolicy" in message
    assert urn.endswith("::deployer")


def test_pass_role_to_a_role_holding_an_admin_managed_policy_fires() -> None:
    deployer = role("deployer", allow("iam:PassRole", role_arn("admin")))
    admin = role(
        "admin", allow("s3:GetObject", "arn:aws:s3:::b/*"), managed=["arn:aws:iam::aws:policy/AdministratorAccess"]
    )
    verdict = judge_stack([deployer, admin])
    assert verdict.fired == {ESCALATION}
    assert "escalation path PassRole" in verdict.text(ESCALATION)


def test_pass_role_attached_through_a_role_policy_fires() -> None:
    deployer = role("deployer", allow("s3:GetObject", "arn:aws:s3:::b/*"))
    grant = Spec(
        ROLE_POLICY, "deployer-pass", {"role": "deployer", "policy": document(allow("iam:PassRole", role_arn("admin")))}
    )
    verdict = judge_stack([deployer, grant, role("admin", ADMIN_OF_ROLES)])
    assert verdict.fired == {ESCALATION}
    assert "escalation path PassRole" in verdict.text(ESCALATION)


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(
            role("task", allow("dynamodb:GetItem", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t")),
            id="less-privileged",
        ),
        pytest.param(role("task", ADMIN_OF_ROLES), id="equally-privileged"),
    ],
)
def test_pass_role_to_a_role_no_more_privileged_passes(target: Spec) -> None:
    holder = role("deployer", allow("iam:PassRole", role_arn("task")), ADMIN_OF_ROLES)
    assert judge_stack([holder, target]).fired == set()


def customer_policy(name: str, *statements: dict) -> Spec:
    return Spec(IAM_POLICY, name, {"name": name, "policy": document(*statements)})


def attachment(role_name: str, policy_name: str) -> Spec:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/{policy_name}"
    return Spec(ROLE_POLICY_ATTACHMENT, f"{role_name}-{policy_name}", {"role": role_name, "policyArn": arn})


def test_pass_role_granted_by_a_stack_policy_attached_by_arn_fires() -> None:
    specs = [
        role("deployer", allow("s3:GetObject", "arn:aws:s3:::b/*")),
        customer_policy("deploy", allow("iam:PassRole", role_arn("admin"))),
        attachment("deployer", "deploy"),
        role("admin", ADMIN_OF_ROLES),
    ]
    verdict = judge_stack(specs)
    assert verdict.fired == {ESCALATION}
    assert verdict.messages[ESCALATION][0][1].endswith("::deployer-deploy")


def test_a_stack_policy_attached_to_the_role_it_lets_change_fires() -> None:
    specs = [
        role("app", allow("s3:GetObject", "arn:aws:s3:::b/*")),
        customer_policy("self-admin", allow("iam:AttachRolePolicy", role_arn("app"))),
        attachment("app", "self-admin"),
    ]
    verdict = judge_stack(specs)
    assert verdict.fired == {ESCALATION}
    assert "escalation path AttachRolePolicy on itself" in verdict.text(ESCALATION)


@pytest.mark.parametrize(
    ("passed_to", "fires"),
    [
        pytest.param("ecs-tasks.amazonaws.com", True, id="a-service-the-target-trusts"),
        pytest.param("lambda.amazonaws.com", False, id="a-service-the-target-does-not-trust"),
    ],
)
def test_passed_to_service_condition_limits_which_roles_can_be_passed(passed_to: str, fires: bool) -> None:
    grant = {
        **allow("iam:PassRole", role_arn("admin")),
        "Condition": {"StringEquals": {"iam:PassedToService": passed_to}},
    }
    # The compliant role fixture trusts ecs-tasks.amazonaws.com.
    verdict = judge_stack([role("deployer", grant), role("admin", ADMIN_OF_ROLES)])
    assert verdict.fired == ({ESCALATION} if fires else set())
