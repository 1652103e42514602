"""The EC2 host with VPC endpoints (prod's `vpcEndpoints` plus `hostEnabled`): nothing in the stack sends
traffic to the internet, and every AWS call the host makes (its bootstrap's `aws` commands, dnf, docker's
pulls, its role's actions: Session Manager, the table, the secrets) has an endpoint whose policy allows it."""

from __future__ import annotations

import fnmatch
import json
import re
from functools import cache
from typing import Any

import components.network as network
from components.user_data import TEMPLATE
from preflight.model import RecordedResource
from preflight.recorder import Recording, record
from tests.conftest import ROOT

WORLD = {"0.0.0.0/0", "::/0"}
SECRET = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:shipshape/api-key-AbCdEf"
PARAMETER = "arn:aws:ssm:eu-west-1:210987654321:parameter/shipshape/token"
AL2023_BUCKET = "arn:aws:s3:::al2023-repos-eu-west-1-de612dc2/*"
ECR_LAYERS = "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"
# A service prefix of an IAM action -> the VPC endpoints its calls go through (the same name for most).
ENDPOINTS_OF = {"ecr": ("ecr.api", "ecr.dkr")}
# Calls that need no endpoint because the host has a way that needs no API: the bootstrap's report of its
# own failure falls back to powering off (see test_the_failure_report_has_a_fallback_without_an_api).
WITHOUT_ENDPOINT = {"autoscaling"}
EGRESS_TYPES = (
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
)


@cache
def with_host(*, secrets: bool = True, host: bool = True) -> Recording:
    overrides: dict[str, Any] = {"shipshape:hostEnabled": host}
    if secrets:
        overrides["shipshape:secrets"] = [f"API_KEY={SECRET}", f"TOKEN={PARAMETER}"]
    return record(ROOT, "prod", config_overrides=overrides)


def endpoints(recording: Recording) -> dict[str, RecordedResource]:
    return {
        e.inputs["serviceName"].removeprefix("com.amazonaws.eu-west-1."): e
        for e in recording.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    }


# Endpoints left on AWS's default (full-access) policy on purpose, with the reason in components/network.py.
DEFAULT_POLICY = {"ssmmessages"}
FULL_ACCESS = [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]


def statements(endpoint: RecordedResource) -> list[dict[str, Any]]:
    service = endpoint.inputs["serviceName"].rsplit(".", 1)[-1]
    if service in DEFAULT_POLICY:
        assert not endpoint.inputs.get("policy"), f"{endpoint.name}: expected AWS's default policy"
        return FULL_ACCESS
    assert endpoint.inputs.get("policy"), f"{endpoint.name} has no endpoint policy (AWS's default is full access)"
    return json.loads(endpoint.inputs["policy"])["Statement"]


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allows(endpoint: RecordedResource, action: str, resource: str | None = None) -> bool:
    for statement in statements(endpoint):
        if statement["Effect"] != "Allow" or statement.get("Principal") != "*":
            continue
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in as_list(statement["Action"])):
            continue
        if resource is None or resource in as_list(statement["Resource"]):
            return True
    return False


# --- (a) nothing reaches the internet ------------------------------------------------------------


def test_with_endpoints_and_the_host_no_security_group_reaches_the_internet() -> None:
    recording = with_host()
    assert recording.by_type("aws:ec2/launchTemplate:LaunchTemplate"), "the host is on"
    rules = [r for token in EGRESS_TYPES for r in recording.by_type(token)]
    rules = [r for r in rules if r.type.startswith("aws:vpc/") or r.inputs.get("type") == "egress"]
    assert {r.name for r in rules} >= {"net-app-out-endpoints"} and any(r.name.startswith("host-") for r in rules)
    for rule in rules:
        cidrs = {rule.inputs.get("cidrIpv4"), rule.inputs.get("cidrIpv6"), *rule.inputs.get("cidrBlocks", ())}
        cidrs |= set(rule.inputs.get("ipv6CidrBlocks", ()))
        assert not cidrs & WORLD, f"{rule.name} sends traffic to {cidrs & WORLD}"
    for group in recording.by_type("aws:ec2/securityGroup:SecurityGroup"):
        for inline in group.inputs.get("egress", ()):
            assert not set(inline.get("cidrBlocks", ())) & WORLD, group.name
            assert not set(inline.get("ipv6CidrBlocks", ())) & WORLD, group.name


def test_the_host_goes_out_to_the_endpoints_group_and_the_gateways_prefix_lists() -> None:
    recording = with_host()
    services = endpoints(recording)
    (endpoint_group,) = [
        g for g in recording.by_type("aws:ec2/securityGroup:SecurityGroup") if g.name == "net-endpoints"
    ]
    rules = {r.name: r for r in recording.by_type(EGRESS_TYPES[0]) if r.name.startswith("host-")}
    assert set(rules) == {"host-out-endpoints", "host-out-s3", "host-out-dynamodb"}
    assert endpoint_group.urn in rules["host-out-endpoints"].property_dependencies["referencedSecurityGroupId"]
    for service in ("s3", "dynamodb"):
        assert rules[f"host-out-{service}"].inputs["prefixListId"] == services[service].outputs["prefixListId"]


# --- (b) every call the host makes has an endpoint ----------------------------------------------


