"""ECR resource rules: one change to a compliant fixture per case, exact set of rules that fire."""

from __future__ import annotations

import pytest

from tests.policies.fixtures import (
    COMPLIANT,
    CREATION_TEMPLATE,
    PUBLIC_REPOSITORY,
    PUBLIC_REPOSITORY_POLICY,
    REGISTRY_POLICY,
    REGISTRY_SCANNING,
    REPOSITORY,
    REPOSITORY_POLICY,
)
from tests.policies.harness import DELETE, changed, document, judge

POLICY_NOT_PUBLIC = "aws-ecr-repository-policy-not-public"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def repository_policy(**statement) -> dict:
    return changed(
        COMPLIANT[REPOSITORY_POLICY], ("policy",), document({"Effect": "Allow", "Action": PULL, **statement})
    )


@pytest.mark.parametrize(
    ("resource_type", "props", "expected"),
    [
        pytest.param(
            REPOSITORY,
            changed(COMPLIANT[REPOSITORY], ("imageTagMutability",), "MUTABLE"),
            {"aws-ecr-repository-immutable-tags"},
            id="mutable-tags",
        ),
        pytest.param(
            REPOSITORY,
            changed(COMPLIANT[REPOSITORY], ("imageTagMutability",), DELETE),
            {"aws-ecr-repository-immutable-tags"},
            id="tag-mutability-unset-means-mutable",
        ),
        pytest.param(
            REPOSITORY,
            changed(COMPLIANT[REPOSITORY], ("imageTagMutability",), "IMMUTABLE_WITH_EXCLUSION"),
            set(),
            id="immutable-with-exclusion-passes",
        ),
        pytest.param(
            REPOSITORY,
            changed(COMPLIANT[REPOSITORY], ("encryptionConfigurations",), DELETE),
            {"aws-ecr-repository-kms-encryption"},
            id="no-encryption-configuration-means-aes256",
        ),
        pytest.param(
            REPOSITORY,
            changed(COMPLIANT[REPOSITORY], ("encryptionConfigurations",), [{"encryptionType": "AES256"}]),
            {"aws-ecr-repository-kms-encryption"},
            id="aes256",
        ),
        pytest.param(
            REPOSITORY,
            changed(COMPLIANT[REPOSITORY], ("imageScanningConfiguration", "scanOnPush"), False),
            set(),
            id="scan-on-push-is-judged-at-stack-level-not-per-resource",
        ),
        pytest.param(
            PUBLIC_REPOSITORY,
            {"repositoryName": "shipshape"},
            {"aws-ecr-no-public-repositories"},
            id="any-public-repository",
        ),
        pytest.param(
            REGISTRY_SCANNING,
            changed(COMPLIANT[REGISTRY_SCANNING], ("rules", 0, "scanFrequency"), "MANUAL"),
            set(),
            id="registry-scanning-manual-alone-is-judged-with-the-repositories-of-the-stack",
        ),
        pytest.param(
            CREATION_TEMPLATE,
            changed(COMPLIANT[CREATION_TEMPLATE], ("imageTagMutability",), "MUTABLE_WITH_EXCLUSION"),
            {"aws-ecr-repository-immutable-tags"},
            id="template-mutable-tags",
        ),
        pytest.param(
            CREATION_TEMPLATE,
            changed(COMPLIANT[CREATION_TEMPLATE], ("encryptionConfigurations",), [{"encryptionType": "AES256"}]),
            {"aws-ecr-repository-kms-encryption"},
            id="template-aes256",
        ),
        pytest.param(
            CREATION_TEMPLATE,
            changed(COMPLIANT[CREATION_TEMPLATE], ("repositoryPolicy",), DELETE),
            set(),
            id="template-without-repository-policy",
        ),
        pytest.param(
            CREATION_TEMPLATE,
            changed(COMPLIANT[CREATION_TEMPLATE], ("repositoryPolicy",), "{not json"),
            {POLICY_NOT_PUBLIC},
            id="template-unreadable-repository-policy",
        ),
    ],
)
def test_repository_rules_fire_exactly(resource_type: str, props: dict, expected: set[str]) -> None:
    assert judge(resource_type, props).fired == expected


