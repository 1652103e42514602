"""A KMS-encrypted log group: the stack creates the key with the policy CloudWatch Logs needs, or, with a key
brought by you, the preview names the statement its policy must hold."""

from __future__ import annotations

import json

import pytest

from components.settings import SettingsError, parse_settings
from preflight.recorder import record
from tests.conftest import ROOT

BROUGHT = "arn:aws:kms:eu-west-1:210987654321:key/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"


def test_a_created_key_lets_cloudwatch_logs_use_it_for_this_log_group_only() -> None:
    recording = record(ROOT, "prod", config_overrides={"shipshape:createLogKmsKey": True})
    (key,) = recording.by_type("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    (log_group,) = recording.by_type("aws:cloudwatch/logGroup:LogGroup")
    assert log_group.inputs["kmsKeyId"] == key.outputs["arn"]
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    logs = statements["CloudWatchLogsForOneLogGroup"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert set(logs["Action"]) == {
        "kms:Encrypt*",
        "kms:Decrypt*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:Describe*",
    }
    assert logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group.outputs["arn"]}}
    # The account keeps control of the key through IAM (KMS's default key policy statement).
    admin = statements["AccountIamPoliciesDecide"]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_a_brought_key_makes_the_preview_name_the_statement_to_add() -> None:
    recording = record(ROOT, "prod", config_overrides={"shipshape:logKmsKeyArn": BROUGHT})
    assert recording.by_type("aws:kms/key:Key") == []
    (log_group,) = recording.by_type("aws:cloudwatch/logGroup:LogGroup")
    assert log_group.inputs["kmsKeyId"] == BROUGHT
    (warning,) = [w for w in recording.warnings if "logKmsKeyArn" in w]
    statement = json.loads(warning.split(": ", 2)[-1])
    assert statement["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == log_group.outputs["arn"]


def test_without_a_key_nothing_is_said() -> None:
    recording = record(ROOT, "prod")
    assert recording.by_type("aws:kms/key:Key") == []
    assert not [w for w in recording.warnings if "logKmsKeyArn" in w]


def test_a_key_is_brought_or_created_not_both() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings(
            {"createLogKmsKey": "true", "logKmsKeyArn": BROUGHT, "allowHttpWithoutCertificate": "true"},
            project="shipshape",
            stack="dev",
            region="eu-west-1",
        )
    assert caught.value.problems == [
        f'shipshape:logKmsKeyArn = "{BROUGHT}": give either a KMS key ARN (bring your own) or createLogKmsKey, not both'
    ]
