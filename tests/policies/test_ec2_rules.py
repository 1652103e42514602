"""EC2 rules: IMDSv2, user data, volumes, key pairs, and world-open ingress in all three shapes."""

from __future__ import annotations

import base64

import pytest

from tests.policies.fixtures import (
    COMPLIANT,
    INGRESS_RULE,
    INSTANCE,
    LAUNCH_TEMPLATE,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    USER_DATA,
)
from tests.policies.harness import DELETE, changed, judge

IMDS = "aws-ec2-instance-imdsv2"
USER_DATA_RULE = "aws-ec2-instance-no-secrets-in-user-data"
VOLUMES = "aws-ec2-instance-encrypted-root-volume"
KEY_PAIR = "aws-ec2-instance-no-key-pair"
WORLD = "aws-ec2-security-group-no-world-ingress"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("resource_type", "props", "expected"),
    [
        pytest.param(
            INSTANCE, changed(COMPLIANT[INSTANCE], ("metadataOptions", "httpTokens"), "optional"), {IMDS}, id="imdsv1"
        ),
        pytest.param(
            INSTANCE, changed(COMPLIANT[INSTANCE], ("metadataOptions",), DELETE), {IMDS}, id="metadata-options-unset"
        ),
        pytest.param(
            INSTANCE,
            changed(COMPLIANT[INSTANCE], ("metadataOptions", "httpPutResponseHopLimit"), 3),
            {IMDS},
            id="hop-limit-3",
        ),
        pytest.param(
            INSTANCE,
            changed(COMPLIANT[INSTANCE], ("metadataOptions",), {"httpEndpoint": "disabled"}),
            set(),
            id="metadata-service-off",
        ),
        pytest.param(
            LAUNCH_TEMPLATE,
            changed(COMPLIANT[LAUNCH_TEMPLATE], ("metadataOptions", "httpTokens"), "optional"),
            {IMDS},
            id="launch-template-imdsv1",
        ),
        pytest.param(
            INSTANCE,
            changed(COMPLIANT[INSTANCE], ("userData",), USER_DATA + "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"),
            {USER_DATA_RULE},
            id="access-key-in-user-data",
        ),
        pytest.param(
            INSTANCE,
            changed(COMPLIANT[INSTANCE], ("userData",), USER_DATA + "DB_PASSWORD=hunter2hunter2\n"),
            {USER_DATA_RULE},
            id="password-assignment",
        ),
        pytest.param(
            INSTANCE,
            changed(COMPLIANT[INSTANCE], ("userData",), USER_DATA + 'export API_TOKEN="$(aws ssm get-parameter)"\n'),
            set(),
            id="secret-fetched-at-boot-is-fine",
        ),
        pytest.param(
            LAUNCH_TEMPLATE,
            changed(
                COMPLIANT[LAUNCH_TEMPLATE],
                ("userData",),
                b64(USER_DATA + "readonly F='API_KEY arn:aws:secretsmanager:eu-west-1:123456789012:secret:k-AbCd'\n"),
            ),
            set(),
            id="secrets-manager-arn-is-a-reference",
        ),
        pytest.param(
            INSTANCE,
            changed(COMPLIANT[INSTANCE], ("userData",), USER_DATA + "x=arn:aws:sts: API_TOKEN=hunter2hunter2\n"),
            {USER_DATA_RULE},
            id="assignment-after-an-arn-still-counts",
        ),
        pytest.param(
            INSTANCE,
            changed(COMPLIANT[INSTANCE], ("userData",), DELETE) | {"userDataBase64": b64("DB_PASSWORD=hunter2hunter2")},
            {USER_DATA_RULE},
            id="base64-user-data",
        ),
        pytest.param(
            LAUNCH_TEMPLATE,
            changed(COMPLIANT[LAUNCH_TEMPLATE], ("userData",), b64(USER_DATA + "aws_secret_access_key = " + "A" * 40)),
            {USER_DATA_RULE},
            id="launch-template-base64-secret-key",
        ),
        pytest.param(
            INSTANCE,
            changed(COMPLIANT[INSTANCE], ("userData",), USER_DATA + "-----BEGIN RSA PRIVATE KEY-----\n"),
            {USER_DATA_RULE},
            id="private-key",
        ),
        pytest.param(
            INSTANCE,
            changed(COMPLIANT[INSTANCE], ("rootBlockDevice", "encrypted"), False),
            {VOLUMES},
            id="root-unencrypted",
        ),
        pytest.param(INSTANCE, changed(COMPLIANT[INSTANCE], ("rootBlockDevice",), DELETE), {VOLUMES}, id="root-unset"),
        pytest.param(
            INSTANCE,
            changed(COMPLIANT[INSTANCE], ("ebsBlockDevices",), [{"deviceName": "/dev/sdf", "encrypted": False}]),
            {VOLUMES},
            id="ebs-unencrypted",
        ),
        pytest.param(
            LAUNCH_TEMPLATE,
            changed(COMPLIANT[LAUNCH_TEMPLATE], ("blockDeviceMappings", 0, "ebs", "encrypted"), "false"),
            {VOLUMES},
            id="launch-template-string-false",
        ),
        pytest.param(
            LAUNCH_TEMPLATE,
            changed(COMPLIANT[LAUNCH_TEMPLATE], ("blockDeviceMappings", 0, "ebs", "encrypted"), "TRUE"),
            set(),
            id="launch-template-string-true-any-case",
        ),
        pytest.param(INSTANCE, changed(COMPLIANT[INSTANCE], ("keyName",), "admin"), {KEY_PAIR}, id="key-pair"),
        pytest.param(
            LAUNCH_TEMPLATE, changed(COMPLIANT[LAUNCH_TEMPLATE], ("keyName",), "admin"), {KEY_PAIR}, id="lt-key-pair"
        ),
        pytest.param(INSTANCE, changed(COMPLIANT[INSTANCE], ("keyName",), ""), set(), id="empty-key-name"),
    ],
)
def test_host_rules_fire_exactly(resource_type: str, props: dict, expected: set[str]) -> None:
    assert judge(resource_type, props).fired == expected