@pytest.mark.parametrize(
    "principal",
    [
        pytest.param("*", id="bare-star"),
        pytest.param({"AWS": "*"}, id="aws-star"),
        pytest.param({"AWS": ["*"]}, id="aws-star-in-list"),
        pytest.param({"AWS": ["arn:aws:iam::111122223333:root", "*"]}, id="star-hidden-in-list"),
        pytest.param({"AWS": "arn:aws:iam::*:root"}, id="account-of-star"),
        pytest.param({"CanonicalUser": "*"}, id="canonical-user-star"),
    ],
)
def test_public_principal_spellings_are_all_public(principal: object) -> None:
    verdict = judge(REPOSITORY_POLICY, repository_policy(Principal=principal))
    assert verdict.fired == {POLICY_NOT_PUBLIC}


def test_not_principal_with_allow_is_public() -> None:
    verdict = judge(REPOSITORY_POLICY, repository_policy(NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"}))
    assert verdict.fired == {POLICY_NOT_PUBLIC}


@pytest.mark.parametrize(
    ("resource_type", "key"),
    [
        pytest.param(PUBLIC_REPOSITORY_POLICY, "policy", id="ecr-public-repository-policy"),
        pytest.param(CREATION_TEMPLATE, "repositoryPolicy", id="creation-template-repository-policy"),
    ],
)
def test_public_principal_in_other_repository_policies(resource_type: str, key: str) -> None:
    statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["ecr:BatchGetImage"]}
    props = changed(COMPLIANT[resource_type], (key,), document(statement))
    assert judge(resource_type, props).fired == {POLICY_NOT_PUBLIC}


def test_registry_policy_is_judged_like_a_repository_policy() -> None:
    props = changed(
        COMPLIANT[REGISTRY_POLICY],
        ("policy",),
        document({"Effect": "Allow", "Principal": "*", "Action": "ecr:ReplicateImage"}),
    )
    assert judge(REGISTRY_POLICY, props).fired == {POLICY_NOT_PUBLIC}


@pytest.mark.parametrize(
    ("condition", "restricted"),
    [
        pytest.param({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, True, id="org-id"),
        pytest.param({"StringEquals": {"aws:PrincipalAccount": ["111122223333"]}}, True, id="principal-account"),
        pytest.param({"StringEquals": {"aws:SourceAccount": "111122223333"}}, True, id="source-account"),
        # A prefix of a random organisation id does not name one organisation (anyone can create more).
        pytest.param({"ForAnyValue:StringLike": {"aws:PrincipalOrgID": "o-abc*"}}, False, id="for-any-value-like"),
        pytest.param({"stringequals": {"AWS:PRINCIPALORGID": "o-abc123"}}, True, id="any-case"),
        pytest.param({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}, False, id="negated-operator"),
        pytest.param({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}, False, id="if-exists"),
        pytest.param({"StringLike": {"aws:PrincipalOrgID": "*"}}, False, id="wildcard-value"),
        pytest.param({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, False, id="unrelated-key"),
    ],
)
def test_conditions_that_do_and_do_not_restrict_a_public_principal(condition: dict, restricted: bool) -> None:
    verdict = judge(REPOSITORY_POLICY, repository_policy(Principal="*", Condition=condition))
    assert verdict.fired == (set() if restricted else {POLICY_NOT_PUBLIC})


def test_deny_statements_are_never_violations() -> None:
    props = changed(
        COMPLIANT[REPOSITORY_POLICY], ("policy",), document({"Effect": "Deny", "Principal": "*", "Action": "ecr:*"})
    )
    assert judge(REPOSITORY_POLICY, props).fired == set()


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param("", id="empty"),
        pytest.param("{not json", id="malformed"),
        pytest.param('{"Version": "2012-10-17"}', id="no-statement"),
        pytest.param('{"Statement": [{"Principal": "*", "Action": "ecr:*"}]}', id="no-effect"),
        pytest.param("[]", id="not-an-object"),
    ],
)
def test_unreadable_repository_policy_is_a_finding(policy: str) -> None:
    verdict = judge(REPOSITORY_POLICY, changed(COMPLIANT[REPOSITORY_POLICY], ("policy",), policy))
    assert verdict.fired == {POLICY_NOT_PUBLIC}
    assert "cannot be judged" in verdict.text(POLICY_NOT_PUBLIC)


def test_policy_given_as_dict_with_single_statement_object() -> None:
    props = changed(
        COMPLIANT[REPOSITORY_POLICY],
        ("policy",),
        {"Statement": {"Action": PULL, "Principal": {"AWS": "*"}, "Effect": "Allow"}, "Version": "2012-10-17"},
    )
    assert judge(REPOSITORY_POLICY, props).fired == {POLICY_NOT_PUBLIC}
