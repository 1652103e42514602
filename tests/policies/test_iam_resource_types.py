"""Every IAM resource type that carries or attaches a permission policy is judged (pulumi-aws engine names)."""

from __future__ import annotations

import pytest

from tests.policies.fixtures import (
    COMPLIANT,
    GROUP_POLICY,
    GROUP_POLICY_ATTACHMENT,
    GROUP_POLICY_ATTACHMENTS_EXCLUSIVE,
    IAM_POLICY,
    POLICY_ATTACHMENT,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
    USER_POLICY,
    USER_POLICY_ATTACHMENT,
    USER_POLICY_ATTACHMENTS_EXCLUSIVE,
)
from tests.policies.harness import changed, document, judge

ACTIONS = "aws-iam-no-wildcard-actions"
RESOURCES = "aws-iam-no-wildcard-resources"
MANAGED = "aws-iam-no-privileged-managed-policies"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
EVERYTHING_IN_S3 = document({"Sid": "AllOfS3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"})


@pytest.mark.parametrize(
    ("resource_type", "path"),
    [
        pytest.param(IAM_POLICY, ("policy",), id="policy"),
        pytest.param(ROLE_POLICY, ("policy",), id="role-policy"),
        pytest.param(USER_POLICY, ("policy",), id="user-policy"),
        pytest.param(GROUP_POLICY, ("policy",), id="group-policy"),
        pytest.param(ROLE, ("inlinePolicies", 0, "policy"), id="role-inline-policies"),
    ],
)
def test_every_inline_policy_type_is_judged(resource_type: str, path: tuple) -> None:
    verdict = judge(resource_type, changed(COMPLIANT[resource_type], path, EVERYTHING_IN_S3))
    assert verdict.fired == {ACTIONS, RESOURCES}
    assert "statement 'AllOfS3'" in verdict.text(ACTIONS)


@pytest.mark.parametrize(
    ("resource_type", "path", "value"),
    [
        pytest.param(ROLE_POLICY_ATTACHMENT, ("policyArn",), ADMIN, id="role-policy-attachment"),
        pytest.param(USER_POLICY_ATTACHMENT, ("policyArn",), ADMIN, id="user-policy-attachment"),
        pytest.param(GROUP_POLICY_ATTACHMENT, ("policyArn",), ADMIN, id="group-policy-attachment"),
        pytest.param(POLICY_ATTACHMENT, ("policyArn",), ADMIN, id="policy-attachment"),
        pytest.param(ROLE_POLICY_ATTACHMENTS_EXCLUSIVE, ("policyArns",), [ADMIN], id="role-attachments-exclusive"),
        pytest.param(USER_POLICY_ATTACHMENTS_EXCLUSIVE, ("policyArns",), [ADMIN], id="user-attachments-exclusive"),
        pytest.param(GROUP_POLICY_ATTACHMENTS_EXCLUSIVE, ("policyArns",), [ADMIN], id="group-attachments-exclusive"),
        pytest.param(ROLE, ("managedPolicyArns",), [ADMIN], id="role-managed-policy-arns"),
    ],
)
def test_every_attaching_type_is_judged(resource_type: str, path: tuple, value: object) -> None:
    verdict = judge(resource_type, changed(COMPLIANT[resource_type], path, value))
    assert verdict.fired == {MANAGED}
    assert "AdministratorAccess" in verdict.text(MANAGED)
