"""aws.iam.get_policy_document computed as the provider computes it (policy_document_data_source.go and
policy_model.go in terraform-provider-aws, which pulumi-aws bridges)."""

from __future__ import annotations

import json
import zlib

import pytest

from preflight.policy_document import PolicyDocumentError, policy_document


def statement(**fields) -> dict:
    return json.loads(policy_document({"statements": [fields]})["json"])["Statement"][0]


def test_json_is_go_indented_with_defaults_and_struct_field_order() -> None:
    result = policy_document({"statements": [{"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*"]}]})
    assert result["json"] == (
        "{\n"
        '  "Version": "2012-10-17",\n'
        '  "Statement": [\n'
        "    {\n"
        '      "Effect": "Allow",\n'
        '      "Action": "s3:GetObject",\n'
        '      "Resource": "arn:aws:s3:::b/*"\n'
        "    }\n"
        "  ]\n"
        "}"
    )
    assert result["minifiedJson"] == (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}'
    )
    assert result["id"] == str(zlib.crc32(result["json"].encode()))


def test_several_values_are_sorted_in_reverse_one_value_is_a_string() -> None:
    got = statement(actions=["s3:GetObject", "s3:PutObject", "s3:ListBucket"])
    assert got["Action"] == ["s3:PutObject", "s3:ListBucket", "s3:GetObject"]
    got = statement(notActions=["iam:*", "iam:Get*"], notResources=["b", "a", "c"], effect="Deny", sid="S")
    assert list(got) == ["Sid", "Effect", "NotAction", "NotResource"]
    assert got["NotAction"] == ["iam:Get*", "iam:*"] and got["NotResource"] == ["c", "b", "a"]


@pytest.mark.parametrize(
    ("principals", "expected"),
    [
        ([{"type": "*", "identifiers": ["*"]}], "*"),
        ([{"type": "AWS", "identifiers": ["*"]}], {"AWS": "*"}),
        ([{"type": "Service", "identifiers": ["ecs-tasks.amazonaws.com"]}], {"Service": "ecs-tasks.amazonaws.com"}),
        (
            [{"type": "AWS", "identifiers": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]}],
            {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::111111111111:root"]},
        ),
        (
            [
                {"type": "Service", "identifiers": ["ec2.amazonaws.com"]},
                {"type": "AWS", "identifiers": ["111111111111"]},
                {"type": "AWS", "identifiers": ["333333333333", "222222222222"]},
            ],
            {"AWS": ["111111111111", "333333333333", "222222222222"], "Service": "ec2.amazonaws.com"},
        ),
    ],
)
def test_principals_merge_by_type_with_map_keys_sorted(principals: list, expected: object) -> None:
    got = policy_document({"statements": [{"actions": ["sts:AssumeRole"], "principals": principals}]})
    document = json.loads(got["json"])
    assert document["Statement"][0]["Principal"] == expected
    if isinstance(expected, dict):
        assert list(document["Statement"][0]["Principal"]) == sorted(expected)


def test_conditions_keep_value_order_and_variables_and_escape_like_go() -> None:
    result = policy_document(
        {
            "statements": [
                {
                    "actions": ["s3:GetObject"],
                    "resources": ["arn:aws:s3:::b/home/&{aws:username}/*"],
                    "conditions": [
                        {"test": "StringLike", "variable": "s3:prefix", "values": ["z/", "a/"]},
                        {"test": "Bool", "variable": "aws:SecureTransport", "values": ["true"]},
                        {"test": "StringEquals", "variable": "aws:PrincipalTag/team", "values": ["a<b&c"]},
                    ],
                }
            ]
        }
    )
    got = json.loads(result["json"])["Statement"][0]
    assert got["Resource"] == "arn:aws:s3:::b/home/${aws:username}/*"
    assert got["Condition"] == {
        "Bool": {"aws:SecureTransport": "true"},
        "StringEquals": {"aws:PrincipalTag/team": "a<b&c"},
        "StringLike": {"s3:prefix": ["z/", "a/"]},
    }
    assert list(got["Condition"]) == ["Bool", "StringEquals", "StringLike"]
    assert "a\\u003cb\\u0026c" in result["json"]


def test_source_documents_merge_first_then_statements_then_overrides_by_sid() -> None:
    source = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "Keep", "Effect": "Allow", "Action": "a:A"}]})
    override = json.dumps({"Statement": [{"Sid": "Mine", "Effect": "Deny", "Action": "c:C", "Resource": "*"}]})
    result = policy_document(
        {
            "sourcePolicyDocuments": [source],
            "overridePolicyDocuments": [override],
            "policyId": "doc",
            "statements": [
                {"sid": "Mine", "actions": ["b:B"]},
                {"actions": ["d:D"]},
            ],
        }
    )
    document = json.loads(result["json"])
    assert document["Id"] == "doc"
    assert [(s.get("Sid"), s["Effect"], s["Action"]) for s in document["Statement"]] == [
        ("Keep", "Allow", "a:A"),
        ("Mine", "Deny", "c:C"),
        (None, "Allow", "d:D"),
    ]


def test_source_statements_round_trip_as_the_provider_reads_and_writes_them() -> None:
    source = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["b:B", "a:A"],
                "Principal": {"AWS": ["arn:aws:iam::111111111111:root"], "Service": "ec2.amazonaws.com"},
                "Condition": {"Bool": {"aws:SecureTransport": True}, "StringEquals": {"k": "v"}},
            },
            {"Effect": "Deny", "Action": "c:C", "Principal": "*"},
        ]
    }
    got = json.loads(policy_document({"sourcePolicyDocuments": [json.dumps(source)]})["json"])["Statement"]
    # Actions are kept as written; an identifier list stays a list; a boolean condition becomes "true".
    assert got[0]["Action"] == ["b:B", "a:A"]
    assert got[0]["Principal"] == {"AWS": ["arn:aws:iam::111111111111:root"], "Service": "ec2.amazonaws.com"}
    assert got[0]["Condition"] == {"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"k": "v"}}
    assert got[1]["Principal"] == "*"


def test_refusals_are_the_providers() -> None:
    with pytest.raises(PolicyDocumentError, match=r"duplicate Sid \(A\)"):
        policy_document({"statements": [{"sid": "A", "actions": ["a:A"]}, {"sid": "A", "actions": ["b:B"]}]})
    repeated = json.dumps({"Statement": [{"Sid": "S", "Effect": "Allow", "Action": "a:A"}]})
    with pytest.raises(PolicyDocumentError, match=r"merging source document 1: duplicate Sid \(S\)"):
        policy_document({"sourcePolicyDocuments": [repeated, repeated]})
    with pytest.raises(PolicyDocumentError, match=r"not supported in document version 2008-10-17"):
        policy_document({"version": "2008-10-17", "statements": [{"resources": ["arn:aws:s3:::&{x}"]}]})
    with pytest.raises(PolicyDocumentError, match=r"merging override document 0"):
        policy_document({"overridePolicyDocuments": ["not json"]})
    with pytest.raises(PolicyDocumentError, match=r"Statement is not a list"):
        policy_document({"overridePolicyDocuments": [json.dumps({"Statement": {"Effect": "Allow"}})]})


def test_an_empty_document_has_only_its_version() -> None:
    assert json.loads(policy_document({})["json"]) == {"Version": "2012-10-17"}
