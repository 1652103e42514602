"""The policy-document model and the IAM facts the rules query."""

from __future__ import annotations

import json

import pytest

from guardrails import iam_knowledge
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