def bootstrap_commands() -> list[str]:
    """The script's command lines (comments dropped)."""
    lines = TEMPLATE.read_text(encoding="utf-8").splitlines()
    return [line.split(" #", 1)[0] for line in lines if not line.lstrip().startswith("#")]


def cli_calls() -> set[tuple[str, str]]:
    """(service prefix, action) of every `aws <service> <command>` in the bootstrap: get-secret-value ->
    GetSecretValue."""
    found = set()
    for line in bootstrap_commands():
        for service, command in re.findall(r"\baws\s+([a-z0-9-]+)\s+([a-z0-9-]+)", line):
            found.add((service, "".join(part.capitalize() for part in command.split("-"))))
    return found


def role_actions(recording: Recording) -> set[tuple[str, str]]:
    """(service prefix, action) of everything the host's role may do."""
    found = set()
    for policy in recording.by_type("aws:iam/rolePolicy:RolePolicy"):
        if policy.name.startswith("host-"):
            for statement in json.loads(policy.inputs["policy"])["Statement"]:
                found.update(tuple(action.split(":", 1)) for action in as_list(statement["Action"]))
    return found


def test_the_bootstrap_calls_what_this_test_knows_to_look_for() -> None:
    # If these move, the regular expressions above must follow.
    assert cli_calls() >= {
        ("secretsmanager", "GetSecretValue"),
        ("ssm", "GetParameter"),
        ("autoscaling", "SetInstanceHealth"),
    }
    assert any(re.search(r"\bdnf\s+install\b", line) for line in bootstrap_commands())
    assert any(re.search(r"\bdocker\s+pull\b", line) for line in bootstrap_commands())


def test_every_aws_call_of_the_host_has_an_endpoint_that_allows_it() -> None:
    recording = with_host()
    services = endpoints(recording)
    calls = cli_calls() | role_actions(recording)
    missing = []
    for service, action in sorted(calls):
        if service in WITHOUT_ENDPOINT:
            continue
        for endpoint in ENDPOINTS_OF.get(service, (service,)):
            if endpoint not in services:
                missing.append(f"{service}:{action}: no {endpoint} endpoint")
            elif not allows(services[endpoint], f"{service}:{action}"):
                missing.append(f"{service}:{action}: the {endpoint} endpoint's policy does not allow it")
    assert not missing, "\n".join(missing)


def test_dnf_and_docker_pulls_reach_their_aws_owned_buckets_through_the_s3_gateway() -> None:
    s3 = endpoints(with_host())["s3"]
    # dnf: AL2023's repositories; docker pull: ECR's layers (presigned GETs from ECR's own bucket).
    assert allows(s3, "s3:GetObject", AL2023_BUCKET)
    assert allows(s3, "s3:GetObject", ECR_LAYERS)
    # dnf asks for the regional S3 name, the one the gateway serves.
    assert any(re.search(r': >"\$ROOT/etc/dnf/vars/dualstack"', line) for line in bootstrap_commands())


def test_the_failure_report_has_a_fallback_without_an_api() -> None:
    recording = with_host()
    (template,) = recording.by_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert template.inputs["instanceInitiatedShutdownBehavior"] == "terminate"
    assert any("systemctl poweroff" in line for line in bootstrap_commands())
    assert "autoscaling" not in endpoints(recording)


def test_session_manager_needs_no_ec2messages_and_gets_none() -> None:
    recording = with_host(secrets=False)
    services = endpoints(recording)
    assert {"ssm", "ssmmessages"} <= set(services)
    assert "ec2messages" not in services
    assert not any(service == "ec2messages" for service, _ in role_actions(recording))
    # Without secrets the ssm endpoint serves Session Manager's registration only.
    assert {a for s in statements(services["ssm"]) for a in as_list(s["Action"])} == {"ssm:UpdateInstanceInformation"}


def test_the_endpoints_serve_the_hosts_parameter_read_and_the_tasks_alike() -> None:
    ssm = endpoints(with_host())["ssm"]
    assert allows(ssm, "ssm:GetParameter", PARAMETER)
    assert allows(ssm, "ssm:GetParameters", PARAMETER)
    assert not allows(ssm, "ssm:GetParameter", "arn:aws:ssm:eu-west-1:210987654321:parameter/other")


# --- (c) the S3 gateway names AL2023's repository bucket only for a host ------------------------


def test_the_s3_gateway_names_the_al2023_bucket_of_the_stacks_region_only_with_the_host() -> None:
    on = endpoints(with_host(secrets=False))["s3"]
    off = endpoints(with_host(secrets=False, host=False))["s3"]
    resources_on = {r for s in statements(on) for r in as_list(s["Resource"])}
    resources_off = {r for s in statements(off) for r in as_list(s["Resource"])}
    assert resources_on == {ECR_LAYERS, AL2023_BUCKET}
    assert resources_off == {ECR_LAYERS}
    assert {"ssm", "ssmmessages"}.isdisjoint(endpoints(with_host(secrets=False, host=False)))


def test_the_al2023_bucket_follows_the_region() -> None:
    assert network.al2023_repository_objects("eu-west-1") == AL2023_BUCKET
    assert network.al2023_repository_objects("us-east-2") == "arn:aws:s3:::al2023-repos-us-east-2-de612dc2/*"
