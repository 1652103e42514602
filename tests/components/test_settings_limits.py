"""Stack settings refuse what AWS would refuse, with facts from botocore's data where AWS publishes them there."""

from __future__ import annotations

import json

import pytest

from components.settings import parse_settings
from preflight.config_types import SECRET_PLACEHOLDER

DEV_OK = {"allowHttpWithoutCertificate": "true"}
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"


def problems(raw: dict[str, str], *, region: str = "eu-west-1", secret_keys: tuple[str, ...] = ()) -> list[str]:
    from components.settings import SettingsError

    try:
        parse_settings({**DEV_OK, **raw}, project="shipshape", stack="dev", region=region, secret_keys=secret_keys)
    except SettingsError as error:
        return error.problems
    return []


def keys_of(found: list[str]) -> set[str]:
    return {problem.split(" ")[0].rstrip(":") for problem in found}


REFUSED = [
    ({}, "eu-west-9", "aws:region"),
    ({}, "eu-west-\u0661", "aws:region"),
    ({"availabilityZones": "4"}, "eu-west-1", "shipshape:availabilityZones"),
    ({"certificateArn": CERTIFICATE.replace("eu-west-1", "us-east-1")}, "eu-west-1", "shipshape:certificateArn"),
    ({"repositoryKmsKeyArn": KEY.replace("arn:aws:", "arn:aws-cn:")}, "eu-west-1", "shipshape:repositoryKmsKeyArn"),
    ({"logKmsKeyArn": KEY.replace("eu-west-1", "eu-central-1")}, "eu-west-1", "shipshape:logKmsKeyArn"),
    ({"pullPrincipals": json.dumps(["arn:aws-cn:iam::123456789012:root"])}, "eu-west-1", "shipshape:pullPrincipals"),
    ({"pullPrincipals": json.dumps([f"{n:012d}" for n in range(300)])}, "eu-west-1", "shipshape:pullPrincipals"),
    (
        {"pullPrincipals": json.dumps(["arn:aws:iam::\uff11\uff12\uff13456789012:root"])},
        "eu-west-1",
        "shipshape:pullPrincipals",
    ),
    (
        {"pullPrincipals": json.dumps(["arn:aws:iam::123456789012:role/r\u00f4le"])},
        "eu-west-1",
        "shipshape:pullPrincipals",
    ),
    (
        {"pullPrincipals": json.dumps([f"arn:aws:iam::123456789012:role/{'r' * 65}"])},
        "eu-west-1",
        "shipshape:pullPrincipals",
    ),
    ({"tags": json.dumps([f"k{n}=v" for n in range(47)])}, "eu-west-1", "shipshape:tags"),
    ({"tags": json.dumps(["team=<platform>"])}, "eu-west-1", "shipshape:tags"),
    ({"hostAllowedCidrs": json.dumps(["10.1.0.0/16", "10.1.0.0/16"])}, "eu-west-1", "shipshape:hostAllowedCidrs"),
    (
        {"hostAllowedCidrs": json.dumps([f"10.{n}.0.0/16" for n in range(60)])},
        "eu-west-1",
        "shipshape:hostAllowedCidrs",
    ),
    ({"environment": json.dumps([f"V{n}={'x' * 1000}" for n in range(70)])}, "eu-west-1", "shipshape:environment"),
    ({"hostInstanceType": "t3.mega"}, "eu-west-1", "shipshape:hostInstanceType"),
    ({"hostInstanceType": "mac2.metal"}, "eu-west-1", "shipshape:hostInstanceType"),
    ({"hostInstanceType": "a1.medium"}, "eu-west-1", "shipshape:hostInstanceType"),
    ({"healthCheckPath": "/health?x='1'"}, "eu-west-1", "shipshape:healthCheckPath"),
    ({"healthCheckPath": "/h\u00e9alth"}, "eu-west-1", "shipshape:healthCheckPath"),
    ({"desiredCont": "1"}, "eu-west-1", "shipshape:desiredCont"),
]
REFUSED += [
    ({"vpcCidr": cidr}, "eu-west-1", "shipshape:vpcCidr")
    for cidr in ("169.254.0.0/16", "127.0.0.0/16", "0.0.0.0/16", "240.0.0.0/16")
]


@pytest.mark.parametrize(("raw", "region", "key"), REFUSED)
def test_a_value_aws_would_refuse_is_refused_naming_its_key(raw: dict[str, str], region: str, key: str) -> None:
    assert keys_of(problems(raw, region=region)) == {key}


ACCEPTED = [
    {"architecture": "arm64", "hostInstanceType": "a1.medium"},
    {"architecture": "arm64", "hostInstanceType": "m7g.large"},
    {"hostInstanceType": "m7i.large"},
    {"tags": json.dumps(["\u00e9quipe=plateforme", "path=/a/b:c"])},
    {"vpcCidr": "100.64.0.0/16"},
    {"hostAllowedCidrs": json.dumps(["10.1.0.0/16", "fd00:10::/64"])},
    {"availabilityZones": "3"},
]


@pytest.mark.parametrize("raw", ACCEPTED)
def test_a_value_aws_accepts_is_accepted(raw: dict[str, str]) -> None:
    assert problems(raw) == []


def test_a_misspelt_key_gets_the_nearest_declared_key() -> None:
    (problem,) = problems({"desiredCont": "1"})
    assert problem == "shipshape:desiredCont: unknown key; did you mean shipshape:desiredCount?"


def test_min_above_max_is_blamed_on_the_bound_not_on_the_desired_count() -> None:
    assert keys_of(problems({"minCount": "5", "maxCount": "2"})) == {"shipshape:maxCount"}


def test_a_huge_value_is_shortened_in_the_message() -> None:
    (problem,) = problems({"healthCheckPath": "/" + "x" * 200_000})
    assert len(problem) < 400
    assert "(200003 characters)" in problem


def test_a_secret_preflight_cannot_decrypt_is_accepted_where_an_output_can_stand_in() -> None:
    assert problems({"certificateArn": SECRET_PLACEHOLDER}, secret_keys=("certificateArn",)) == []


def test_a_secret_for_a_key_that_cannot_take_one_is_explained_without_its_value() -> None:
    (problem,) = problems({"cpu": SECRET_PLACEHOLDER}, secret_keys=("cpu",))
    assert problem.startswith("shipshape:cpu = [secret]: a secret here cannot be checked offline")


def test_a_decrypted_secret_is_checked_but_never_shown() -> None:
    (problem,) = problems({"certificateArn": "not-an-arn-but-secret"}, secret_keys=("certificateArn",))
    assert problem.startswith("shipshape:certificateArn = [secret]: not an ACM certificate ARN")
    assert "not-an-arn-but-secret" not in problem


def test_a_secret_stays_secret_in_the_args() -> None:
    import pulumi

    settings = parse_settings(
        {**DEV_OK, "certificateArn": CERTIFICATE},
        project="shipshape",
        stack="dev",
        region="eu-west-1",
        secret_keys=("certificateArn",),
    )
    wiring = {key: "x" for key in ("vpc_id", "load_balancer_security_group_id", "app_security_group_id", "image")}
    service = settings.to_web_service_args(**wiring, public_subnet_ids=[], private_subnet_ids=[])
    assert isinstance(service.certificate_arn, pulumi.Output)
