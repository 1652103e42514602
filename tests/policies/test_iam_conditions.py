"""Condition semantics in trust and repository policies: operator, IfExists, set qualifiers, wildcard and
variable values decide whether a public principal is restricted; federated trust pins its sub/aud claim.

AWS IAM User Guide: condition operators (IfExists), single- vs multivalued keys (ForAllValues is true when
the key is absent), global condition keys, policy variables; OIDC trust for GitHub and Cognito.
"""

from __future__ import annotations

import pytest

from tests.policies.fixtures import COMPLIANT, REPOSITORY_POLICY, ROLE
from tests.policies.harness import changed, document, judge

TRUST = "aws-iam-role-trust-restricted"
POLICY_NOT_PUBLIC = "aws-ecr-repository-policy-not-public"
ORG = "o-a1b2c3d4e5"

CONDITIONS = [
    # Restricting: one organisation, an OU path of one organisation, named caller ARNs or accounts.
    pytest.param({"StringEquals": {"aws:PrincipalOrgID": ORG}}, True, id="org-id"),
    pytest.param(
        {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{ORG}/r-ab12/ou-ab12-11111111/*"}}, True, id="org-paths"
    ),
    pytest.param(
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/deployer-*"}}, True, id="principal-arn"
    ),
    pytest.param(
        {"StringEquals": {"aws:PrincipalArn": ["arn:aws:iam::111122223333:root"]}}, True, id="principal-arn-equals"
    ),
    pytest.param({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}, True, id="principal-account"),
    pytest.param(
        {
            "ForAllValues:StringEquals": {"aws:PrincipalOrgPaths": f"{ORG}/r-ab12/"},
            "Null": {"aws:PrincipalOrgPaths": "false"},
        },
        True,
        id="for-all-values-with-null-false",
    ),
    pytest.param(
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/${aws:username}"}}, True, id="variable-in-name"
    ),
    pytest.param(
        {"StringEquals": {"aws:PrincipalOrgID": ORG}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        True,
        id="restricting-entry-anded-with-another",
    ),
    pytest.param({"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}}, True, id="source-vpc-endpoint"),
    pytest.param({"StringLike": {"aws:SourceVpce": "vpce-*"}}, False, id="any-vpc-endpoint"),
    # Not restricting: the key may be absent, the value admits anyone, or the key is compared with itself.
    pytest.param({"StringLike": {"aws:PrincipalOrgID": "o-*"}}, False, id="org-id-wildcard"),
    pytest.param({"StringEquals": {"aws:PrincipalOrgID": "${aws:PrincipalOrgID}"}}, False, id="org-id-variable"),
    pytest.param({"StringEqualsIfExists": {"aws:PrincipalOrgID": ORG}}, False, id="if-exists"),
    pytest.param({"ArnLikeIfExists": {"aws:PrincipalArn": "arn:aws:iam::111122223333:*"}}, False, id="arn-if-exists"),
    pytest.param(
        {"ForAllValues:StringEquals": {"aws:PrincipalOrgPaths": f"{ORG}/r-ab12/"}}, False, id="for-all-values"
    ),
    pytest.param({"StringNotEquals": {"aws:PrincipalOrgID": ORG}}, False, id="negated"),
    pytest.param({"Null": {"aws:PrincipalOrgID": "false"}}, False, id="null-only"),
    pytest.param({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}}, False, id="principal-arn-any-account"),
    pytest.param({"StringLike": {"aws:PrincipalOrgPaths": "o-*/*"}}, False, id="org-paths-any-org"),
    pytest.param({"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}}, False, id="account-variable"),
    pytest.param({"StringEquals": {"aws:PrincipalOrgID": []}}, False, id="no-value"),
    pytest.param({"StringEquals": {"aws:userid": "AIDA*"}}, False, id="unrelated-key"),
]


def trust(principal: object, condition: dict | None = None) -> dict:
    statement = {"Sid": "Assume", "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition is not None:
        statement["Condition"] = condition
    return changed(COMPLIANT[ROLE], ("assumeRolePolicy",), document(statement))


def repository_policy(condition: dict) -> dict:
    statement = {"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:BatchGetImage"}
    return changed(COMPLIANT[REPOSITORY_POLICY], ("policy",), document({**statement, "Condition": condition}))


@pytest.mark.parametrize(("condition", "restricts"), CONDITIONS)
def test_public_trust_is_judged_by_condition_semantics(condition: dict, restricts: bool) -> None:
    verdict = judge(ROLE, trust("*", condition))
    assert verdict.fired == (set() if restricts else {TRUST})
    if not restricts:
        assert "statement 'Assume'" in verdict.text(TRUST) and "Fix:" in verdict.text(TRUST)


@pytest.mark.parametrize(("condition", "restricts"), CONDITIONS)
def test_public_repository_policy_is_judged_by_the_same_semantics(condition: dict, restricts: bool) -> None:
    assert judge(REPOSITORY_POLICY, repository_policy(condition)).fired == (set() if restricts else {POLICY_NOT_PUBLIC})


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        pytest.param(
            {"StringEqualsIfExists": {"aws:PrincipalOrgID": ORG}}, "true when the key is absent", id="if-exists"
        ),
        pytest.param({"StringLike": {"aws:PrincipalOrgID": "o-*"}}, "does not name one organisation", id="wildcard"),
        pytest.param(
            {"StringEquals": {"aws:PrincipalOrgID": "${aws:PrincipalOrgID}"}}, "caller's own value", id="variable"
        ),
        pytest.param({"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": "x"}}, "ForAllValues", id="for-all-values"),
    ],
)
def test_finding_says_why_the_condition_did_not_count(condition: dict, reason: str) -> None:
    assert reason in judge(ROLE, trust({"AWS": "*"}, condition)).text(TRUST)


GITHUB = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
COGNITO = "cognito-identity.amazonaws.com"
WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"


def federated(provider: str, condition: dict | None) -> dict:
    statement = {"Sid": "Federated", "Effect": "Allow", "Principal": {"Federated": provider}, "Action": WEB_IDENTITY}
    if condition is not None:
        statement["Condition"] = condition
    return changed(COMPLIANT[ROLE], ("assumeRolePolicy",), document(statement))


GITHUB_SUB = "token.actions.githubusercontent.com:sub"
GITHUB_AUD = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}


@pytest.mark.parametrize(
    ("provider", "condition", "fires"),
    [
        pytest.param(GITHUB, None, True, id="github-without-condition"),
        pytest.param(GITHUB, {"StringEquals": GITHUB_AUD}, True, id="github-aud-only"),
        pytest.param(GITHUB, {"StringLike": {GITHUB_SUB: "*"}}, True, id="github-sub-any"),
        pytest.param(GITHUB, {"StringLike": {GITHUB_SUB: "repo:*"}}, True, id="github-sub-any-owner"),
        pytest.param(GITHUB, {"StringLikeIfExists": {GITHUB_SUB: "repo:acme/app:*"}}, True, id="github-sub-if-exists"),
        pytest.param(
            GITHUB, {"StringLike": {GITHUB_SUB: "repo:acme/app:*"}, "StringEquals": GITHUB_AUD}, False, id="github-repo"
        ),
        pytest.param(
            GITHUB, {"StringEquals": {GITHUB_SUB: "repo:acme/app:ref:refs/heads/main"}}, False, id="github-branch"
        ),
        pytest.param(
            "token.actions.githubusercontent.com",
            {"StringLike": {GITHUB_SUB: "repo:acme/*"}},
            False,
            id="github-bare-org",
        ),
        pytest.param(COGNITO, None, True, id="cognito-without-aud"),
        pytest.param(
            COGNITO,
            {"ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}},
            True,
            id="cognito-amr-only",
        ),
        pytest.param(
            COGNITO,
            {"StringEquals": {"cognito-identity.amazonaws.com:aud": "eu-west-1:12345678-1234-1234-1234-123456789012"}},
            False,
            id="cognito-with-aud",
        ),
        pytest.param("accounts.google.com", None, True, id="google-without-aud"),
        pytest.param(
            "accounts.google.com", {"StringEquals": {"accounts.google.com:aud": "app-id"}}, False, id="google-aud"
        ),
        pytest.param(
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            None,
            True,
            id="eks-oidc-without-sub",
        ),
        pytest.param(
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            {"StringEquals": {"oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:app:web"}},
            False,
            id="eks-oidc-with-sub",
        ),
        pytest.param("arn:aws:iam::123456789012:saml-provider/Corp", None, False, id="saml-provider"),
    ],
)
def test_federated_trust_pins_its_claims(provider: str, condition: dict | None, fires: bool) -> None:
    verdict = judge(ROLE, federated(provider, condition))
    assert verdict.fired == ({TRUST} if fires else set())
    if fires:
        assert "statement 'Federated'" in verdict.text(TRUST)
