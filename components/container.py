"""The web service's one container, as ECS's RegisterTaskDefinition takes it: pure functions, no Pulumi.

Kept apart from the component so the definition can be checked against botocore's ECS model in tests.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from components.aws_limits import TASK_DEFINITION_BYTES, secret_arn
from components.checks import Rule, between

CONTAINER_NAME = "web"
APP_USER = "10001"
# Container health check (docs/aws-limits.md: interval 5-300, timeout 2-60, retries 1-10, startPeriod 0-300).
CONTAINER_HEALTH = {"interval": 15, "timeout": 5, "retries": 3, "startPeriod": 10}
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
# Names that say "secret": such a value belongs in `secrets` (read from Secrets Manager or SSM), never in plain
# environment variables, which anyone allowed to describe the task definition can read.
SECRET_LOOKING_NAME = re.compile(r"(?i)(secret|passw(or)?d|token|api_?key|private_?key|credential)", re.ASCII)
# Names the app and the platform set; a caller's environment must not override them.
RESERVED_ENVIRONMENT = ("PORT", "COUNTER_TABLE", "APP_VERSION", "WEB_CONCURRENCY", "GRACEFUL_TIMEOUT", "HEADER_TIMEOUT")
# Room for the task definition's other fields (family, roles, sizes, volumes, tags).
TASK_DEFINITION_MARGIN = 4096
# The app server (granian) finishes in-flight requests this long before ECS's stopTimeout ends in SIGKILL.
DRAIN_MARGIN_SECONDS = 5
# granian's header deadline (HEADER_TIMEOUT in app/visits/server.py) also closes a keep-alive connection idle
# this long; 60 s is the most granian allows, so the task sets it there and the ALB's idle timeout stays below.
SERVER_IDLE_SECONDS = 60


# The health probe is fixed code; the URL reaches it as an argument (sys.argv[1]), never inside the code, so no
# configured path can change what runs.
HEALTH_PROBE = (
    "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=3).status == 200 else 1)"
)


def health_check_command(port: int, path: str) -> list[str]:
    """Slim images have no curl: ask the health path with the Python that runs the app."""
    return ["CMD", "python", "-c", HEALTH_PROBE, f"http://127.0.0.1:{port}{path}"]


def web_concurrency(cpu: int) -> int:
    """granian worker processes for the task's CPU units (1024 per vCPU): one per vCPU, at least two.

    granian handles connections in Rust and runs the app on each worker's blocking threads, so more
    processes than CPUs only compete for them ("matching the amount of CPU cores for the workers is
    generally the best starting point ... avoid to configure workers and threads based on numbers of other
    servers", granian's README, "Processes and threads"); gunicorn's 2 x vCPU + 1 does not carry over.
    At least two, as app/visits/server.py's own default, so one worker's crash and respawn never leaves
    the task with nothing to answer the load balancer. A part vCPU counts whole: the same rounding as
    server.py's usable_cpus() over the cgroup quota Fargate sets from these units.
    """
    return max(2, math.ceil(cpu / 1024))


# The ALB's connection idle timeout: AWS accepts 1-4000 s, default 60 (botocore's elbv2 model,
# LoadBalancerAttribute `idle_timeout.timeout_seconds`), and asks that the target keep idle
# connections open longer than it, or the ALB may send a request down a connection the target is closing and
# answer 502 (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html,
# "Connection idle timeout"). The app server closes at SERVER_IDLE_SECONDS, so the ALB must close sooner.
load_balancer_idle_timeout = between(
    1, SERVER_IDLE_SECONDS - 1, f" (the app server closes idle connections at {SERVER_IDLE_SECONDS} s)"
)


def graceful_timeout(stop_timeout_seconds: int) -> int:
    """GRACEFUL_TIMEOUT: granian drains in-flight requests for this long, inside ECS's stopTimeout."""
    return stop_timeout_seconds - DRAIN_MARGIN_SECONDS


def task_definition_size(secrets_value: Mapping[str, str]) -> Rule:
    """The rule for the environment: with the secrets, the task definition must fit ECS's 64 KiB."""

    def rule(value: Mapping[str, str]) -> str | None:
        # Everything else in the definition is short; the image reference and log group are at most ~300 each.
        container = container_definition(
            image="i" * 300,
            port=65535,
            health_check_path="/" * 64,
            stop_timeout_seconds=120,
            region="xx-xxxxxxxxx-1",
            log_group="g" * 300,
            environment=dict(value),
            secrets=dict(secrets_value),
        )
        size = len(json.dumps([container]).encode("utf-8")) + TASK_DEFINITION_MARGIN
        if size > TASK_DEFINITION_BYTES:
            return f"the task definition would be about {size} bytes; ECS accepts {TASK_DEFINITION_BYTES}"
        return None

    return rule


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


# --- the rules for a caller's environment and secrets (one rule each, used by Args and settings) ---


def environment_names(reserved: Iterable[str]) -> Rule:
    """Environment variable names a caller may set: POSIX-style names the app and the platform do not own."""
    owned = frozenset(reserved)

    def rule(value: Any) -> str | None:
        for name in value:
            if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
                return f"{name!r} is not a variable name (letters, digits and _, not starting with a digit)"
            if name in owned or name.startswith(("AWS_", "ECS_")):
                return f"{name} is set by the platform and cannot be overridden"
        return None

    return rule


def environment(reserved: Iterable[str]) -> Rule:
    """Plain environment variables: allowed names, none that looks like a secret."""
    names = environment_names(reserved)

    def rule(value: Mapping[str, Any]) -> str | None:
        secret = [name for name in value if isinstance(name, str) and SECRET_LOOKING_NAME.search(name)]
        if secret:
            return f"{secret[0]} looks like a secret: pass it through secrets"
        return names(value)

    return rule


def secrets(reserved: Iterable[str]) -> Rule:
    """Secrets: allowed names, each a Secrets Manager secret or SSM parameter ARN."""
    names = environment_names(reserved)

    def rule(value: Mapping[str, Any]) -> str | None:
        reason = names(value)
        if reason is None:
            bad = [f"{name}={arn}" for name, arn in value.items() if isinstance(arn, str) and secret_arn(arn)]
            reason = (
                f"{', '.join(bad)}: the value must be a Secrets Manager secret ARN or an SSM parameter ARN"
                if bad
                else None
            )
        return reason

    return rule


def not_in_environment(environment_value: Mapping[str, Any]) -> Rule:
    """Secrets whose names are not plain environment variables too (ECS refuses a name given twice)."""

    def rule(value: Mapping[str, Any]) -> str | None:
        both = sorted(set(value) & set(environment_value))
        return f"{', '.join(both)} also in environment: a name is plain or secret, not both" if both else None

    return rule
