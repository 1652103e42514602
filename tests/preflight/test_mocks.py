"""Type-aware mocks: deterministic ids, ARNs, names and invoke answers; unknowns in --unknowns mode."""

from __future__ import annotations

import hashlib

import pytest
from pulumi.runtime import MockCallArgs, MockResourceArgs, rpc

from preflight.mocks import ACCOUNT, UNKNOWN, StackMocks, UnknownInvokeError, urn_of

REGION = "eu-west-1"


def computed(typ: str, name: str, inputs: dict | None = None, *, unknowns: bool = False) -> tuple[str, dict]:
    urn = urn_of("proj", "dev", "", typ, name)
    return StackMocks(REGION, unknowns=unknowns, project="proj", stack="dev").computed(typ, name, urn, inputs or {})


def sha1_7(urn: str) -> str:
    return hashlib.sha1(urn.encode(), usedforsecurity=False).hexdigest()[:7]


def test_auto_name_is_logical_name_and_seven_hex_of_the_urn() -> None:
    urn = urn_of("proj", "dev", "", "aws:ecs/cluster:Cluster", "web")
    _, out = computed("aws:ecs/cluster:Cluster", "web")
    assert out["name"] == f"web-{sha1_7(urn)}"
    assert out["arn"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{out['name']}"


def test_given_name_and_name_prefix_are_respected() -> None:
    assert computed("aws:iam/role:Role", "task", {"name": "app-task"})[1]["arn"] == (
        f"arn:aws:iam::{ACCOUNT}:role/app-task"
    )
    _, group = computed("aws:lb/targetGroup:TargetGroup", "tg", {"namePrefix": "web-"})
    assert group["name"].startswith("web-") and len(group["name"]) == len("web-") + 7
    assert group["arnSuffix"].startswith(f"targetgroup/{group['name']}/")


def test_outputs_are_deterministic() -> None:
    assert computed("aws:lb/loadBalancer:LoadBalancer", "alb") == computed("aws:lb/loadBalancer:LoadBalancer", "alb")
    assert computed("aws:lb/loadBalancer:LoadBalancer", "alb") != computed("aws:lb/loadBalancer:LoadBalancer", "alb2")


def test_ecr_repository_url_is_in_the_stack_region() -> None:
    resource_id, out = computed("aws:ecr/repository:Repository", "repo", {"name": "shipshape/web"})
    assert resource_id == "shipshape/web"
    assert out["repositoryUrl"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shipshape/web"
    assert out["registryId"] == ACCOUNT
    assert out["arn"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shipshape/web"


def test_docker_image_digest_derives_from_the_image_name() -> None:
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shipshape/web:sha-abc"
    _, out = computed("docker:index/image:Image", "img", {"imageName": image})
    digest = hashlib.sha256(image.encode()).hexdigest()
    assert out["repoDigest"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shipshape/web@sha256:{digest}"
    assert out["baseImageName"] == image
    assert out["registryServer"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def test_awsx_vpc_follows_awsx_defaults_three_zones_public_and_private() -> None:
    _, out = computed("awsx:ec2:Vpc", "vpc")
    assert out["vpcId"].startswith("vpc-")
    assert len(out["publicSubnetIds"]) == len(out["privateSubnetIds"]) == 3
    assert len(set(out["publicSubnetIds"] + out["privateSubnetIds"])) == 6
    assert out["isolatedSubnetIds"] == []
    # Resource-typed outputs (subnets, natGateways, ...) are the provider's children: left unanswered.
    assert set(out) == {"vpcId", "publicSubnetIds", "privateSubnetIds", "isolatedSubnetIds"}


def test_awsx_vpc_zone_count_and_subnet_specs_shape_the_subnets() -> None:
    _, two = computed("awsx:ec2:Vpc", "vpc", {"numberOfAvailabilityZones": 2})
    assert len(two["privateSubnetIds"]) == 2
    _, named = computed("awsx:ec2:Vpc", "vpc", {"availabilityZoneNames": ["eu-west-1a"]})
    assert len(named["publicSubnetIds"]) == 1
    specs = {"subnetSpecs": [{"type": "Public"}, {"type": "Isolated"}, {"type": "Unused"}]}
    _, isolated = computed("awsx:ec2:Vpc", "vpc", specs)
    assert (
        len(isolated["publicSubnetIds"]),
        len(isolated["privateSubnetIds"]),
        len(isolated["isolatedSubnetIds"]),
    ) == (
        3,
        0,
        3,
    )


@pytest.mark.parametrize(
    ("typ", "key", "expected"),
    [
        ("aws:cloudwatch/logGroup:LogGroup", "arn", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:app/web"),
        ("aws:dynamodb/table:Table", "arn", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/app/web"),
        ("aws:iam/instanceProfile:InstanceProfile", "arn", f"arn:aws:iam::{ACCOUNT}:instance-profile/app/web"),
        ("aws:sqs/queue:Queue", "arn", f"arn:aws:sqs:{REGION}:{ACCOUNT}:queue/app/web"),
        (
            "aws:appautoscaling/target:Target",
            "arn",
            f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:target/app/web",
        ),
    ],
)
def test_arns_follow_each_service(typ: str, key: str, expected: str) -> None:
    assert computed(typ, "x", {"name": "app/web"})[1][key] == expected


def test_typed_ids() -> None:
    assert computed("aws:ec2/securityGroup:SecurityGroup", "sg")[0].startswith("sg-")
    instance_id, instance = computed("aws:ec2/instance:Instance", "host")
    assert instance_id.startswith("i-")
    assert instance["privateIp"].startswith("10.0.")
    key_id, key = computed("aws:kms/key:Key", "key")
    assert key["keyId"] == key_id and key["arn"].endswith(f":key/{key_id}")
    _, bucket = computed("aws:s3/bucket:Bucket", "logs", {"bucket": "my-logs"})
    assert bucket["arn"] == "arn:aws:s3:::my-logs"
    assert bucket["bucketRegionalDomainName"] == f"my-logs.s3.{REGION}.amazonaws.com"


def test_unknowns_mode_leaves_computed_values_unknown_but_keeps_auto_names() -> None:
    resource_id, out = computed("aws:ecs/cluster:Cluster", "web", {"settings": []}, unknowns=True)
    assert resource_id == ""
    assert out["arn"] == UNKNOWN
    assert out["name"].startswith("web-") and out["name"] != UNKNOWN
    assert "settings" not in out, "inputs are echoed by the monitor, not overwritten with unknowns"
    _, repository = computed("aws:ecr/repository:Repository", "repo", {"name": "r"}, unknowns=True)
    assert repository["repositoryUrl"] == UNKNOWN and "name" not in repository


def test_new_resource_echoes_inputs_with_computed_values() -> None:
    mocks = StackMocks(REGION)
    resource_id, outputs = mocks.new_resource(MockResourceArgs("aws:iam/role:Role", "r", {"name": "x", "path": "/"}))
    assert resource_id == "x"
    assert outputs["path"] == "/"
    assert outputs["arn"] == f"arn:aws:iam::{ACCOUNT}:role/x"


def call(token: str, args: dict | None = None) -> dict:
    return StackMocks(REGION).call(MockCallArgs(token, args or {}, ""))


def test_invokes_answer_in_the_stack_region() -> None:
    token = call("aws:ecr/getAuthorizationToken:getAuthorizationToken")
    assert token["userName"] == "AWS"
    assert token["proxyEndpoint"] == f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    assert call("aws:index/getCallerIdentity:getCallerIdentity")["accountId"] == ACCOUNT
    assert call("aws:index/getRegion:getRegion")["name"] == REGION
    assert call("aws:index/getPartition:getPartition")["dnsSuffix"] == "amazonaws.com"
    assert call("aws:index/getAvailabilityZones:getAvailabilityZones")["names"][0] == f"{REGION}a"
    parameter = call("aws:ssm/getParameter:getParameter", {"name": "/aws/ami"})
    # The provider returns `value` as a secret (pulumi-aws marks it sensitive); `insecureValue` is plain.
    assert rpc.is_rpc_secret(parameter["value"]) and rpc.unwrap_rpc_secret(parameter["value"]).startswith("ami-0")
    assert parameter["insecureValue"] == rpc.unwrap_rpc_secret(parameter["value"])
    assert call("aws:elb/getServiceAccount:getServiceAccount")["arn"] == "arn:aws:iam::156460612806:root"


def test_an_unknown_invoke_names_its_token() -> None:
    with pytest.raises(UnknownInvokeError, match=r"aws:rds/getEngineVersion:getEngineVersion"):
        call("aws:rds/getEngineVersion:getEngineVersion")
