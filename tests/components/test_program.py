"""The whole program, recorded under preflight's mocks: the slices of the plan that matter."""

from __future__ import annotations

import json
from functools import cache

import pytest

from preflight.model import RecordedResource
from preflight.recorder import Recording, record
from tests.conftest import ROOT

SECRET_SIG = "4dabf18193072939515e22adb298388d"


@cache
def stack(name: str) -> Recording:
    return record(ROOT, name)


def one(recording: Recording, type_: str, name: str | None = None) -> RecordedResource:
    return recording.one(type_, name)


def urn_of(recording: Recording, type_: str, name: str) -> str:
    return one(recording, type_, name).urn


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_repository_is_scanned_immutable_and_kms_encrypted(name: str) -> None:
    repo = one(stack(name), "aws:ecr/repository:Repository")
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"
    assert repo.inputs["forceDelete"] is (name == "dev")


def test_repository_children_belong_to_the_registry_component() -> None:
    recording = stack("dev")
    component = one(recording, "shipshape:registry:Repository")
    assert one(recording, "aws:ecr/repository:Repository").parent == component.urn
    assert one(recording, "aws:ecr/lifecyclePolicy:LifecyclePolicy").parent == component.urn


def test_no_repository_policy_unless_principals_are_named() -> None:
    assert stack("dev").by_type("aws:ecr/repositoryPolicy:RepositoryPolicy") == []
    recording = record(ROOT, "dev", config_overrides={"shipshape:pullPrincipals": ["210987654321"]})
    policy = json.loads(one(recording, "aws:ecr/repositoryPolicy:RepositoryPolicy").inputs["policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::210987654321:root"]}
    assert statement["Effect"] == "Allow"


def test_registry_password_is_a_secret_in_the_recorded_inputs() -> None:
    image = one(stack("dev"), "docker:index/image:Image")
    registry = image.inputs_struct.fields["registry"].struct_value
    password = registry.fields["password"].struct_value
    assert password.fields[SECRET_SIG].string_value
    assert password.fields["value"].string_value  # the placeholder token, wrapped as a secret


@pytest.mark.parametrize(
    ("architecture", "platform", "cpu"), [("x86_64", "linux/amd64", "X86_64"), ("arm64", "linux/arm64", "ARM64")]
)
def test_image_and_task_share_the_architecture(architecture: str, platform: str, cpu: str) -> None:
    overrides = {"shipshape:architecture": architecture}
    if architecture == "arm64":
        overrides["shipshape:hostInstanceType"] = "t4g.micro"
    recording = record(ROOT, "dev", config_overrides=overrides)
    assert one(recording, "docker:index/image:Image").inputs["build"]["platform"] == platform
    task = one(recording, "aws:ecs/taskDefinition:TaskDefinition")
    assert task.inputs["runtimePlatform"] == {"cpuArchitecture": cpu, "operatingSystemFamily": "LINUX"}


