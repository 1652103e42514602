"""Placeholders derived from the provider SDK's own declarations, data-source answers, remote components,
and analyzer marshalling as the engine does it."""

from __future__ import annotations

import pulumi_aws  # noqa: F401  (registers the SDK's resource modules, as any program importing it does)
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs

from preflight import sdk_types
from preflight.marshal import for_analyzer, stack_properties
from preflight.mocks import ACCOUNT, UNKNOWN, StackMocks, UnknownInvokeError
from preflight.model import RecordedResource

REGION = "eu-west-1"
RESOURCE_SIG = rpc._special_resource_sig
SECRET_SIG = rpc._special_secret_sig


def computed(typ: str, name: str = "thing", inputs: dict | None = None, *, unknowns: bool = False) -> dict:
    urn = f"urn:pulumi:test::shapes::{typ}::{name}"
    return StackMocks(REGION, unknowns=unknowns).computed(typ, name, urn, inputs or {})[1]


@pytest.mark.parametrize(
    "typ",
    [
        "aws:rds/instance:Instance",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:lambda/function:Function",
        "aws:apigatewayv2/api:Api",
        "aws:cloudfront/distribution:Distribution",
        "aws:sqs/queue:Queue",
    ],
)
def test_every_computed_output_the_sdk_declares_gets_a_value(typ: str) -> None:
    declared = {field.name for field in sdk_types.computed_outputs(typ)}
    assert declared, f"the SDK declares no computed outputs for {typ}"
    out = computed(typ)
    assert declared <= set(out)
    assert all(value is not None and value != UNKNOWN for key, value in out.items() if key in declared)


def test_the_sdk_decides_which_outputs_are_computed_not_a_list() -> None:
    names = {field.name for field in sdk_types.computed_outputs("aws:rds/instance:Instance")}
    assert {"address", "endpoint", "arn", "resourceId", "hostedZoneId"} <= names
    assert "engine" not in names and "username" not in names  # inputs, echoed from the program


def test_values_follow_what_the_output_holds() -> None:
    out = computed("aws:rds/instance:Instance", "orders", {"tags": {"team": "a"}})
    assert out["address"].endswith(f".{REGION}.rds.amazonaws.com")
    assert out["arn"].startswith(f"arn:aws:rds:{REGION}:{ACCOUNT}:")
    assert out["tagsAll"] == {"team": "a"}
    certificate = computed("aws:acm/certificate:Certificate", "site", {"domainName": "app.example.com"})
    # One validation option per name on the certificate, so `domain_validation_options[0]` works in programs.
    (option,) = certificate["domainValidationOptions"]
    assert set(option) >= {"resourceRecordName", "resourceRecordType", "resourceRecordValue"}


def test_unknowns_mode_makes_every_computed_output_unknown() -> None:
    out = computed("aws:rds/instance:Instance", unknowns=True)
    assert out["address"] == out["endpoint"] == UNKNOWN


def test_ec2_ids_carry_their_type_prefix() -> None:
    urn = "urn:pulumi:test::shapes::aws:ec2/vpc:Vpc::main"
    vpc_id, out = StackMocks(REGION).computed("aws:ec2/vpc:Vpc", "main", urn, {})
    assert vpc_id.startswith("vpc-") and len(vpc_id) == 21 and out["arn"].endswith(f":vpc/{vpc_id}")


def call(token: str, args: dict | None = None) -> dict:
    return StackMocks(REGION).call(MockCallArgs(token, args or {}, ""))


def test_common_data_sources_answer_with_the_sdk_result_fields() -> None:
    zone = call("aws:route53/getZone:getZone", {"name": "example.com."})
    assert zone["name"] == "example.com" and zone["zoneId"].startswith("Z") and len(zone["nameServers"]) == 4
    ami = call("aws:ec2/getAmi:getAmi", {"owners": ["amazon"], "mostRecent": True})
    assert ami["id"] == ami["imageId"] and ami["id"].startswith("ami-0")
    assert ami["owners"] == ["amazon"] and ami["mostRecent"] is True  # arguments echoed as the provider does
    fields = {field.name for field in sdk_types.result_fields("aws:ec2/getAmi:getAmi") or ()}
    assert fields <= set(ami)
    subnets = call("aws:ec2/getSubnets:getSubnets", {"filters": [{"name": "vpc-id", "values": ["vpc-1"]}]})
    assert len(subnets["ids"]) == 3 and all(subnet.startswith("subnet-") for subnet in subnets["ids"])
    credentials = call("aws:ecr/getCredentials:getCredentials", {"registryId": ACCOUNT})
    assert credentials["proxyEndpoint"] == f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    assert call("aws:ec2/getVpc:getVpc", {"default": True})["default"] is True
    setting = call("aws:ssm/getParameter:getParameter", {"name": "/app/setting"})["value"]
    assert rpc.unwrap_rpc_secret(setting).startswith("preflight-")
    document = call("aws:iam/getPolicyDocument:getPolicyDocument", {"statements": [{"actions": ["s3:GetObject"]}]})
    assert '"Action": "s3:GetObject"' in document["json"]


