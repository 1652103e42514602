"""The web service's one container, as ECS's RegisterTaskDefinition takes it: pure functions, no Pulumi.

Kept apart from the component so the definition can be checked against botocore's ECS model in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CONTAINER_NAME = "web"
APP_USER = "10001"
# Container health check (docs/aws-limits.md: interval 5-300, timeout 2-60, retries 1-10, startPeriod 0-300).
CONTAINER_HEALTH = {"interval": 15, "timeout": 5, "retries": 3, "startPeriod": 10}
# gunicorn finishes in-flight requests this long before ECS's stopTimeout ends in SIGKILL.
DRAIN_MARGIN_SECONDS = 5


def health_check_command(port: int, path: str) -> list[str]:
    """Slim images have no curl: ask the health path with the Python that runs the app."""
    script = (
        "import sys, urllib.request; "
        f"sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=3).status == 200 else 1)"
    )
    return ["CMD", "python", "-c", script]


def web_concurrency(cpu: int) -> int:
    """gunicorn workers for the task's vCPUs: two per vCPU plus one, at least two."""
    return max(2, (cpu * 2) // 1024 + 1)


def graceful_timeout(stop_timeout_seconds: int) -> int:
    """gunicorn drains in-flight requests for this long: inside ECS's stopTimeout."""
    return stop_timeout_seconds - DRAIN_MARGIN_SECONDS


def container_definition(
    *,
    image: str,
    port: int,
    health_check_path: str,
    stop_timeout_seconds: int,
    region: str,
    log_group: str,
    environment: Mapping[str, str],
    secrets: Mapping[str, str],
) -> dict[str, Any]:
    """The one container of the task, as ECS's RegisterTaskDefinition expects it (camelCase)."""
    return {
        "name": CONTAINER_NAME,
        "image": image,
        "essential": True,
        "user": APP_USER,
        "readonlyRootFilesystem": True,
        "portMappings": [{"containerPort": port, "protocol": "tcp", "name": "http", "appProtocol": "http"}],
        "environment": [{"name": name, "value": value} for name, value in sorted(environment.items())],
        "secrets": [{"name": name, "valueFrom": arn} for name, arn in sorted(secrets.items())],
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],  # noqa: S108
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": CONTAINER_NAME,
                # A slow log pipe must never block the app.
                "mode": "non-blocking",
                "max-buffer-size": "25m",
            },
        },
        "healthCheck": {"command": health_check_command(port, health_check_path), **CONTAINER_HEALTH},
        "stopTimeout": stop_timeout_seconds,
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
    }
