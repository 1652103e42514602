"""A fixed report of a small shipshape stack: the golden files' input and the docs' example.

The resources and verdict messages are built here to hold every case the formats must handle: nested
components, a provider, secrets and unknowns in inputs, a JSON-string container definition, a message
with a pipe and backticks, a stack-level verdict, a cannot-judge note, construction sites. The rules are
the real pack's, as it describes them over GetAnalyzerInfo with the dev stack's policy config, so a
rule's level, severity and remediation here are always the pack's own. `python -m
tests.preflight.example_report <format>` prints it in one format.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from preflight.analyzer import PolicyPack
from preflight.model import Coverage, Diagnostic, PolicyInfo, RecordedResource, Report, SourceLocation
from preflight.policy_config import policies_of
from tests.conftest import ROOT

PROJECT = "shipshape"
STACK = "dev"
PACK = "shipshape-guardrails"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"


def secret(value: Any) -> dict[str, Any]:
    """A value wrapped the way the SDK serialises a secret."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


class _Builder:
    def __init__(self) -> None:
        self.resources: list[RecordedResource] = []
        self.qualified: dict[str, str] = {STACK_URN: ""}
        self.provider_urn = ""
        self.line = 10

    def add(
        self,
        resource_type: str,
        name: str,
        parent: str = STACK_URN,
        *,
        custom: bool = True,
        remote: bool = False,
        inputs: dict[str, Any] | None = None,
        property_dependencies: dict[str, list[str]] | None = None,
    ) -> str:
        parent_qualified = self.qualified[parent]
        qualified = f"{parent_qualified}${resource_type}" if parent_qualified else resource_type
        urn = f"urn:pulumi:{STACK}::{PROJECT}::{qualified}::{name}"
        # Only components contribute to children's qualified types; the stack does not.
        self.qualified[urn] = qualified if resource_type != "pulumi:pulumi:Stack" else ""
        struct = struct_pb2.Struct()
        struct.update(inputs or {})
        dependencies = property_dependencies or {}
        # Construction sites: a component's module for its children, the program for the rest.
        module = parent_qualified.split("$")[0].split(":")
        file = f"components/{module[1]}.py" if module[0] == PROJECT and len(module) == 3 else "__main__.py"
        self.line += 3
        self.resources.append(
            RecordedResource(
                urn=urn,
                type=resource_type,
                name=name,
                custom=custom,
                remote=remote,
                parent=parent if parent != urn else "",
                provider=f"{self.provider_urn}::provider-id" if custom and self.provider_urn else "",
                dependencies=tuple(sorted({urn for urns in dependencies.values() for urn in urns})),
                property_dependencies={key: tuple(urns) for key, urns in dependencies.items()},
                inputs_struct=struct,
                inputs=rpc.deserialize_properties(struct, keep_unknowns=True),
                source=None if resource_type.startswith("pulumi:providers:") else SourceLocation(file, self.line),
            )
        )
        return urn


