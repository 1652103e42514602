"""ECS: observable clusters, locked-down task definitions, private services that roll back by themselves."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pulumi_policy import Severity

from guardrails.checks import Expect, Expectations, is_not_true, is_true, one_of
from guardrails.framework import Findings, Resource, RuleInfo, resource_rule
from guardrails.secrets import is_secret_name, secret_value_kinds
from guardrails.values import JsonError, as_bool, as_list, dig, parse_json, shown

CLUSTER = "aws:ecs/cluster:Cluster"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
# pulumi-awsx awsx/ecs/fargateService.ts: `assignPublicIp` or `networkConfiguration` (not both); the other
# inputs (deploymentCircuitBreaker, ...) pass to aws.ecs.Service unchanged.
AWSX_FARGATE_SERVICE = "awsx:ecs:FargateService"
AWSX_TASK_DEFINITIONS = ("awsx:ecs:FargateTaskDefinition", "awsx:ecs:EC2TaskDefinition")
AWSX_TASK_TYPES = (*AWSX_TASK_DEFINITIONS, AWSX_FARGATE_SERVICE)
TASK_TYPES = (TASK_DEFINITION, *AWSX_TASK_TYPES)

INSIGHTS_ON = ("enabled", "enhanced")
ROOT_USERS = ("root", "0")
PRIVATE_ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/"
    r"[a-z0-9]+(?:[._/-][a-z0-9]+)*@sha256:[a-f0-9]{64}$"
)


def task_arguments(resource: Resource, findings: Findings) -> dict[str, Any] | None:
    """The task definition inputs a resource carries: its own, or an awsx FargateService's taskDefinitionArgs."""
    if resource.type != AWSX_FARGATE_SERVICE:
        return resource.props
    arguments = resource.props.get("taskDefinitionArgs")
    if findings.unknown(arguments) or not isinstance(arguments, dict):
        return None  # The service names an existing task definition (taskDefinition), judged on its own.
    return arguments


def _awsx_containers(arguments: dict[str, Any], findings: Findings) -> list[tuple[str, dict[str, Any]]]:
    """Containers of awsx task definition inputs, as awsx builds their definitions.

    pulumi-awsx awsx/ecs/fargateTaskDefinition.ts: `container` (named by its `name`, else "container") or
    `containers` (a map from name to container); awsx/ecs/containers.ts gives a container without
    logConfiguration an awslogs configuration on the log group it creates unless `logGroup.skip` is true.
    """
    container, named = arguments.get("container"), arguments.get("containers")
    skip_log_group = dig(arguments, "logGroup", "skip")
    if findings.unknown_any(container, named, skip_log_group):
        return []
    if isinstance(container, dict):
        name = container.get("name")
        entries = {name if isinstance(name, str) else "container": container}
    elif isinstance(named, dict):
        entries = named
    else:
        return []
    result = []
    for name, entry in entries.items():
        if findings.unknown(entry) or not isinstance(entry, dict):
            continue
        if entry.get("logConfiguration") is None and as_bool(skip_log_group) is not True:
            entry = {**entry, "logConfiguration": {"logDriver": "awslogs"}}
        result.append((f"container {shown(name)}", entry))
    return result


def containers(resource: Resource, findings: Findings) -> list[tuple[str, dict[str, Any]]]:
    """(label, container) pairs: containerDefinitions (a JSON string with camelCase keys), or awsx's inputs."""
    if resource.type in AWSX_TASK_TYPES:
        arguments = task_arguments(resource, findings)
        return _awsx_containers(arguments, findings) if arguments is not None else []
    try:
        parsed = parse_json(resource.props.get("containerDefinitions"), "containerDefinitions")
    except JsonError as error:
        findings.violation(f"Container definitions cannot be judged, so they do not pass: {error}.")
        return []
    if findings.unknown(parsed):
        return []
    if not isinstance(parsed, list):
        findings.violation(f"containerDefinitions must be a JSON list of containers, found {type(parsed).__name__}.")
        return []
    result = []
    for index, container in enumerate(parsed):
        if findings.unknown(container):
            continue
        if not isinstance(container, dict):
            findings.violation(f"containerDefinitions[{index}] must be an object, found {shown(container)}.")
            continue
        name = container.get("name")
        label = f"container {shown(name)}" if isinstance(name, str) else f"containerDefinitions[{index}]"
        result.append((label, container))
    return result


def _per_container(judge: Callable[[str, dict[str, Any], Findings], None]) -> Callable[[Resource, Findings], None]:
    def check(resource: Resource, findings: Findings) -> None:
        for label, container in containers(resource, findings):
            judge(label, container, findings)

    return check


# --- aws-ecs-cluster-container-insights --------------------------------------------------------------


