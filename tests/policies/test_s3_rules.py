"""S3 rules: one change to a compliant fixture per case, exact set of rules that fire."""

from __future__ import annotations

import pytest

from tests.policies.fixtures import (
    ACCOUNT_PUBLIC_ACCESS_BLOCK,
    BUCKET,
    BUCKET_ACL,
    BUCKET_ACL_V2,
    BUCKET_POLICY,
    BUCKET_V2,
    COMPLIANT,
    LOG_BUCKET,
    PUBLIC_ACCESS_BLOCK,
)
from tests.policies.harness import DELETE, UNKNOWN, Spec, changed, document, judge, judge_stack

ACL = "aws-s3-bucket-no-public-acl"
BLOCK = "aws-s3-bucket-public-access-block"
POLICY = "aws-s3-bucket-policy-not-public"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def public_statement(**extra) -> str:
    return document(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{LOG_BUCKET}/*"}
        | extra
    )


@pytest.mark.parametrize(
    ("resource_type", "props", "expected"),
    [
        *(
            pytest.param(bucket, changed(COMPLIANT[bucket], ("acl",), acl), {ACL}, id=f"{bucket}-{acl}")
            for bucket in (BUCKET, BUCKET_V2, BUCKET_ACL, BUCKET_ACL_V2)
            for acl in ("public-read", "public-read-write", "authenticated-read")
        ),
        pytest.param(BUCKET, changed(COMPLIANT[BUCKET], ("acl",), "private"), set(), id="bucket-private-acl"),
        pytest.param(
            BUCKET,
            changed(COMPLIANT[BUCKET], ("grants",), [{"type": "Group", "uri": ALL_USERS, "permissions": ["READ"]}]),
            {ACL},
            id="bucket-grant-to-all-users",
        ),
        pytest.param(
            BUCKET_ACL_V2,
            changed(
                COMPLIANT[BUCKET_ACL_V2],
                ("accessControlPolicy",),
                {
                    "owner": {"id": "owner"},
                    "grants": [{"grantee": {"type": "Group", "uri": AUTHENTICATED_USERS}, "permission": "WRITE"}],
                },
            ),
            {ACL},
            id="bucket-acl-grant-to-authenticated-users",
        ),
        *(
            pytest.param(block, changed(COMPLIANT[block], (flag,), value), {BLOCK}, id=f"{block}-{flag}-{value}")
            for block in (PUBLIC_ACCESS_BLOCK, ACCOUNT_PUBLIC_ACCESS_BLOCK)
            for flag in FLAGS
            for value in (False, "false", DELETE)
        ),
        pytest.param(
            PUBLIC_ACCESS_BLOCK,
            changed(COMPLIANT[PUBLIC_ACCESS_BLOCK], ("blockPublicAcls",), "true"),
            set(),
            id="block-flag-as-string-true",
        ),
        pytest.param(BUCKET_POLICY, changed(COMPLIANT[BUCKET_POLICY], ("policy",), public_statement()), {POLICY}),
        pytest.param(
            BUCKET_POLICY,
            changed(
                COMPLIANT[BUCKET_POLICY],
                ("policy",),
                public_statement(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
            ),
            set(),
            id="bucket-policy-public-principal-restricted-to-the-organisation",
        ),
        pytest.param(
            BUCKET_POLICY,
            changed(COMPLIANT[BUCKET_POLICY], ("policy",), "{not json"),
            {POLICY},
            id="bucket-policy-unreadable",
        ),
        pytest.param(
            BUCKET_V2,
            changed(COMPLIANT[BUCKET_V2], ("policy",), public_statement()),
            {POLICY},
            id="bucket-inline-policy-public",
        ),
    ],
)
def test_s3_rules_fire_exactly(resource_type: str, props: dict, expected: set[str]) -> None:
    assert judge(resource_type, props).fired == expected


def bucket_stack(*extra: Spec, block: dict | None = None) -> list[Spec]:
    specs = [Spec(BUCKET, "logs", COMPLIANT[BUCKET])]
    if block is not None:
        specs.append(Spec(PUBLIC_ACCESS_BLOCK, "logs-block", block, {"bucket": ("logs",)}))
    return specs + list(extra)


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        pytest.param(bucket_stack(block=COMPLIANT[PUBLIC_ACCESS_BLOCK]), set(), id="bucket-with-block"),
        pytest.param(bucket_stack(), {BLOCK}, id="bucket-without-block"),
        pytest.param(
            bucket_stack(block=changed(COMPLIANT[PUBLIC_ACCESS_BLOCK], ("bucket",), "another-bucket")),
            set(),
            id="block-matched-through-the-property-dependency",
        ),
        pytest.param(
            bucket_stack(Spec(ACCOUNT_PUBLIC_ACCESS_BLOCK, "account", COMPLIANT[ACCOUNT_PUBLIC_ACCESS_BLOCK])),
            set(),
            id="account-wide-block",
        ),
        pytest.param(
            bucket_stack(Spec(PUBLIC_ACCESS_BLOCK, "other-block", {**COMPLIANT[PUBLIC_ACCESS_BLOCK], "bucket": "x"})),
            {BLOCK},
            id="block-for-another-bucket",
        ),
    ],
)
def test_public_access_block_stack_cases(specs: list[Spec], expected: set[str]) -> None:
    assert judge_stack(specs).fired == expected


def test_block_for_a_bucket_not_known_yet_cannot_be_judged() -> None:
    specs = bucket_stack(Spec(PUBLIC_ACCESS_BLOCK, "block", {**COMPLIANT[PUBLIC_ACCESS_BLOCK], "bucket": UNKNOWN}))
    verdict = judge_stack(specs)
    assert verdict.fired == set()
    assert set(verdict.cannot_judge) == {BLOCK}