def _resources() -> list[RecordedResource]:
    b = _Builder()
    b.resources.append(
        RecordedResource(
            urn=STACK_URN,
            type="pulumi:pulumi:Stack",
            name=f"{PROJECT}-{STACK}",
            custom=False,
            parent="",
            provider="",
            dependencies=(),
            property_dependencies={},
            inputs_struct=struct_pb2.Struct(),
            inputs={},
        )
    )
    b.provider_urn = b.add("pulumi:providers:aws", "aws", inputs={"region": "eu-west-1"})

    registry = b.add("shipshape:registry:Repository", "registry", custom=False)
    repository = b.add(
        "aws:ecr/repository:Repository",
        "registry",
        registry,
        inputs={
            "name": "shipshape/web",
            "imageTagMutability": "MUTABLE",
            "imageScanningConfiguration": {"scanOnPush": True},
            "forceDelete": True,
        },
    )
    # A remote component: its provider would create the children, which do not exist offline.
    b.add("awsx:ecr:Repository", "mirror", registry, custom=False, remote=True, inputs={"forceDelete": False})
    b.add(
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "registry-lifecycle",
        registry,
        inputs={"repository": "shipshape/web", "policy": '{"rules":[]}'},
        property_dependencies={"repository": [repository]},
    )
    image_component = b.add("shipshape:registry:Image", "app", custom=False)
    image = b.add(
        "docker:index/image:Image",
        "app",
        image_component,
        inputs={
            "imageName": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shipshape/web:3f2a9c1",
            "build": {"context": "app", "platform": "linux/arm64"},
            "registry": {"server": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "password": secret("token")},
        },
        property_dependencies={"imageName": [repository], "registry": [repository]},
    )

    net = b.add("shipshape:network:Network", "net", custom=False)
    vpc_component = b.add("awsx:ec2:Vpc", "net", net, custom=False)
    vpc = b.add("aws:ec2/vpc:Vpc", "net", vpc_component, inputs={"cidrBlock": "10.0.0.0/16"})
    subnets = [
        b.add(
            "aws:ec2/subnet:Subnet",
            f"net-{tier}-{zone}",
            vpc_component,
            inputs={"vpcId": "vpc-0a1b2c3d", "cidrBlock": f"10.0.{number}.0/24"},
            property_dependencies={"vpcId": [vpc]},
        )
        for number, (tier, zone) in enumerate([("public", 1), ("public", 2), ("private", 1), ("private", 2)])
    ]
    alb_group = b.add(
        "aws:ec2/securityGroup:SecurityGroup",
        "net-alb",
        net,
        inputs={"ingress": [{"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"]}]},
        property_dependencies={"vpcId": [vpc]},
    )
    app_group = b.add(
        "aws:ec2/securityGroup:SecurityGroup",
        "net-app",
        net,
        inputs={"ingress": [{"protocol": "tcp", "fromPort": 8000, "toPort": 8000, "securityGroups": ["sg-alb"]}]},
        property_dependencies={"vpcId": [vpc], "ingress": [alb_group]},
    )

    web = b.add("shipshape:web_service:WebService", "web", custom=False)
    cluster = b.add(
        "aws:ecs/cluster:Cluster", "web", web, inputs={"settings": [{"name": "containerInsights", "value": "enhanced"}]}
    )
    logs = b.add("aws:cloudwatch/logGroup:LogGroup", "web", web, inputs={"retentionInDays": 30})
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    execution_role = b.add("aws:iam/role:Role", "web-execution", web, inputs={"assumeRolePolicy": trust})
    task_role = b.add(
        "aws:iam/role:Role",
        "web-task",
        web,
        inputs={
            "assumeRolePolicy": trust,
            "inlinePolicies": [
                {
                    "name": "data",
                    "policy": json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                        }
                    ),
                }
            ],
        },
    )
    containers = [
        {
            "name": "web",
            "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shipshape/web@sha256:" + "ab" * 32,
            "portMappings": [{"containerPort": 8000}],
            "user": "10001",
            "readonlyRootFilesystem": True,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "web"}},
        }
    ]
    task_definition = b.add(
        "aws:ecs/taskDefinition:TaskDefinition",
        "web",
        web,
        inputs={
            "family": "shipshape-dev-web",
            "cpu": "256",
            "memory": "512",
            "networkMode": "awsvpc",
            "containerDefinitions": json.dumps(containers, sort_keys=True),
            "executionRoleArn": "arn:aws:iam::123456789012:role/web-execution",
            "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
        },
        property_dependencies={
            "containerDefinitions": [image, logs],
            "executionRoleArn": [execution_role],
            "taskRoleArn": [task_role],
        },
    )
    load_balancer = b.add(
        "aws:lb/loadBalancer:LoadBalancer",
        "web",
        web,
        inputs={"loadBalancerType": "application", "internal": False, "dropInvalidHeaderFields": True},
        property_dependencies={"securityGroups": [alb_group], "subnets": subnets[:2]},
    )
    target_group = b.add(
        "aws:lb/targetGroup:TargetGroup",
        "web",
        web,
        inputs={"port": 8000, "protocol": "HTTP", "targetType": "ip", "healthCheck": {"path": "/health"}},
        property_dependencies={"vpcId": [vpc]},
    )
    b.add(
        "aws:lb/listener:Listener",
        "web-http",
        web,
        inputs={
            "port": 80,
            "protocol": "HTTP",
            "loadBalancerArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/1",
            "defaultActions": [{"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:tg/web"}],
        },
        property_dependencies={"loadBalancerArn": [load_balancer], "defaultActions": [target_group]},
    )
    b.add(
        "aws:ecs/service:Service",
        "web",
        web,
        inputs={
            "desiredCount": 1,
            "launchType": "FARGATE",
            "networkConfiguration": {"assignPublicIp": False, "subnets": ["subnet-3", "subnet-4"]},
            "loadBalancers": [{"containerName": "web", "containerPort": 8000}],
        },
        property_dependencies={
            "cluster": [cluster],
            "taskDefinition": [task_definition],
            "loadBalancers": [target_group],
            "networkConfiguration": [app_group, *subnets[2:]],
        },
    )

    host = b.add("shipshape:container_host:ContainerHost", "host", custom=False)
    host_role = b.add("aws:iam/role:Role", "host", host, inputs={"assumeRolePolicy": trust.replace("ecs-tasks", "ec2")})
    profile = b.add(
        "aws:iam/instanceProfile:InstanceProfile",
        "host",
        host,
        inputs={"role": "host"},
        property_dependencies={"role": [host_role]},
    )
    b.add(
        "aws:ec2/instance:Instance",
        "host",
        host,
        inputs={
            "instanceType": "t4g.micro",
            "iamInstanceProfile": "host",
            "metadataOptions": {"httpTokens": "optional", "httpPutResponseHopLimit": 2},
            "userData": rpc.UNKNOWN,
            "associatePublicIpAddress": False,
        },
        property_dependencies={"iamInstanceProfile": [profile], "subnetId": [subnets[2]]},
    )
    return b.resources