def _check_container_insights(resource: Resource, findings: Findings) -> None:
    settings = resource.props.get("settings")
    if findings.unknown(settings):
        return
    values = [dig(setting, "value") for setting in as_list(settings) if dig(setting, "name") == "containerInsights"]
    if any(findings.unknown(value) for value in values):
        return
    if not any(value in INSIGHTS_ON for value in values):
        shown = ", ".join(map(str, values)) or "not set"
        findings.violation(f"containerInsights is {shown}; enable it (or enhanced) to see task metrics.")


CONTAINER_INSIGHTS = resource_rule(
    RuleInfo(
        name="aws-ecs-cluster-container-insights",
        description="ECS clusters turn on Container Insights.",
        severity=Severity.LOW,
        remediation_steps='Add settings=[{"name": "containerInsights", "value": "enabled"}] to the cluster.',
        frameworks=("fsbp:ECS.12", "checkov:CKV_AWS_65"),
    ),
    {CLUSTER: _check_container_insights},
)


# --- task definition container rules ------------------------------------------------------------------


def _judge_logging(label: str, container: dict[str, Any], findings: Findings) -> None:
    log_configuration = container.get("logConfiguration")
    if findings.unknown(log_configuration):
        return
    driver = dig(log_configuration, "logDriver")
    if findings.unknown(driver):
        return
    if not isinstance(driver, str) or not driver:
        findings.violation(f"{label} has no logConfiguration with a logDriver; its output would be lost.")


TASK_LOGGING = resource_rule(
    RuleInfo(
        name="aws-ecs-task-definition-logging",
        description="Every container of a task definition has a log configuration.",
        severity=Severity.MEDIUM,
        remediation_steps='Give each container logConfiguration {"logDriver": "awslogs", "options": {...}}.',
        frameworks=("fsbp:ECS.9", "cdk-nag:ECS7"),
    ),
    dict.fromkeys(TASK_TYPES, _per_container(_judge_logging)),
)


def _check_not_privileged(resource: Resource, findings: Findings) -> None:
    arguments = task_arguments(resource, findings) or {}
    for key in ("pidMode", "ipcMode", "networkMode"):
        value = arguments.get(key)
        if not findings.unknown(value) and value == "host":
            findings.violation(f"{key} is host; the task would share the host's {key[:-4]} namespace.")
    for label, container in containers(resource, findings):
        privileged = container.get("privileged")
        if not findings.unknown(privileged) and as_bool(privileged) is True:
            findings.violation(f"{label} is privileged; it would have root on the host.")


TASK_NOT_PRIVILEGED = resource_rule(
    RuleInfo(
        name="aws-ecs-task-definition-not-privileged",
        description="No container runs privileged and the task uses no host pid, ipc or network mode.",
        severity=Severity.HIGH,
        remediation_steps="Remove privileged from containers and pid_mode/ipc_mode=host; use network_mode awsvpc.",
        frameworks=("fsbp:ECS.4", "fsbp:ECS.3"),
    ),
    dict.fromkeys(TASK_TYPES, _check_not_privileged),
)


def _judge_non_root(label: str, container: dict[str, Any], findings: Findings) -> None:
    user = container.get("user")
    if findings.unknown(user):
        return
    if not isinstance(user, str) or not user.strip():
        findings.violation(f"{label} sets no user, so it runs as the image's user (root unless the image says).")
        return
    name = user.split(":", 1)[0].strip()
    if name in ROOT_USERS:
        findings.violation(f"{label} runs as {user!r}, which is root.")


TASK_NON_ROOT = resource_rule(
    RuleInfo(
        name="aws-ecs-task-definition-non-root",
        description="Every container of a task definition sets a non-root user.",
        severity=Severity.MEDIUM,
        remediation_steps='Set "user": "10001" (the image\'s unprivileged UID) on each container.',
        frameworks=("fsbp:ECS.20",),
    ),
    dict.fromkeys(TASK_TYPES, _per_container(_judge_non_root)),
)


READ_ONLY_ROOT = Expectations(
    Expect("readonlyRootFilesystem", is_true, "the container's root filesystem is writable", unset="not set (false)")
)


def _judge_read_only_root(label: str, container: dict[str, Any], findings: Findings) -> None:
    READ_ONLY_ROOT.judge(container, findings, f"{label} ")


TASK_READ_ONLY_ROOT = resource_rule(
    RuleInfo(
        name="aws-ecs-task-definition-read-only-root",
        description="Every container of a task definition has a read-only root filesystem.",
        severity=Severity.MEDIUM,
        remediation_steps=(
            'Set "readonlyRootFilesystem": true and mount a volume (or use /dev/shm) for what must write.'
        ),
        frameworks=("fsbp:ECS.5", "checkov:CKV_AWS_336"),
    ),
    dict.fromkeys(TASK_TYPES, _per_container(_judge_read_only_root)),
)


