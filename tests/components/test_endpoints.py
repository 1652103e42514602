"""With VPC endpoints the tasks reach AWS only through them, and each endpoint serves only this stack's
resources; the IPv4-only load balancer's group opens nothing to ::/0."""

from __future__ import annotations

import json
from functools import cache

import pytest

from preflight.recorder import Recording, record
from tests.conftest import ROOT

WORLD = {"0.0.0.0/0", "::/0"}


@cache
def recorded(stack: str) -> Recording:
    return record(ROOT, stack)


def rules_of(recording: Recording, kind: str, group_name: str) -> list:
    (group,) = [r for r in recording.by_type("aws:ec2/securityGroup:SecurityGroup") if r.name == group_name]
    token = f"aws:vpc/securityGroup{kind}Rule:SecurityGroup{kind}Rule"
    return [r for r in recording.by_type(token) if group.urn in r.property_dependencies.get("securityGroupId", ())]


def by_service(recording: Recording) -> dict:
    found = {}
    for endpoint in recording.by_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
        region = recording.by_type("pulumi:providers:aws")[0].inputs["region"]
        found[endpoint.inputs["serviceName"].removeprefix(f"com.amazonaws.{region}.")] = endpoint
    return found


def test_with_endpoints_the_app_reaches_only_the_endpoints() -> None:
    recording = recorded("prod")
    endpoint_group = [r for r in recording.by_type("aws:ec2/securityGroup:SecurityGroup") if r.name == "net-endpoints"]
    assert endpoint_group, "prod has VPC endpoints"
    services = by_service(recording)
    prefix_lists = {services[s].outputs["prefixListId"] for s in ("s3", "dynamodb")}
    assert all(p.startswith("pl-") for p in prefix_lists)
    egress = rules_of(recording, "Egress", "net-app")
    assert egress
    targets = set()
    for rule in egress:
        assert rule.inputs.get("cidrIpv4") not in WORLD and rule.inputs.get("cidrIpv6") not in WORLD, rule.name
        assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (443, 443)
        targets.update(rule.property_dependencies.get("referencedSecurityGroupId", ()))
        targets.update([rule.inputs["prefixListId"]] if "prefixListId" in rule.inputs else [])
    assert targets == {endpoint_group[0].urn, *prefix_lists}


def test_without_endpoints_the_app_goes_out_through_nat() -> None:
    egress = rules_of(recorded("dev"), "Egress", "net-app")
    assert [r.inputs.get("cidrIpv4") for r in egress] == ["0.0.0.0/0"]


def statements(endpoint) -> list[dict]:
    assert endpoint.inputs.get("policy"), f"{endpoint.name} has no endpoint policy (AWS's default is full access)"
    return json.loads(endpoint.inputs["policy"])["Statement"]


def resources(endpoint) -> set[str]:
    found = set()
    for statement in statements(endpoint):
        assert statement["Principal"] == "*"
        value = statement["Resource"]
        found.update([value] if isinstance(value, str) else value)
    return found


def test_each_endpoint_serves_only_this_stacks_resources() -> None:
    recording = recorded("prod")
    services = by_service(recording)
    (repository,) = recording.by_type("aws:ecr/repository:Repository")
    (table,) = recording.by_type("aws:dynamodb/table:Table")
    (log_group,) = recording.by_type("aws:cloudwatch/logGroup:LogGroup")
    assert set(services) == {"ecr.api", "ecr.dkr", "logs", "s3", "dynamodb"}
    for service in ("ecr.api", "ecr.dkr"):
        # GetAuthorizationToken accepts only "*"; every pull action is on the one repository.
        assert resources(services[service]) == {"*", repository.outputs["arn"]}
        pulls = [s for s in statements(services[service]) if s["Resource"] != "*"]
        assert {a for s in pulls for a in s["Action"]} >= {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
    assert resources(services["logs"]) == {f"{log_group.outputs['arn']}:log-stream:*"}
    assert resources(services["dynamodb"]) == {table.outputs["arn"]}
    # ECR's docs ("Amazon ECR interface VPC endpoints"): the layer bucket is all the S3 gateway must reach.
    assert resources(services["s3"]) == {"arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_ipv4_load_balancer_opens_nothing_to_ipv6(stack: str) -> None:
    recording = recorded(stack)
    (alb,) = recording.by_type("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs.get("ipAddressType", "ipv4") == "ipv4"
    ingress = rules_of(recording, "Ingress", "net-alb")
    assert ingress
    assert all("cidrIpv6" not in r.inputs for r in ingress)


def test_named_secrets_get_their_own_endpoints_serving_only_them() -> None:
    # The tasks' only way out is the endpoints: a secret read at start needs its service's endpoint.
    secret = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:shipshape/api-key-AbCdEf"
    parameter = "arn:aws:ssm:eu-west-1:210987654321:parameter/shipshape/token"
    recording = record(
        ROOT, "prod", config_overrides={"shipshape:secrets": [f"API_KEY={secret}", f"TOKEN={parameter}"]}
    )
    services = by_service(recording)
    assert resources(services["secretsmanager"]) == {secret, parameter}
    assert resources(services["ssm"]) == {secret, parameter}
    actions = {s["Action"] for s in statements(services["ssm"])}
    assert actions == {"secretsmanager:GetSecretValue", "ssm:GetParameters"}
    assert "secretsmanager" not in by_service(recorded("prod"))