EXAMPLE_RULES = (
    "aws-iam-no-wildcard-actions",
    "aws-ecr-repository-immutable-tags",
    "aws-lb-listener-https",
    "aws-ec2-instance-imdsv2",
    "aws-ec2-instance-no-secrets-in-user-data",
    "aws-ec2-app-ingress-from-load-balancer-only",
    "aws-ecs-cluster-container-insights",
)


@functools.cache
def pack_policies() -> tuple[PolicyInfo, ...]:
    """Every rule of the repository's pack, at the dev stack's levels, asked of the running pack."""
    config = json.loads((ROOT / "policies" / "config" / "dev.json").read_text(encoding="utf-8"))
    with PolicyPack(ROOT / "policies", project=PROJECT, stack=STACK, config={}) as pack:
        return tuple(policies_of(pack.info(), pack.configure(config)))


def _policies() -> list[PolicyInfo]:
    by_name = {policy.name: policy for policy in pack_policies()}
    missing = [name for name in EXAMPLE_RULES if name not in by_name]
    if missing:
        raise LookupError(f"the pack no longer has rule(s) {', '.join(missing)}; pick others for the example")
    return [by_name[name] for name in EXAMPLE_RULES]


def _verdict(policy: PolicyInfo, urn: str, message: str, *, cannot_judge: bool = False) -> Diagnostic:
    """A verdict as the pack sends it: the rule's own level and severity (a cannot-judge note is advisory)."""
    return Diagnostic(
        policy=policy.name,
        level="advisory" if cannot_judge else policy.level,
        urn=urn,
        message=message,
        severity=policy.severity,
        description=policy.description,
        pack=PACK,
        cannot_judge=cannot_judge,
    )


def _urn(resources: list[RecordedResource], resource_type: str, name: str) -> str:
    return next(r.urn for r in resources if r.type == resource_type and r.name == name)


def _coverage(resources: list[RecordedResource]) -> Coverage:
    """Every cloud resource and remote component judged, but the two no rule of the example looks at."""
    scope = [r for r in resources if (r.custom and not r.type.startswith("pulumi:providers:")) or r.remote]
    unjudged = {"aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ec2/subnet:Subnet"}
    return Coverage(
        judged=tuple(r.urn for r in scope if r.type not in unjudged),
        unjudged=tuple(r.urn for r in scope if r.type in unjudged),
    )