def _judge_environment(label: str, container: dict[str, Any], findings: Findings) -> None:
    environment = container.get("environment")
    if findings.unknown(environment):
        return
    for entry in as_list(environment):
        name, value = dig(entry, "name"), dig(entry, "value")
        if findings.unknown(name):
            continue
        if isinstance(name, str) and is_secret_name(name):
            findings.violation(f"{label} puts {name} in plain environment; pass it through `secrets`.")
            continue
        if isinstance(value, str):
            kinds = secret_value_kinds(value)
            if kinds:
                findings.violation(f"{label} environment {name} holds {', '.join(kinds)}; use `secrets`.")
        else:
            findings.unknown(value)


TASK_NO_SECRETS_IN_ENVIRONMENT = resource_rule(
    RuleInfo(
        name="aws-ecs-task-definition-no-secrets-in-environment",
        description="No container carries a secret-looking name or value in its plain environment.",
        severity=Severity.HIGH,
        remediation_steps=(
            'Move the value to Secrets Manager or SSM and reference it in "secrets": '
            '[{"name": ..., "valueFrom": <arn>}].'
        ),
        frameworks=("fsbp:ECS.8", "cdk-nag:ECS2"),
        limits=(
            "Secrets are recognised by variable names and value patterns; references (names ending _ARN, _NAME, "
            "_ID, ...) are not secrets."
        ),
    ),
    dict.fromkeys(TASK_TYPES, _per_container(_judge_environment)),
)


def _judge_private_image(label: str, container: dict[str, Any], findings: Findings) -> None:
    image = container.get("image")
    if findings.unknown(image):
        return
    if not isinstance(image, str) or not PRIVATE_ECR_IMAGE.match(image):
        findings.violation(
            f"{label} image {image!r} is not a private ECR image pinned by digest "
            "(<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:<digest>)."
        )


TASK_PRIVATE_IMAGE = resource_rule(
    RuleInfo(
        name="aws-ecs-task-definition-private-image",
        description="Every container image comes from a private ECR repository and is pinned by digest.",
        severity=Severity.MEDIUM,
        remediation_steps="Push the image to the stack's ECR repository and reference it as repo@sha256:<digest>.",
        frameworks=("shipshape",),
        limits="Only private ECR images pinned by digest pass; pull-through cache repositories pass as private ECR.",
    ),
    dict.fromkeys(TASK_TYPES, _per_container(_judge_private_image)),
)


def _check_separate_roles(resource: Resource, findings: Findings) -> None:
    execution, task = resource.props.get("executionRoleArn"), resource.props.get("taskRoleArn")
    if not execution or not task:
        return
    if findings.unknown_any(execution, task):
        return
    if execution == task:
        findings.violation(
            f"executionRoleArn and taskRoleArn are both {execution!r}; the app would hold the rights to pull "
            "images, write logs and read every secret."
        )


TASK_SEPARATE_ROLES = resource_rule(
    RuleInfo(
        name="aws-ecs-task-definition-separate-roles",
        description="A task definition's execution role differs from its task role.",
        severity=Severity.MEDIUM,
        remediation_steps="Create one role for the ECS agent (execution) and another for the app (task).",
        frameworks=("checkov:CKV_AWS_249",),
    ),
    {TASK_DEFINITION: _check_separate_roles},
)


# --- services --------------------------------------------------------------------------------------


NO_PUBLIC_IP = Expectations(
    Expect("networkConfiguration.assignPublicIp", is_not_true, "tasks belong in private subnets"),
    Expect("assignPublicIp", is_not_true, "tasks belong in private subnets"),
)


SERVICE_NO_PUBLIC_IP = resource_rule(
    RuleInfo(
        name="aws-ecs-service-no-public-ip",
        description="ECS services do not give tasks a public IP address.",
        severity=Severity.HIGH,
        remediation_steps="Set network_configuration.assign_public_ip=False and run tasks in private subnets.",
        frameworks=("fsbp:ECS.2", "checkov:CKV_AWS_333"),
    ),
    dict.fromkeys((SERVICE, AWSX_FARGATE_SERVICE), NO_PUBLIC_IP),
)


CIRCUIT_BREAKER = Expectations(
    Expect(
        "deploymentCircuitBreaker.enable",
        is_true,
        "a bad image would keep replacing healthy tasks",
    ),
    Expect("deploymentCircuitBreaker.rollback", is_true, "a failed deployment would not roll back"),
    # CODE_DEPLOY and EXTERNAL deployments roll back by their own means.
    when=Expect("deploymentController.type", one_of(None, "ECS")),
)


SERVICE_CIRCUIT_BREAKER = resource_rule(
    RuleInfo(
        name="aws-ecs-service-circuit-breaker",
        description="ECS services enable the deployment circuit breaker with rollback.",
        severity=Severity.LOW,
        remediation_steps='Set deployment_circuit_breaker={"enable": True, "rollback": True}.',
        frameworks=("shipshape",),
    ),
    dict.fromkeys((SERVICE, AWSX_FARGATE_SERVICE), CIRCUIT_BREAKER),
)