@pytest.mark.parametrize(
    ("token", "args", "arn"),
    [
        ("aws:s3/getBucket:getBucket", {"bucket": "logs"}, "arn:aws:s3:::logs"),
        ("aws:ecs/getCluster:getCluster", {"clusterName": "apps"}, f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/apps"),
        ("aws:cloudwatch/getLogGroup:getLogGroup", {"name": "/app"}, f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app"),
        ("aws:kms/getAlias:getAlias", {"name": "alias/app"}, f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/app"),
    ],
)
def test_lookups_by_name_answer_the_arn_aws_gives(token: str, args: dict, arn: str) -> None:
    assert call(token, args)["arn"] == arn


def test_lookups_answer_ids_in_aws_formats() -> None:
    secret = call("aws:secretsmanager/getSecret:getSecret", {"name": "db"})["arn"]
    assert (
        secret.startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-") and len(secret.rsplit("-")[-1]) == 6
    )
    key = call("aws:kms/getKey:getKey", {"keyId": "alias/app"})
    assert key["arn"] == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key['id']}"
    alias = call("aws:kms/getAlias:getAlias", {"name": "alias/app"})
    assert alias["targetKeyArn"].startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/")
    balancer = call("aws:lb/getLoadBalancer:getLoadBalancer", {"name": "web"})
    assert balancer["dnsName"].endswith(f".{REGION}.elb.amazonaws.com") and balancer["arnSuffix"].startswith("app/web/")
    groups = call("aws:ec2/getSecurityGroups:getSecurityGroups", {"tags": {"tier": "app"}})
    assert all(group.startswith("sg-") for group in groups["ids"])


def test_a_data_source_without_an_answer_is_refused_by_the_mocks() -> None:
    with pytest.raises(UnknownInvokeError, match="aws:rds/getEngineVersion:getEngineVersion"):
        call("aws:rds/getEngineVersion:getEngineVersion")


def test_awsx_repository_url_is_the_registry_and_the_given_name() -> None:
    out = computed("awsx:ecr:Repository", "app", {"name": "orders"})
    assert out == {"url": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/orders"}


def struct(value: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(value)
    return message


def test_for_analyzer_writes_references_as_ids_and_urns_and_keeps_secrets_and_unknowns() -> None:
    component = "urn:pulumi:test::shapes::shapes:site:Site::site"
    properties = struct(
        {
            "vpcId": {rpc._special_sig_key: RESOURCE_SIG, "urn": "urn:...:vpc", "id": "vpc-0123"},
            "role": {rpc._special_sig_key: RESOURCE_SIG, "urn": "urn:...:role", "id": ""},
            "site": [{rpc._special_sig_key: RESOURCE_SIG, "urn": component}],
            "password": {rpc._special_sig_key: SECRET_SIG, "value": "hunter2"},
            "later": UNKNOWN,
        }
    )
    assert json_format.MessageToDict(for_analyzer(properties)) == {
        "vpcId": "vpc-0123",
        "role": UNKNOWN,
        "site": [component],
        "password": {rpc._special_sig_key: SECRET_SIG, "value": "hunter2"},
        "later": UNKNOWN,
    }


def test_stack_state_keeps_input_secrets_and_marks_additional_secret_outputs() -> None:
    inputs = struct({"password": {rpc._special_sig_key: SECRET_SIG, "value": "hunter2"}, "engine": "postgres"})
    resource = RecordedResource(
        urn="urn:pulumi:test::shapes::aws:rds/instance:Instance::db",
        type="aws:rds/instance:Instance",
        name="db",
        custom=True,
        parent="",
        provider="",
        dependencies=(),
        property_dependencies={},
        inputs_struct=inputs,
        inputs={"password": "hunter2", "engine": "postgres"},
        outputs={"password": "hunter2", "engine": "postgres", "address": "db.example", "endpoint": "db.example:5432"},
        options={"additionalSecretOutputs": ["endpoint"]},
    )
    state = json_format.MessageToDict(stack_properties(resource))
    assert state["password"] == {rpc._special_sig_key: SECRET_SIG, "value": "hunter2"}
    assert state["endpoint"] == {rpc._special_sig_key: SECRET_SIG, "value": "db.example:5432"}
    assert state["address"] == "db.example" and state["engine"] == "postgres"