def example_report() -> Report:
    """The fixed example: 1 mandatory violation, 3 advisories, 1 stack-level advisory, 1 cannot-judge."""
    resources = _resources()
    task_role = _urn(resources, "aws:iam/role:Role", "web-task")
    repository = _urn(resources, "aws:ecr/repository:Repository", "registry")
    listener = _urn(resources, "aws:lb/listener:Listener", "web-http")
    instance = _urn(resources, "aws:ec2/instance:Instance", "host")
    rules = {policy.name: policy for policy in _policies()}
    diagnostics = [
        _verdict(
            rules["aws-iam-no-wildcard-actions"],
            task_role,
            "inline policy `data`, statement 0 allows `s3:*` | use the actions the task needs",
        ),
        _verdict(
            rules["aws-ecr-repository-immutable-tags"],
            repository,
            "imageTagMutability is MUTABLE; a tag can be moved to another image.",
        ),
        _verdict(
            rules["aws-lb-listener-https"],
            listener,
            "HTTP listener on port 80 forwards instead of redirecting to HTTPS.",
        ),
        _verdict(
            rules["aws-ec2-instance-imdsv2"],
            instance,
            "metadataOptions.httpTokens is 'optional'; IMDSv1 stays reachable <for SSRF>.",
        ),
        _verdict(
            rules["aws-ec2-instance-no-secrets-in-user-data"],
            instance,
            "cannot judge yet: userData unknown during preview",
            cannot_judge=True,
        ),
        _verdict(
            rules["aws-ec2-app-ingress-from-load-balancer-only"],
            "",
            "net-app accepts port 8000 from sg-alb, which the stack does not declare.\nCheck the group id.",
        ),
    ]
    return Report(
        project=PROJECT,
        stack=STACK,
        resources=resources,
        outputs={
            "url": "http://web-1234567890.eu-west-1.elb.amazonaws.com",
            "repositoryUrl": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shipshape/web",
            "databasePassword": secret("hunter2"),
            "imageDigest": rpc.UNKNOWN,
        },
        policies=_policies(),
        diagnostics=diagnostics,
        policy_pack=PACK,
        policy_config="policies/config/dev.json",
        unknowns=False,
        elapsed_seconds=1.25,
        coverage=_coverage(resources),
        unanswered_data_sources=["aws:ec2/getAmi:getAmi"],
    )


def scaled_report(resource_count: int) -> Report:
    """A report of `resource_count` cloud resources in components of 50, with a verdict on every tenth.

    For size limits and rendering speed, not for reading: repositories, roles with inline policies and
    security groups in turn, the mix a large stack of many services has.
    """
    rules = {policy.name: policy for policy in _policies()}
    b = _Builder()
    b.resources.append(example_report().resources[0])
    b.provider_urn = b.add("pulumi:providers:aws", "aws", inputs={"region": "eu-west-1"})
    diagnostics = []
    component = ""
    for number in range(resource_count):
        if number % 50 == 0:
            component = b.add("shipshape:registry:Repository", f"service-{number // 50:03d}", custom=False)
        kind = number % 3
        if kind == 0:
            urn = b.add(
                "aws:ecr/repository:Repository",
                f"repo-{number:05d}",
                component,
                inputs={"name": f"svc/{number}", "imageScanningConfiguration": {"scanOnPush": number % 7 != 0}},
            )
        elif kind == 1:
            policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
            urn = b.add(
                "aws:iam/role:Role",
                f"role-{number:05d}",
                component,
                inputs={"inlinePolicies": [{"name": "pull", "policy": json.dumps(policy)}]},
            )
        else:
            urn = b.add(
                "aws:ec2/securityGroup:SecurityGroup",
                f"sg-{number:05d}",
                component,
                inputs={"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/8"]}]},
            )
        if number % 10 == 0:
            rule = rules["aws-iam-no-wildcard-actions" if kind == 1 else "aws-ecr-repository-immutable-tags"]
            diagnostics.append(_verdict(rule, urn, f"finding {number} on a resource of a large synthetic stack."))
    return Report(
        project=PROJECT,
        stack=STACK,
        resources=b.resources,
        outputs={},
        policies=_policies(),
        diagnostics=diagnostics,
        policy_pack=PACK,
    )


def main(argv: list[str]) -> int:
    from preflight.reports import FORMATS, render

    if len(argv) != 1 or argv[0] not in FORMATS:
        print(f"usage: python -m tests.preflight.example_report {{{','.join(FORMATS)}}}", file=sys.stderr)
        return 2
    sys.stdout.write(render(example_report(), argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