def test_service_runs_the_digest_pinned_image() -> None:
    recording = stack("dev")
    reference = recording.outputs["imageReference"]
    assert "@sha256:" in reference and ":" not in reference.split("@")[1].removeprefix("sha256:")
    (container,) = json.loads(one(recording, "aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    assert container["image"] == reference
    assert one(recording, "docker:index/image:Image").inputs["imageName"].endswith(":" + recording.outputs["imageTag"])


def test_service_has_no_public_ip_and_rolls_back() -> None:
    service = one(stack("dev"), "aws:ecs/service:Service")
    assert service.inputs["networkConfiguration"]["assignPublicIp"] is False
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service.inputs["deploymentMinimumHealthyPercent"] == 100
    assert service.inputs["deploymentMaximumPercent"] == 200
    assert service.inputs["enableExecuteCommand"] is False
    assert service.inputs["healthCheckGracePeriodSeconds"] == 30


def test_dev_and_prod_differ_where_the_stack_files_say() -> None:
    dev, prod = stack("dev"), stack("prod")
    assert one(dev, "aws:ecs/service:Service").inputs["desiredCount"] == 1
    assert one(prod, "aws:ecs/service:Service").inputs["desiredCount"] >= 2
    assert (
        one(dev, "aws:ecs/service:Service").inputs["capacityProviderStrategies"][0]["capacityProvider"]
        == "FARGATE_SPOT"
    )
    assert one(prod, "aws:ecs/service:Service").inputs["capacityProviderStrategies"][0]["capacityProvider"] == "FARGATE"
    assert one(dev, "awsx:ec2:Vpc").inputs["natGateways"] == {"strategy": "Single"}
    assert one(prod, "awsx:ec2:Vpc").inputs["natGateways"] == {"strategy": "OnePerAz"}
    assert one(dev, "aws:lb/loadBalancer:LoadBalancer").inputs["enableDeletionProtection"] is False
    assert one(prod, "aws:lb/loadBalancer:LoadBalancer").inputs["enableDeletionProtection"] is True
    assert "accessLogs" not in one(dev, "aws:lb/loadBalancer:LoadBalancer").inputs
    assert one(prod, "aws:lb/loadBalancer:LoadBalancer").inputs["accessLogs"]["enabled"] is True
    assert one(prod, "aws:dynamodb/table:Table").inputs["pointInTimeRecovery"] == {"enabled": True}
    assert len(prod.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")) == 5
    assert dev.by_type("aws:ec2/vpcEndpoint:VpcEndpoint") == []


def test_prod_serves_https_with_a_modern_policy_and_redirects_http() -> None:
    listeners = {r.name: r.inputs for r in stack("prod").by_type("aws:lb/listener:Listener")}
    assert listeners["web-https"]["protocol"] == "HTTPS"
    assert listeners["web-https"]["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners["web-https"]["certificateArn"].startswith("arn:aws:acm:")
    (action,) = listeners["web-http"]["defaultActions"]
    assert action["type"] == "redirect"
    assert action["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}


def test_dev_serves_plain_http_only() -> None:
    (listener,) = stack("dev").by_type("aws:lb/listener:Listener")
    assert listener.inputs["protocol"] == "HTTP"
    assert listener.inputs["defaultActions"][0]["type"] == "forward"


def test_load_balancer_drops_invalid_headers_and_target_group_drains_quickly() -> None:
    recording = stack("dev")
    assert one(recording, "aws:lb/loadBalancer:LoadBalancer").inputs["dropInvalidHeaderFields"] is True
    group = one(recording, "aws:lb/targetGroup:TargetGroup").inputs
    assert group["targetType"] == "ip"
    assert group["deregistrationDelay"] == 30
    assert group["healthCheck"]["path"] == "/health"
    assert group["healthCheck"]["interval"] > group["healthCheck"]["timeout"]


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_load_balancer_closes_idle_connections_before_the_app_server(name: str) -> None:
    # AWS: the target's keep-alive must outlast the ALB's idle timeout, or a reused connection can 502.
    recording = stack(name)
    idle = one(recording, "aws:lb/loadBalancer:LoadBalancer").inputs["idleTimeout"]
    (container,) = json.loads(one(recording, "aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    server_idle = int({item["name"]: item["value"] for item in container["environment"]}["HEADER_TIMEOUT"])
    assert idle == 50
    assert idle < server_idle <= 60


def test_app_port_is_open_only_to_the_load_balancer_group() -> None:
    recording = stack("dev")
    alb_group = urn_of(recording, "aws:ec2/securityGroup:SecurityGroup", "net-alb")
    app_group = urn_of(recording, "aws:ec2/securityGroup:SecurityGroup", "net-app")
    ingress = one(recording, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "net-app-in-alb")
    assert ingress.inputs["fromPort"] == ingress.inputs["toPort"] == 8000
    assert "cidrIpv4" not in ingress.inputs
    assert ingress.property_dependencies["referencedSecurityGroupId"] == (alb_group,)
    assert ingress.property_dependencies["securityGroupId"] == (app_group,)
    egress = one(recording, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "net-alb-out-app")
    assert egress.property_dependencies["referencedSecurityGroupId"] == (app_group,)
    world = [
        r.inputs["fromPort"]
        for r in recording.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs.get("cidrIpv4") == "0.0.0.0/0"
    ]
    assert world == [80]


def policy_of(recording: Recording, name: str) -> dict:
    return json.loads(one(recording, "aws:iam/rolePolicy:RolePolicy", name).inputs["policy"])


def test_execution_role_pulls_this_repository_and_writes_this_log_group_only() -> None:
    recording = stack("dev")
    repo_arn = one(recording, "aws:ecr/repository:Repository").outputs["arn"]
    log_arn = one(recording, "aws:cloudwatch/logGroup:LogGroup").outputs["arn"]
    statements = {s["Sid"]: s for s in policy_of(recording, "web-execution")["Statement"]}
    assert statements["EcrLogin"]["Resource"] == "*"
    assert statements["EcrLogin"]["Action"] == "ecr:GetAuthorizationToken"
    assert statements["EcrPullOneRepository"]["Resource"] == repo_arn
    assert statements["WriteOneLogGroup"]["Resource"] == f"{log_arn}:log-stream:*"
    assert set(statements) == {"EcrLogin", "EcrPullOneRepository", "WriteOneLogGroup"}


def test_task_role_may_only_count_visits_in_its_table() -> None:
    recording = stack("dev")
    table_arn = one(recording, "aws:dynamodb/table:Table").outputs["arn"]
    (statement,) = policy_of(recording, "web-task")["Statement"]
    assert statement["Action"] == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert statement["Resource"] == table_arn
    roles = {r.name: r for r in recording.by_type("aws:iam/role:Role")}
    trust = json.loads(roles["web-task"].inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert "managedPolicyArns" not in roles["web-task"].inputs


def test_named_secrets_are_the_only_ones_the_execution_role_reads() -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:upstream-AbCdEf"
    recording = record(ROOT, "dev", config_overrides={"shipshape:secrets": [f"UPSTREAM_TOKEN={arn}"]})
    statements = {s["Sid"]: s for s in policy_of(recording, "web-execution")["Statement"]}
    assert statements["ReadNamedSecrets"]["Resource"] == [arn]


def test_counter_table_is_on_demand_and_encrypted() -> None:
    table = one(stack("dev"), "aws:dynamodb/table:Table").inputs
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["serverSideEncryption"] == {"enabled": True}
    assert table["hashKey"] == "pk"
    # The app's per-visit markers expire on this attribute (app/visits/counters.py EXPIRES_ATTRIBUTE).
    assert table["ttl"] == {"attributeName": "expires_at", "enabled": True}


def test_autoscaling_bounds_follow_settings() -> None:
    target = one(stack("prod"), "aws:appautoscaling/target:Target").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (3, 12)
    policies = {r.name: r.inputs for r in stack("prod").by_type("aws:appautoscaling/policy:Policy")}
    metrics = {
        name: p["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]["predefinedMetricType"]
        for name, p in policies.items()
    }
    assert metrics == {"web-cpu": "ECSServiceAverageCPUUtilization", "web-requests": "ALBRequestCountPerTarget"}


def test_provider_sets_stack_wide_tags() -> None:
    provider = one(stack("dev"), "pulumi:providers:aws")
    tags = (
        json.loads(provider.inputs["defaultTags"])["tags"]
        if isinstance(provider.inputs["defaultTags"], str)
        else provider.inputs["defaultTags"]["tags"]
    )
    assert tags["project"] == "shipshape"
    assert tags["stack"] == "dev"
    assert tags["managed-by"] == "pulumi"
    assert tags["team"] == "platform"


def test_exports_name_what_users_need() -> None:
    outputs = stack("dev").outputs
    assert {"repositoryUrl", "imageReference", "url", "clusterName", "serviceName", "logGroupName"} <= set(outputs)
    assert outputs["url"].startswith("http://")
    assert stack("prod").outputs["url"].startswith("https://")
