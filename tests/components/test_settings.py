"""Stack settings: every bad key is rejected with a message naming the key, the value and what is allowed."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pytest
import yaml

from components.checks import ArgsError
from components.container import graceful_timeout, web_concurrency
from components.settings import (
    PROJECT_FILE,
    SettingsError,
    declarations,
    parse_settings,
)
from components.stack_keys import ARGS_KEYS

CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
# What the other components give the web service in __main__.py; plain stand-ins here.
WIRING = {
    "vpc_id": "vpc-0123456789abcdef0",
    "public_subnet_ids": ["subnet-0a", "subnet-0b"],
    "private_subnet_ids": ["subnet-0c", "subnet-0d"],
    "load_balancer_security_group_id": "sg-0a",
    "app_security_group_id": "sg-0b",
    "image": f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/shipshape/web@sha256:{'a' * 64}",
}

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
        "shipshape:desiredCount = 1: must be from the minimum (2) to the maximum (4) count",
    ),
    ({"minCount": "5", "maxCount": "2"}, "shipshape:maxCount = 2: must be at least minCount (5)"),
    (
        {"containerPort": "80"},
        "shipshape:containerPort = 80: must be 1024 to 65535 (the container runs without root "
        "and without capabilities)",
    ),
    (
        {"vpcCidr": "10.0.0.0/8"},
        'shipshape:vpcCidr = "10.0.0.0/8": must be a private IPv4 range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, '
        "100.64.0.0/10) from /16 to /24, e.g. 10.0.0.0/16",
    ),
    ({"vpcCidr": "banana"}, 'shipshape:vpcCidr = "banana": not an IPv4 CIDR block such as 10.0.0.0/16'),
    ({"availabilityZones": "1"}, "shipshape:availabilityZones = 1: must be 2 to 6 (an ALB needs two)"),
    (
        {"healthCheckPath": "health"},
        'shipshape:healthCheckPath = "health": not a URL path such as /health (at most 1024 of A-Z a-z 0-9 / _ . ~ -)',
    ),
    (
        {"healthCheckIntervalSeconds": "5", "healthCheckTimeoutSeconds": "5"},
        "shipshape:healthCheckTimeoutSeconds = 5: must be less than the health check interval (5 s)",
    ),
    ({"healthyThreshold": "11"}, "shipshape:healthyThreshold = 11: must be 2 to 10"),
    (
        {"deregistrationDelaySeconds": "4000"},
        "shipshape:deregistrationDelaySeconds = 4000: must be 0 to 3600",
    ),
    (
        {"stopTimeoutSeconds": "121"},
        "shipshape:stopTimeoutSeconds = 121: must be 10 to 120 (Fargate allows 120; the server drains 5 s inside it)",
    ),
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
        'shipshape:certificateArn = "": an HTTPS listener needs a certificate; give one, or a domain name and '
        "hosted zone to issue one, or allow HTTP without a certificate (dev only)",
    ),
    (
        {"natGateways": "None"},
        'shipshape:natGateways = "None": private subnets without NAT need VPC endpoints to pull images and ship logs',
    ),
    ({"natGateways": "Two"}, 'shipshape:natGateways = "Two": must be one of OnePerAz, Single, None'),
    (
        {"pullPrincipals": json.dumps(["*"])},
        "shipshape:pullPrincipals = [\"*\"]: '*': must be a 12-digit account id or an IAM root/role/user ARN; "
        "public principals are not allowed",
    ),
    (
        {"environment": json.dumps(["DB_PASSWORD=hunter2"])},
        'shipshape:environment = ["DB_PASSWORD=hunter2"]: DB_PASSWORD looks like a secret: pass it through secrets',
    ),
    (
        {"environment": json.dumps(["PORT=9000"])},
        'shipshape:environment = ["PORT=9000"]: PORT is set by the platform and cannot be overridden',
    ),
    (
        {"environment": json.dumps(["A=1", "A=2"])},
        'shipshape:environment = ["A=1", "A=2"]: A is given twice',
    ),
    (
        {"secrets": json.dumps(["API_KEY=plaintext"])},
        'shipshape:secrets = ["API_KEY=plaintext"]: API_KEY=plaintext: the value must be a Secrets Manager secret '
        "ARN or an SSM parameter ARN",
    ),
    (
        {
            "environment": json.dumps(["UPSTREAM=x"]),
            "secrets": json.dumps(["UPSTREAM=arn:aws:ssm:eu-west-1:123456789012:parameter/x"]),
        },
        'shipshape:secrets = ["UPSTREAM=arn:aws:ssm:eu-west-1:123456789012:parameter/x"]: UPSTREAM also in '
        "environment: a name is plain or secret, not both",
    ),
    (
        {"hostAllowedCidrs": json.dumps(["0.0.0.0/0"])},
        "shipshape:hostAllowedCidrs = [\"0.0.0.0/0\"]: '0.0.0.0/0': only private ranges may reach the host; the "
        "internet goes through the ALB",
    ),
    (
        {"tags": json.dumps(["aws:owner=me"])},
        'shipshape:tags = ["aws:owner=me"]: aws:owner: keys starting with aws: are reserved by AWS',
    ),
    ({"hostEnabled": "yes"}, 'shipshape:hostEnabled = "yes": expected true or false'),
    ({"tags": "not-json"}, 'shipshape:tags = "not-json": expected a list of strings'),
    ({"bogusKey": "1"}, "shipshape:bogusKey: unknown key; declared keys are listed in Pulumi.yaml"),
    (
        {"existingVpcId": "vpc-0123456789abcdef0", "existingPublicSubnetIds": json.dumps(["subnet-0123456789abcdef0"])},
        'shipshape:existingPublicSubnetIds = ["subnet-0123456789abcdef0"]: needs at least two subnets in different '
        "AZs with an existing VPC",
    ),
]


@pytest.mark.parametrize(("raw", "message"), BAD_SETTINGS, ids=[m.split(" ")[0] for _, m in BAD_SETTINGS])
def test_bad_setting_is_rejected_with_its_exact_message(raw: dict[str, str], message: str) -> None:
    assert message in problems(raw)


def test_several_bad_settings_are_reported_together() -> None:
    found = problems({"cpu": "300", "containerPort": "22", "logRetentionDays": "2", "natGateways": "Two"})
    assert sorted(p.split(" ")[0] for p in found) == [
        "shipshape:containerPort",
        "shipshape:cpu",
        "shipshape:logRetentionDays",
        "shipshape:natGateways",
    ]


def test_type_and_range_problems_arrive_in_one_run() -> None:
    found = problems({"cpu": "300", "memory": "true", "minCount": "5", "maxCount": "2"})
    assert sorted(p.split(" ")[0] for p in found) == ["shipshape:cpu", "shipshape:maxCount", "shipshape:memory"]


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
    assert problems({}, region="moon-1") == [
        'aws:region = "moon-1": not an AWS region name such as eu-west-1 (botocore lists no such region)'
    ]


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
    service = settings.to_web_service_args(**WIRING)
    assert service.deletion_protection is True
    assert service.access_logs is True
    assert service.enable_execute_command is False
    assert service.https is True
    assert settings.to_network_args().nat_gateways == "OnePerAz"
    assert settings.to_network_args().listener_ports == (443, 80)
    assert settings.to_counter_table_args().point_in_time_recovery is True
    assert settings.to_repository_args().force_delete is False
    assert service.min_count >= 2
    assert settings.host_enabled is False


def test_pulumi_yaml_defaults_are_the_library_defaults() -> None:
    """The stack's defaults (Pulumi.yaml) and the components' defaults say the same thing."""
    settings = parse({"allowHttpWithoutCertificate": "false", "certificateArn": CERTIFICATE})
    for args_type, keys in ARGS_KEYS.items():
        defaults = {f.name: f.default for f in dataclasses.fields(args_type) if f.default is not dataclasses.MISSING}
        for field, key in keys.items():
            if field in defaults and (args_type.__name__, field) not in STACK_CHOICES:
                assert _same(defaults[field], settings[key]), (args_type.__name__, field, key)


# Where this stack decides differently from a library user's default: its repository name, and which
# listener ports follow from having a certificate.
STACK_CHOICES = {("RepositoryArgs", "name"), ("NetworkArgs", "listener_ports")}


def _same(default: object, value: object) -> bool:
    if isinstance(default, tuple):
        return list(default) == list(value)
    return default == value


def test_account_ids_become_root_principals_in_the_regions_partition() -> None:
    settings = parse({"pullPrincipals": json.dumps(["210987654321"])}, region="us-gov-west-1")
    assert list(settings.to_repository_args().pull_principals) == ["arn:aws-us-gov:iam::210987654321:root"]
    assert settings.partition == "aws-us-gov"


def test_dev_serves_plain_http_and_opens_only_port_80() -> None:
    settings = parse({})
    assert settings.to_network_args().listener_ports == (80,)
    assert settings.to_web_service_args(**WIRING).https is False


def test_an_args_check_failing_later_names_the_config_key() -> None:
    settings = parse({})
    with pytest.raises(SettingsError) as caught:
        settings.to_web_service_args(**{**WIRING, "counter_table_name": "visits"})
    assert caught.value.problems == [
        "WebServiceArgs.counter_table_arn = None: counter_table_name and counter_table_arn go together"
    ]
    with pytest.raises(SettingsError) as caught:
        settings.to_image_args(repository_url="r", registry_id="1", context="/nonexistent")
    assert caught.value.problems == ['ImageArgs.context = "/nonexistent": no Dockerfile there']


def test_the_server_drains_inside_ecs_stop_timeout() -> None:
    service = parse({"stopTimeoutSeconds": "30", "cpu": "1024", "memory": "2048"}).to_web_service_args(**WIRING)
    assert graceful_timeout(service.stop_timeout_seconds) < service.stop_timeout_seconds


@pytest.mark.parametrize("seconds", [0, 60, 4000])
def test_the_load_balancer_idle_timeout_must_end_before_the_servers(seconds: int) -> None:
    service = parse({}).to_web_service_args(**WIRING)
    with pytest.raises(ArgsError, match=r"load_balancer_idle_timeout_seconds.*must be 1 to 59 \(the app server"):
        dataclasses.replace(service, load_balancer_idle_timeout_seconds=seconds)


# Fargate's CPU units (1024 per vCPU) -> granian workers: one per vCPU, a part vCPU counted whole, at least two.
@pytest.mark.parametrize(
    ("cpu", "workers"), [(256, 2), (512, 2), (1024, 2), (2048, 2), (4096, 4), (8192, 8), (16384, 16), (3072, 3)]
)
def test_one_granian_worker_per_vcpu_at_least_two(cpu: int, workers: int) -> None:
    assert web_concurrency(cpu) == workers


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
