"""What a real `pulumi up` would hit that mocks used to let through, each checked over the recorded program."""

from __future__ import annotations

from functools import cache

import pytest

from preflight.recorder import Recording, record
from tests.conftest import ROOT

SECRET_SIG = "4dabf18193072939515e22adb298388d"
EXISTING_VPC = {
    "shipshape:existingVpcId": "vpc-0123456789abcdef0",
    "shipshape:existingPublicSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    "shipshape:existingPrivateSubnetIds": ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"],
}
SHAPES = {"dev": ("dev", {}), "prod": ("prod", {}), "dev-existing-vpc": ("dev", EXISTING_VPC)}


@cache
def recorded(shape: str) -> Recording:
    stack, overrides = SHAPES[shape]
    return record(ROOT, stack, config_overrides=overrides)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_invoke_uses_the_programs_explicit_provider(shape: str) -> None:
    # A data source called without a provider or parent gets the engine's default provider: a real plan
    # gains a `default_7_x` provider in another region, and fails where default providers are disabled.
    recording = recorded(shape)
    explicit = {r.urn for r in recording.resources if r.type == "pulumi:providers:aws"}
    assert recording.invokes, "the program calls data sources; none were recorded"
    stray = sorted({tok for tok, provider in recording.invokes if provider.rsplit("::", 1)[0] not in explicit})
    assert stray == []


def test_the_host_ami_is_not_a_secret() -> None:
    # The SSM parameter's `value` is always sensitive; a secret AMI hides the host's image from plans and the pack.
    recording = recorded("dev")
    host_types = {"aws:ec2/instance:Instance", "aws:ec2/launchTemplate:LaunchTemplate"}
    instances = [r for r in recording.resources if r.type in host_types]
    assert instances, "dev runs the host"
    for resource in instances:
        field_name = "ami" if "ami" in resource.inputs_struct.fields else "imageId"
        ami = resource.inputs_struct.fields[field_name]
        assert SECRET_SIG not in ami.struct_value.fields, f"{resource.urn}: {field_name} is a secret"


def test_load_balancer_waits_for_its_access_log_bucket_policy_and_settings() -> None:
    recording = recorded("prod")
    (alb,) = recording.by_type("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["accessLogs"]["enabled"] is True
    needed = {
        r.urn
        for r in recording.resources
        if r.type
        in {
            "aws:s3/bucketPolicy:BucketPolicy",
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        }
    }
    assert needed
    assert needed <= set(alb.dependencies)


def physical_names(recording: Recording) -> dict[str, str]:
    """Every fixed physical name the program sets -> the resource that sets it.

    `name` is the property pulumi-aws auto-names for nearly every type (tfbridge's default autoname field), and
    `family`/`bucket` are the task definition's and bucket's; a `...Prefix` is completed with random characters
    by the provider, so it cannot collide. Names the provider computes (auto-names) are not inputs at all.
    """
    owned = {"name": None, "family": {"aws:ecs/taskDefinition:TaskDefinition"}, "bucket": {"aws:s3/bucket:Bucket"}}
    found = {}
    for resource in recording.resources:
        for key, types in owned.items():
            value = resource.inputs.get(key)
            if isinstance(value, str) and value and (types is None or resource.type in types):
                found[f"{resource.type}:{value}"] = resource.urn
    return found


def test_dev_and_prod_in_one_account_share_no_physical_name() -> None:
    dev, prod = physical_names(recorded("dev")), physical_names(recorded("prod"))
    assert dev and prod
    assert sorted(dev.keys() & prod.keys()) == []


def test_an_explicit_repository_name_is_kept() -> None:
    recording = record(ROOT, "dev", config_overrides={"shipshape:repositoryName": "team/app"})
    (repository,) = recording.by_type("aws:ecr/repository:Repository")
    assert repository.inputs["name"] == "team/app"
