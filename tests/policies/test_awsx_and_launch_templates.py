"""awsx components judged by their own inputs (as the awsx provider would build their children), launch templates."""

from __future__ import annotations

import pytest

from tests.policies.fixtures import (
    AWSX_ALB,
    AWSX_EC2_TASK_DEFINITION,
    AWSX_FARGATE_SERVICE,
    AWSX_FARGATE_TASK_DEFINITION,
    AWSX_REPOSITORY,
    COMPLIANT,
    CONTAINER,
    INSTANCE,
    LAUNCH_TEMPLATE,
    LIFECYCLE_POLICY,
)
from tests.policies.harness import DELETE, Spec, changed, judge, judge_stack

HTTPS = "aws-lb-listener-https"
TLS = "aws-lb-listener-modern-tls"
PUBLIC_IP = "aws-ecs-service-no-public-ip"
HOST_PUBLIC_IP = "aws-ec2-instance-no-public-ip"


@pytest.mark.parametrize(
    ("resource_type", "props", "expected"),
    [
        pytest.param(
            AWSX_FARGATE_SERVICE,
            changed(COMPLIANT[AWSX_FARGATE_SERVICE], ("networkConfiguration", "assignPublicIp"), True),
            {PUBLIC_IP},
            id="fargate-service-network-configuration-public-ip",
        ),
        pytest.param(
            AWSX_FARGATE_SERVICE,
            changed(COMPLIANT[AWSX_FARGATE_SERVICE], ("networkConfiguration",), DELETE) | {"assignPublicIp": True},
            {PUBLIC_IP, "aws-ec2-security-group-no-world-ingress"},
            id="fargate-service-assign-public-ip-in-the-default-vpc",
        ),
        pytest.param(
            AWSX_FARGATE_SERVICE,
            changed(COMPLIANT[AWSX_FARGATE_SERVICE], ("networkConfiguration",), DELETE),
            {"aws-ec2-security-group-no-world-ingress"},
            id="fargate-service-default-security-group-open-to-the-world",
        ),
        pytest.param(
            AWSX_FARGATE_SERVICE,
            changed(COMPLIANT[AWSX_FARGATE_SERVICE], ("deploymentCircuitBreaker",), DELETE),
            {"aws-ecs-service-circuit-breaker"},
            id="fargate-service-without-circuit-breaker",
        ),
        pytest.param(
            AWSX_FARGATE_TASK_DEFINITION,
            changed(COMPLIANT[AWSX_FARGATE_TASK_DEFINITION], ("containers", "web", "privileged"), True),
            {"aws-ecs-task-definition-not-privileged"},
            id="awsx-task-privileged-container",
        ),
        pytest.param(
            AWSX_FARGATE_TASK_DEFINITION,
            changed(COMPLIANT[AWSX_FARGATE_TASK_DEFINITION], ("containers", "web", "user"), "root"),
            {"aws-ecs-task-definition-non-root"},
            id="awsx-task-root-container",
        ),
        pytest.param(
            AWSX_FARGATE_TASK_DEFINITION,
            changed(COMPLIANT[AWSX_FARGATE_TASK_DEFINITION], ("containers", "web", "logConfiguration"), DELETE),
            set(),
            id="awsx-task-default-log-group-logs-the-container",
        ),
        pytest.param(
            AWSX_FARGATE_TASK_DEFINITION,
            changed(COMPLIANT[AWSX_FARGATE_TASK_DEFINITION], ("containers", "web", "logConfiguration"), DELETE)
            | {"logGroup": {"skip": True}},
            {"aws-ecs-task-definition-logging"},
            id="awsx-task-log-group-skipped",
        ),
        pytest.param(
            AWSX_EC2_TASK_DEFINITION,
            changed(COMPLIANT[AWSX_EC2_TASK_DEFINITION], ("container", "image"), "nginx:latest"),
            {"aws-ecs-task-definition-private-image"},
            id="awsx-ec2-task-public-image",
        ),
        pytest.param(
            AWSX_EC2_TASK_DEFINITION,
            changed(COMPLIANT[AWSX_EC2_TASK_DEFINITION], ("networkMode",), "host"),
            {"aws-ecs-task-definition-not-privileged"},
            id="awsx-ec2-task-host-network",
        ),
        pytest.param(
            AWSX_FARGATE_SERVICE,
            changed(COMPLIANT[AWSX_FARGATE_SERVICE], ("taskDefinition",), DELETE)
            | {"taskDefinitionArgs": {"container": {**CONTAINER, "readonlyRootFilesystem": False}}},
            {"aws-ecs-task-definition-read-only-root"},
            id="fargate-service-task-definition-args-writable-root",
        ),
        pytest.param(AWSX_ALB, changed(COMPLIANT[AWSX_ALB], ("listeners",), DELETE), {HTTPS}, id="alb-default-http"),
        pytest.param(
            AWSX_ALB,
            changed(COMPLIANT[AWSX_ALB], ("listeners",), DELETE) | {"listener": {"port": 8080}},
            {HTTPS},
            id="alb-listener-port-without-protocol-is-http",
        ),
        pytest.param(
            AWSX_ALB,
            changed(COMPLIANT[AWSX_ALB], ("listeners", 0, "defaultActions"), DELETE),
            {HTTPS},
            id="alb-http-listener-forwards",
        ),
        pytest.param(
            AWSX_ALB,
            changed(COMPLIANT[AWSX_ALB], ("listeners",), [{"port": 443, "certificateArn": "arn:cert"}]),
            {TLS},
            id="alb-port-443-is-https-with-the-default-old-policy",
        ),
        pytest.param(
            AWSX_ALB,
            changed(COMPLIANT[AWSX_ALB], ("dropInvalidHeaderFields",), False),
            {"aws-lb-drop-invalid-headers"},
            id="alb-keeps-invalid-headers",
        ),
        pytest.param(
            AWSX_ALB,
            changed(COMPLIANT[AWSX_ALB], ("accessLogs",), DELETE),
            {"aws-lb-access-logs"},
            id="alb-without-access-logs",
        ),
        pytest.param(
            AWSX_REPOSITORY,
            changed(COMPLIANT[AWSX_REPOSITORY], ("imageTagMutability",), "MUTABLE"),
            {"aws-ecr-repository-immutable-tags"},
            id="awsx-repository-mutable-tags",
        ),
        pytest.param(
            LAUNCH_TEMPLATE,
            changed(COMPLIANT[LAUNCH_TEMPLATE], ("metadataOptions", "httpTokens"), "optional"),
            {"aws-ec2-instance-imdsv2"},
            id="launch-template-imdsv1",
        ),
        pytest.param(
            LAUNCH_TEMPLATE,
            changed(COMPLIANT[LAUNCH_TEMPLATE], ("blockDeviceMappings", 0, "ebs", "encrypted"), "false"),
            {"aws-ec2-instance-encrypted-root-volume"},
            id="launch-template-unencrypted-volume",
        ),
        *(
            pytest.param(
                LAUNCH_TEMPLATE,
                COMPLIANT[LAUNCH_TEMPLATE]
                | {"networkInterfaces": [{"deviceIndex": 0, "associatePublicIpAddress": value}]},
                {HOST_PUBLIC_IP},
                id=f"launch-template-public-ip-{value}",
            )
            for value in (True, "true")
        ),
        pytest.param(
            LAUNCH_TEMPLATE,
            COMPLIANT[LAUNCH_TEMPLATE] | {"networkInterfaces": [{"associatePublicIpAddress": "false"}]},
            set(),
            id="launch-template-no-public-ip",
        ),
        pytest.param(
            INSTANCE,
            COMPLIANT[INSTANCE] | {"associatePublicIpAddress": True},
            {HOST_PUBLIC_IP},
            id="instance-public-ip",
        ),
    ],
)
def test_rules_fire_exactly(resource_type: str, props: dict, expected: set[str]) -> None:
    assert judge(resource_type, props).fired == expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(COMPLIANT[AWSX_REPOSITORY], set(), id="awsx-creates-a-lifecycle-policy"),
        pytest.param(
            changed(COMPLIANT[AWSX_REPOSITORY], ("imageScanningConfiguration",), DELETE),
            {"aws-ecr-repository-scan-on-push"},
            id="awsx-repository-without-scanning",
        ),
        pytest.param(
            COMPLIANT[AWSX_REPOSITORY] | {"lifecyclePolicy": {"skip": True}},
            {"aws-ecr-repository-lifecycle-policy"},
            id="awsx-repository-lifecycle-skipped",
        ),
    ],
)
def test_awsx_repository_stack_rules(props: dict, expected: set[str]) -> None:
    assert judge_stack([Spec(AWSX_REPOSITORY, "repo", props)]).fired == expected


def test_awsx_repository_lifecycle_skipped_but_given_separately_passes() -> None:
    specs = [
        Spec(AWSX_REPOSITORY, "repo", COMPLIANT[AWSX_REPOSITORY] | {"lifecyclePolicy": {"skip": True}}),
        Spec(LIFECYCLE_POLICY, "lifecycle", COMPLIANT[LIFECYCLE_POLICY], {"repository": ("repo",)}),
    ]
    assert judge_stack(specs).fired == set()