def ingress(**entry: object) -> dict:
    return changed(COMPLIANT[SECURITY_GROUP], ("ingress",), [entry])


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(
            ingress(protocol="tcp", fromPort=22, toPort=22, cidrBlocks=["0.0.0.0/0"]), {WORLD}, id="ssh-world"
        ),
        pytest.param(
            ingress(protocol="tcp", fromPort=22, toPort=22, ipv6CidrBlocks=["::/0"]), {WORLD}, id="ssh-world-ipv6"
        ),
        pytest.param(
            ingress(protocol="-1", fromPort=0, toPort=0, cidrBlocks=["0.0.0.0/0"]), {WORLD}, id="protocol-minus-one"
        ),
        pytest.param(
            ingress(protocol="all", fromPort=443, toPort=443, cidrBlocks=["0.0.0.0/0"]), {WORLD}, id="protocol-all"
        ),
        pytest.param(
            ingress(protocol="tcp", fromPort=-1, toPort=-1, cidrBlocks=["0.0.0.0/0"]), {WORLD}, id="from-port-minus-one"
        ),
        pytest.param(
            ingress(protocol="tcp", fromPort=80, toPort=443, cidrBlocks=["0.0.0.0/0"]),
            {WORLD},
            id="range-around-allowed",
        ),
        pytest.param(
            ingress(protocol="6", fromPort=443, toPort=443, cidrBlocks=["0.0.0.0/0"]), set(), id="protocol-number-6"
        ),
        pytest.param(
            ingress(protocol="icmp", fromPort=-1, toPort=-1, cidrBlocks=["0.0.0.0/0"]), {WORLD}, id="icmp-world"
        ),
        pytest.param(
            ingress(protocol="tcp", fromPort=22, toPort=22, cidrBlocks=["10.0.0.0/8"]), set(), id="private-cidr"
        ),
        pytest.param(
            ingress(protocol="tcp", fromPort=8000, toPort=8000, securityGroups=["sg-alb"]), set(), id="group-source"
        ),
    ],
)
def test_security_group_inline_ingress(props: dict, expected: set[str]) -> None:
    assert judge(SECURITY_GROUP, props).fired == expected


@pytest.mark.parametrize(
    ("resource_type", "props", "expected"),
    [
        pytest.param(
            SECURITY_GROUP_RULE,
            changed(COMPLIANT[SECURITY_GROUP_RULE], ("sourceSecurityGroupId",), DELETE) | {"cidrBlocks": ["0.0.0.0/0"]},
            {WORLD},
            id="rule-app-port-world",
        ),
        pytest.param(
            SECURITY_GROUP_RULE,
            COMPLIANT[SECURITY_GROUP_RULE] | {"type": "egress", "cidrBlocks": ["0.0.0.0/0"], "protocol": "-1"},
            set(),
            id="egress-is-not-ingress",
        ),
        pytest.param(
            SECURITY_GROUP_RULE,
            COMPLIANT[SECURITY_GROUP_RULE] | {"protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]},
            {WORLD},
            id="rule-all-protocols-ipv6",
        ),
        pytest.param(
            INGRESS_RULE, COMPLIANT[INGRESS_RULE] | {"fromPort": 22, "toPort": 22}, {WORLD}, id="vpc-rule-ssh"
        ),
        pytest.param(
            INGRESS_RULE,
            {"securityGroupId": "sg-alb", "ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0"},
            {WORLD},
            id="vpc-rule-all-traffic-without-ports",
        ),
        pytest.param(
            INGRESS_RULE,
            changed(COMPLIANT[INGRESS_RULE], ("cidrIpv4",), DELETE) | {"cidrIpv6": "::/0"},
            set(),
            id="vpc-rule-ipv6-443",
        ),
        pytest.param(
            INGRESS_RULE,
            COMPLIANT[INGRESS_RULE] | {"fromPort": 443.0, "toPort": 443.0},
            set(),
            id="ports-as-floats-from-protobuf",
        ),
    ],
)
def test_security_group_rule_shapes(resource_type: str, props: dict, expected: set[str]) -> None:
    assert judge(resource_type, props).fired == expected


def test_allowed_world_ports_come_from_config() -> None:
    config = {WORLD: {"allowedPorts": [443]}}
    assert judge(SECURITY_GROUP, COMPLIANT[SECURITY_GROUP], config=config).fired == {WORLD}
    config = {WORLD: {"allowedPorts": [22, 80, 443]}}
    props = ingress(protocol="tcp", fromPort=22, toPort=22, cidrBlocks=["0.0.0.0/0"])
    assert judge(SECURITY_GROUP, props, config=config).fired == set()


def test_bad_option_is_reported_and_the_default_used() -> None:
    verdict = judge(SECURITY_GROUP, COMPLIANT[SECURITY_GROUP], config={WORLD: {"allowedPorts": "443"}})
    assert verdict.fired == {WORLD}
    assert "config option 'allowedPorts'" in verdict.text(WORLD)
