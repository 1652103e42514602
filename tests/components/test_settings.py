"""Stack settings: every bad key is rejected with a message naming the key, the value and what is allowed."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from components.settings import (
    PROJECT_FILE,
    SettingsError,
    declarations,
    parse_settings,
)

DEV_OK = {"allowHttpWithoutCertificate": "true"}


def parse(raw: dict[str, str], *, stack: str = "dev", region: str | None = "eu-west-1"):
    return parse_settings({**DEV_OK, **raw}, project="shipshape", stack=stack, region=region)


def problems(raw: dict[str, str], **kwargs) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        parse(raw, **kwargs)
    return caught.value.problems


BAD_SETTINGS = [
    ({"cpu": "300"}, "shipshape:cpu = 300: must be one of 256, 512, 1024, 2048, 4096, 8192, 16384"),
    ({"cpu": "256", "memory": "4096"}, "shipshape:memory = 4096: with cpu 256 must be 512, 1024 or 2048"),
    (
        {"cpu": "1024", "memory": "1536"},
        "shipshape:memory = 1536: with cpu 1024 must be 2048 to 8192 in steps of 1024",
    ),
    (
        {"cpu": "8192", "memory": "20000"},
        "shipshape:memory = 20000: with cpu 8192 must be 16384 to 61440 in steps of 4096",
    ),
    ({"memory": "lots"}, 'shipshape:memory = "lots": expected an integer'),
    (
        {"minCount": "2", "desiredCount": "1", "maxCount": "4"},
        "shipshape:desiredCount = 1: must be between minCount (2) and maxCount (4)",
    ),
    ({"containerPort": "80"}, "shipshape:containerPort = 80: must be 1024 to 65535"),
    (
        {"vpcCidr": "10.0.0.0/8"},
        'shipshape:vpcCidr = "10.0.0.0/8": must be a private IPv4 range from /16 to /24, e.g. 10.0.0.0/16',
    ),
    ({"vpcCidr": "banana"}, 'shipshape:vpcCidr = "banana": not an IPv4 CIDR block such as 10.0.0.0/16'),
    ({"availabilityZones": "1"}, "shipshape:availabilityZones = 1: must be 2 to 6"),
    (
        {"healthCheckPath": "health"},
        'shipshape:healthCheckPath = "health": must be a URL path starting with / (no spaces, at most 1024 characters)',
    ),
    (
        {"healthCheckIntervalSeconds": "5", "healthCheckTimeoutSeconds": "5"},
        "shipshape:healthCheckTimeoutSeconds = 5: must be less than healthCheckIntervalSeconds (5)",
    ),
    ({"healthyThreshold": "11"}, "shipshape:healthyThreshold = 11: must be 2 to 10"),
    ({"deregistrationDelaySeconds": "4000"}, "shipshape:deregistrationDelaySeconds = 4000: must be 0 to 3600"),
    ({"stopTimeoutSeconds": "121"}, "shipshape:stopTimeoutSeconds = 121: must be 10 to 120"),
    (
        {"logRetentionDays": "10"},
        "shipshape:logRetentionDays = 10: must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
        "545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ),
    ({"architecture": "i386"}, 'shipshape:architecture = "i386": must be one of x86_64, arm64'),
    (
        {"architecture": "arm64"},
        'shipshape:hostInstanceType = "t3.micro": architecture is arm64: use a Graviton type such as t4g.micro',
    ),
    (
        {"repositoryName": "Shipshape/Web"},
        'shipshape:repositoryName = "Shipshape/Web": must be 2-256 lowercase letters, digits and . _ - separated '
        "segments, e.g. shipshape/web",
    ),
    (
        {"certificateArn": "arn:aws:iam::123456789012:server-certificate/x"},
        'shipshape:certificateArn = "arn:aws:iam::123456789012:server-certificate/x": not an ACM certificate ARN '
        "(arn:aws:acm:<region>:<account>:certificate/<uuid>)",
    ),
    (
        {"allowHttpWithoutCertificate": "false"},
        'shipshape:certificateArn = "": an HTTPS listener needs a certificate; set certificateArn, or '
        "allowHttpWithoutCertificate: true for dev",
    ),
    (
        {"natGateways": "None"},
        'shipshape:natGateways = "None": private subnets without NAT need vpcEndpoints: true to pull images and '
        "ship logs",
    ),
    ({"natGateways": "Two"}, 'shipshape:natGateways = "Two": must be one of OnePerAz, Single, None'),
    (
        {"pullPrincipals": json.dumps(["*"])},
        'shipshape:pullPrincipals = "*": must be a 12-digit account id or an IAM root/role/user ARN; public '
        "principals are not allowed",
    ),
    (
        {"environment": json.dumps(["DB_PASSWORD=hunter2"])},
        'shipshape:environment = "DB_PASSWORD=hunter2": DB_PASSWORD looks like a secret: pass it through `secrets`',
    ),
    (
        {"environment": json.dumps(["PORT=9000"])},
        'shipshape:environment = "PORT=9000": PORT is set by the platform and cannot be overridden',
    ),
    (
        {"secrets": json.dumps(["API_KEY=plaintext"])},
        'shipshape:secrets = "API_KEY=plaintext": the value must be a Secrets Manager secret ARN or an SSM '
        "parameter ARN",
    ),
    (
        {"hostAllowedCidrs": json.dumps(["0.0.0.0/0"])},
        'shipshape:hostAllowedCidrs = "0.0.0.0/0": only private ranges may reach the host; the internet goes '
        "through the ALB",
    ),
    (
        {"tags": json.dumps(["aws:owner=me"])},
        'shipshape:tags = "aws:owner=me": keys starting with aws: are reserved by AWS',
    ),
    ({"hostEnabled": "yes"}, 'shipshape:hostEnabled = "yes": expected true or false'),
    ({"tags": "not-json"}, 'shipshape:tags = "not-json": expected a list of strings'),
    ({"bogusKey": "1"}, "shipshape:bogusKey: unknown key; declared keys are listed in Pulumi.yaml"),
    (
        {"existingVpcId": "vpc-0123456789abcdef0", "existingPublicSubnetIds": json.dumps(["subnet-0123456789abcdef0"])},
        'shipshape:existingPublicSubnetIds = ["subnet-0123456789abcdef0"]: needs at least two subnets in different '
        "AZs when existingVpcId is set",
    ),
]


@pytest.mark.parametrize(("raw", "message"), BAD_SETTINGS, ids=[m.split(" ")[0] for _, m in BAD_SETTINGS])
def test_bad_setting_is_rejected_with_its_exact_message(raw: dict[str, str], message: str) -> None:
    assert message in problems(raw)


def test_several_bad_settings_are_reported_together() -> None:
    found = problems({"cpu": "300", "containerPort": "22", "logRetentionDays": "2", "natGateways": "Two"})
    assert [p.split(" ")[0] for p in found] == [
        "shipshape:natGateways",
        "shipshape:cpu",
        "shipshape:logRetentionDays",
        "shipshape:containerPort",
    ]


def test_settings_error_is_a_run_error_listing_every_problem() -> None:
    with pytest.raises(SettingsError) as caught:
        parse({"cpu": "300", "healthyThreshold": "1"})
    error = caught.value
    assert isinstance(error, pulumi.RunError)
    assert str(error).splitlines() == [
        "invalid stack configuration (2 problems):",
        "  - shipshape:cpu = 300: must be one of 256, 512, 1024, 2048, 4096, 8192, 16384",
        "  - shipshape:healthyThreshold = 1: must be 2 to 10",
    ]


def test_missing_and_malformed_region_are_reported() -> None:
    assert problems({}, region=None) == ["aws:region: not set; set it with `pulumi config set aws:region <region>`"]
    assert problems({}, region="moon-1") == ['aws:region = "moon-1": not an AWS region name such as eu-west-1']


def test_long_stack_name_is_rejected_because_alb_names_would_not_fit() -> None:
    (message,) = problems({}, stack="a-very-long-stack-name-for-qa")
    assert message.startswith("stack name 'a-very-long-stack-name-for-qa': 'shipshape-a-very-long-stack-name-for-qa'")


def test_defaults_are_the_secure_production_posture() -> None:
    settings = parse_settings(
        {"certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"},
        project="shipshape",
        stack="prod",
        region="eu-west-1",
    )
    assert settings.service.deletion_protection is True
    assert settings.service.access_logs is True
    assert settings.service.enable_execute_command is False
    assert settings.service.https is True
    assert settings.network.nat_gateways == "OnePerAz"
    assert settings.table.point_in_time_recovery is True
    assert settings.registry.force_delete is False
    assert settings.service.min_count >= 2


def test_account_ids_become_root_principals_in_the_regions_partition() -> None:
    settings = parse({"pullPrincipals": json.dumps(["210987654321"])}, region="us-gov-west-1")
    assert settings.registry.pull_principals == ("arn:aws-us-gov:iam::210987654321:root",)
    assert settings.partition == "aws-us-gov"


def test_gunicorn_drains_inside_ecs_stop_timeout() -> None:
    settings = parse({"stopTimeoutSeconds": "30", "cpu": "1024", "memory": "2048"})
    assert settings.service.graceful_timeout_seconds < settings.service.stop_timeout_seconds
    assert settings.service.web_concurrency == 3


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stack_files_are_valid(stack: str) -> None:
    document = yaml.safe_load((PROJECT_FILE.parent / f"Pulumi.{stack}.yaml").read_text())
    raw = {}
    region = None
    for key, value in document["config"].items():
        namespace, _, name = key.partition(":")
        text = (
            json.dumps(value)
            if isinstance(value, list)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
        if namespace == "aws" and name == "region":
            region = text
        else:
            raw[name] = text
    settings = parse_settings(raw, project="shipshape", stack=stack, region=region)
    assert settings.stack == stack


def test_every_declaration_has_type_description_and_default() -> None:
    for key, spec in declarations().items():
        assert spec.get("type") in {"string", "integer", "boolean", "array"}, key
        assert spec.get("description"), key
        assert "default" in spec, key
