"""ECS rules: container definitions arrive as a JSON string with camelCase keys."""

from __future__ import annotations

import json

import pytest

from tests.policies.fixtures import CLUSTER, COMPLIANT, CONTAINER, SERVICE, TASK_DEFINITION
from tests.policies.harness import DELETE, changed, judge

LOGGING = "aws-ecs-task-definition-logging"
PRIVILEGED = "aws-ecs-task-definition-not-privileged"
NON_ROOT = "aws-ecs-task-definition-non-root"
READ_ONLY = "aws-ecs-task-definition-read-only-root"
ENVIRONMENT = "aws-ecs-task-definition-no-secrets-in-environment"
IMAGE = "aws-ecs-task-definition-private-image"
ROLES = "aws-ecs-task-definition-separate-roles"


def task(**container: object) -> dict:
    """The compliant task definition with one container changed (None removes the key)."""
    changed_container = {key: value for key, value in {**CONTAINER, **container}.items() if value is not None}
    return changed(COMPLIANT[TASK_DEFINITION], ("containerDefinitions",), json.dumps([changed_container]))


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(task(logConfiguration=None), {LOGGING}, id="no-log-configuration"),
        pytest.param(task(logConfiguration={"options": {}}), {LOGGING}, id="log-configuration-without-driver"),
        pytest.param(task(privileged=True), {PRIVILEGED}, id="privileged"),
        pytest.param(changed(COMPLIANT[TASK_DEFINITION], ("pidMode",), "host"), {PRIVILEGED}, id="task-pid-mode-host"),
        pytest.param(changed(COMPLIANT[TASK_DEFINITION], ("ipcMode",), "host"), {PRIVILEGED}, id="task-ipc-mode-host"),
        pytest.param(
            changed(COMPLIANT[TASK_DEFINITION], ("networkMode",), "host"), {PRIVILEGED}, id="task-network-host"
        ),
        pytest.param(task(pidMode="host", networkMode="host"), set(), id="pid-mode-is-not-a-container-key"),
        pytest.param(task(user=None), {NON_ROOT}, id="no-user"),
        pytest.param(task(user="root"), {NON_ROOT}, id="root"),
        pytest.param(task(user="0:10001"), {NON_ROOT}, id="uid-0-with-group"),
        pytest.param(task(user="10001:10001"), set(), id="uid-and-gid"),
        pytest.param(task(readonlyRootFilesystem=False), {READ_ONLY}, id="writable-root"),
        pytest.param(task(readonlyRootFilesystem=None), {READ_ONLY}, id="read-only-unset"),
        pytest.param(task(environment=[{"name": "DB_PASSWORD", "value": "x"}]), {ENVIRONMENT}, id="secret-name"),
        pytest.param(
            task(environment=[{"name": "BOOT", "value": "AKIAIOSFODNN7EXAMPLE"}]), {ENVIRONMENT}, id="key-in-value"
        ),
        pytest.param(
            task(environment=[{"name": "DATABASE_URL", "value": "postgres://app:pw@db:5432/app"}]),
            {ENVIRONMENT},
            id="credentials-in-url",
        ),
        pytest.param(task(environment=[{"name": "SECRET_ARN", "value": "arn:x"}]), set(), id="reference-name"),
        pytest.param(task(image="nginx:latest"), {IMAGE}, id="public-image"),
        pytest.param(task(image=CONTAINER["image"].split("@")[0] + ":latest"), {IMAGE}, id="ecr-by-tag"),
        pytest.param(
            changed(COMPLIANT[TASK_DEFINITION], ("taskRoleArn",), COMPLIANT[TASK_DEFINITION]["executionRoleArn"]),
            {ROLES},
            id="same-role",
        ),
        pytest.param(changed(COMPLIANT[TASK_DEFINITION], ("taskRoleArn",), DELETE), set(), id="no-task-role"),
        pytest.param(
            task(privileged=True, user="root"),
            {PRIVILEGED, NON_ROOT},
            id="two-findings-two-rules",
        ),
    ],
)
def test_task_definition_rules_fire_exactly(props: dict, expected: set[str]) -> None:
    assert judge(TASK_DEFINITION, props).fired == expected


def test_every_container_is_judged() -> None:
    second = {**CONTAINER, "name": "sidecar", "user": "root"}
    props = changed(COMPLIANT[TASK_DEFINITION], ("containerDefinitions",), json.dumps([CONTAINER, second]))
    verdict = judge(TASK_DEFINITION, props)
    assert verdict.fired == {NON_ROOT}
    assert "container 'sidecar'" in verdict.text(NON_ROOT)


CONTAINER_RULES = {LOGGING, PRIVILEGED, NON_ROOT, READ_ONLY, ENVIRONMENT, IMAGE}


@pytest.mark.parametrize(
    "definitions",
    [pytest.param("", id="empty"), pytest.param("[{", id="malformed"), pytest.param('{"name": "web"}', id="object")],
)
def test_unreadable_container_definitions_are_findings(definitions: str) -> None:
    props = changed(COMPLIANT[TASK_DEFINITION], ("containerDefinitions",), definitions)
    assert judge(TASK_DEFINITION, props).fired == CONTAINER_RULES


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(
            changed(COMPLIANT[CLUSTER], ("settings",), DELETE),
            {"aws-ecs-cluster-container-insights"},
            id="insights-unset",
        ),
        pytest.param(
            changed(COMPLIANT[CLUSTER], ("settings", 0, "value"), "disabled"),
            {"aws-ecs-cluster-container-insights"},
            id="insights-disabled",
        ),
        pytest.param(changed(COMPLIANT[CLUSTER], ("settings", 0, "value"), "enhanced"), set(), id="insights-enhanced"),
    ],
)
def test_cluster_rules(props: dict, expected: set[str]) -> None:
    assert judge(CLUSTER, props).fired == expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(
            changed(COMPLIANT[SERVICE], ("networkConfiguration", "assignPublicIp"), True),
            {"aws-ecs-service-no-public-ip"},
            id="public-ip",
        ),
        pytest.param(
            changed(COMPLIANT[SERVICE], ("networkConfiguration", "assignPublicIp"), DELETE),
            set(),
            id="public-ip-default-off",
        ),
        pytest.param(
            changed(COMPLIANT[SERVICE], ("deploymentCircuitBreaker",), DELETE),
            {"aws-ecs-service-circuit-breaker"},
            id="no-circuit-breaker",
        ),
        pytest.param(
            changed(COMPLIANT[SERVICE], ("deploymentCircuitBreaker", "rollback"), False),
            {"aws-ecs-service-circuit-breaker"},
            id="breaker-without-rollback",
        ),
        pytest.param(
            changed(COMPLIANT[SERVICE], ("deploymentCircuitBreaker",), DELETE)
            | {"deploymentController": {"type": "CODE_DEPLOY"}},
            set(),
            id="code-deploy-rolls-back-itself",
        ),
    ],
)
def test_service_rules(props: dict, expected: set[str]) -> None:
    assert judge(SERVICE, props).fired == expected
