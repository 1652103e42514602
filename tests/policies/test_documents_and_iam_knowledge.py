"""The policy-document model and the IAM facts the rules query."""

from __future__ import annotations

import json

import pytest

from guardrails import arns, iam_knowledge
from guardrails.conditions import Operator
from guardrails.documents import Principal, parse_policy_document
from guardrails.values import Unknown


@pytest.mark.parametrize(
    "value",
    [
        json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        ),
        {"Statement": {"Resource": ["*"], "Action": ["s3:GetObject"], "Effect": "Allow"}},
        '{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}',
    ],
    ids=["json-list", "dict-object-lists", "json-object-strings"],
)
def test_every_spelling_gives_the_same_statement(value: object) -> None:
    document = parse_policy_document(value)
    assert document.problems == ()
    [statement] = document.statements
    assert (statement.effect, statement.actions, statement.resources) == ("Allow", ("s3:GetObject",), ("*",))


def test_unknowns_are_kept_apart_from_known_values() -> None:
    document = parse_policy_document(
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": [Unknown("r"), "*"]}]}
    )
    assert document.statements[0].resources == ("*",)
    assert document.unknowns == (Unknown("r"),)


def test_whole_document_unknown() -> None:
    assert parse_policy_document(Unknown("policy")).unknowns == (Unknown("policy"),)


@pytest.mark.parametrize(
    ("principal", "public"),
    [
        (Principal("*", "*"), True),
        (Principal("AWS", "*"), True),
        (Principal("AWS", "arn:aws:iam::*:root"), True),
        (Principal("CanonicalUser", "*"), True),
        (Principal("AWS", "arn:aws:iam::111122223333:root"), False),
        (Principal("AWS", "111122223333"), False),
        (Principal("Service", "*"), False),
    ],
)
def test_public_principals(principal: Principal, public: bool) -> None:
    assert principal.is_public is public


def test_expansion_is_case_insensitive_and_canonical() -> None:
    assert [facts.name for facts in iam_knowledge.expand("IAM:passrole")] == ["iam:PassRole"]
    assert [facts.name for facts in iam_knowledge.expand("iam:Pass*")] == ["iam:PassRole"]
    assert {facts.name for facts in iam_knowledge.expand("ecr:BatchGet*")} == {
        "ecr:BatchGetImage",
        "ecr:BatchGetRepositoryScanningConfiguration",
    }
    assert iam_knowledge.expand("nosuchservice:Get*") == ()
    assert iam_knowledge.expand("not-an-action") == ()


def test_wildcard_only_actions_come_from_the_database() -> None:
    only_star = ["ecr:GetAuthorizationToken", "ssmmessages:CreateControlChannel", "ec2messages:GetMessages"]
    takes_arns = ["ecr:BatchGetImage", "logs:PutLogEvents", "dynamodb:GetItem", "ssm:GetParameters"]
    assert all(iam_knowledge.lookup(action).wildcard_resource_only for action in only_star)
    assert not any(iam_knowledge.lookup(action).wildcard_resource_only for action in takes_arns)


def test_privileged_actions() -> None:
    assert iam_knowledge.is_privileged(iam_knowledge.lookup("iam:PassRole"))
    assert iam_knowledge.is_privileged(iam_knowledge.lookup("iam:CreateAccessKey"))  # privilege escalation
    assert iam_knowledge.is_privileged(iam_knowledge.lookup("s3:PutBucketPolicy"))  # permissions management
    assert not iam_knowledge.is_privileged(iam_knowledge.lookup("s3:GetObject"))


@pytest.mark.parametrize(
    ("pattern", "expected"), [("*", True), ("s3:*", True), ("s3:**", True), ("s3:Get*", False), ("s3:GetObject", False)]
)
def test_service_wildcards(pattern: str, expected: bool) -> None:
    assert iam_knowledge.is_service_wildcard(pattern) is expected


@pytest.mark.parametrize(
    ("text", "qualifier", "base", "if_exists"),
    [
        ("StringEquals", "", "stringequals", False),
        ("ForAnyValue:StringLike", "foranyvalue", "stringlike", False),
        ("ForAllValues:StringEqualsIfExists", "forallvalues", "stringequals", True),
        ("arnlikeifexists", "", "arnlike", True),
        ("Null", "", "null", False),
    ],
)
def test_condition_operators_split_into_qualifier_base_and_if_exists(
    text: str, qualifier: str, base: str, if_exists: bool
) -> None:
    operator = Operator.parse(text)
    assert (operator.qualifier, operator.base, operator.if_exists) == (qualifier, base, if_exists)


@pytest.mark.parametrize(
    ("pattern", "covers"),
    [
        ("arn:aws:s3:::*/*", True),
        ("arn:aws:s3:::*", True),
        ("arn:aws-cn:s3:::*", True),
        ("arn:aws:s3:::bucket/*", False),
        ("arn:aws:s3:::?*/*", True),  # a bucket name is never empty
        ("arn:aws:s3:::?/*", False),  # one character is not every bucket name
        ("arn:aws:s3:::*-assets/*", False),
        ("arn:aws:ec2:*:*:instance/*", False),
        ("*", True),
        ("arn:*", True),
    ],
)
def test_a_pattern_covers_a_format_only_when_its_wildcards_cover_every_placeholder(pattern: str, covers: bool) -> None:
    s3_object = iam_knowledge.arn_format("s3", "object")
    assert s3_object.arn == "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
    assert arns.covers_every(pattern, s3_object) is covers


def test_wildcards_reaching_other_accounts() -> None:
    put_bucket_policy = iam_knowledge.lookup("s3:PutBucketPolicy")
    pass_role = iam_knowledge.lookup("iam:PassRole")
    assert arns.spans_accounts("arn:aws:s3:::dr-*", put_bucket_policy)
    assert arns.spans_accounts("arn:aws:iam::*:role/app-*", pass_role)
    assert not arns.spans_accounts("arn:aws:iam::123456789012:role/app-*", pass_role)
