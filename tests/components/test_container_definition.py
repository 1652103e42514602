"""The container definition we send passes AWS's own parameter validation (botocore's ECS model)."""

from __future__ import annotations

import json

import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator

from components.container import CONTAINER_HEALTH, container_definition, health_check_command
from components.settings import parse_settings
from components.stack_keys import WEB_SERVICE_KEYS

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shipshape/web@sha256:" + "a" * 64


def service_args(**raw: str):
    """The web service's Args as the dev stack's settings give them (the wiring is not needed here)."""
    settings = parse_settings(
        {"allowHttpWithoutCertificate": "true", **raw}, project="shipshape", stack="dev", region="eu-west-1"
    )
    return {field: settings[key] for field, key in WEB_SERVICE_KEYS.items()}


def register_task_definition_errors(container: dict) -> str:
    model = get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition")
    params = {
        "family": "shipshape-dev-web",
        "containerDefinitions": [container],
        "cpu": "256",
        "memory": "512",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        "executionRoleArn": "arn:aws:iam::123456789012:role/execution",
        "taskRoleArn": "arn:aws:iam::123456789012:role/task",
        "volumes": [{"name": "tmp"}],
    }
    report = ParamValidator().validate(params, model.input_shape)
    return report.generate_report() if report.has_errors() else ""


def build(**raw: str) -> dict:
    args = service_args(**raw)
    return container_definition(
        image=IMAGE,
        port=args["container_port"],
        health_check_path=args["health_check_path"],
        stop_timeout_seconds=args["stop_timeout_seconds"],
        region="eu-west-1",
        log_group="/shipshape/dev/web",
        environment={"PORT": "8000", "APP_VERSION": "sha-1"},
        secrets=args["secrets"],
    )


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"secrets": json.dumps(["DB_URL=arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"])},
        {"containerPort": "9000", "stopTimeoutSeconds": "120"},
    ],
)
def test_container_definition_passes_botocore_validation(raw: dict[str, str]) -> None:
    container = json.loads(json.dumps(build(**raw)))
    assert register_task_definition_errors(container) == ""


def test_botocore_validation_catches_a_misspelt_key() -> None:
    container = build()
    container["privilege"] = True
    assert 'Unknown parameter in containerDefinitions[0]: "privilege"' in register_task_definition_errors(container)


def test_container_is_hardened_and_logs_to_its_group() -> None:
    container = build()
    assert container["user"] == "10001"
    assert container["readonlyRootFilesystem"] is True
    assert container["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}]
    assert container["linuxParameters"]["capabilities"] == {"drop": ["ALL"]}
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/shipshape/dev/web"
    assert "privileged" not in container


def test_container_health_check_needs_no_curl_and_is_within_ecs_limits() -> None:
    command = health_check_command(8000, "/health")
    assert command[:3] == ["CMD", "python", "-c"]
    assert "curl" not in " ".join(command)
    assert command[4] == "http://127.0.0.1:8000/health"
    assert 5 <= CONTAINER_HEALTH["interval"] <= 300
    assert 2 <= CONTAINER_HEALTH["timeout"] <= 60
    assert 1 <= CONTAINER_HEALTH["retries"] <= 10
    assert 0 <= CONTAINER_HEALTH["startPeriod"] <= 300


def test_health_check_script_is_valid_python() -> None:
    compile(health_check_command(8000, "/health")[3], "<healthcheck>", "exec")


def test_secrets_travel_as_secrets_not_environment() -> None:
    arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/shipshape/api"
    container = build(secrets=json.dumps([f"UPSTREAM_API={arn}"]))
    assert container["secrets"] == [{"name": "UPSTREAM_API", "valueFrom": arn}]
    assert all(item["name"] != "UPSTREAM_API" for item in container["environment"])


@pytest.mark.parametrize("path", ["/health", "/ready/now", "/a_b.c~d-e"])
def test_the_health_probe_is_fixed_code_and_the_url_only_an_argument(path: str) -> None:
    command = health_check_command(8000, path)
    assert command[3] == health_check_command(9000, "/other")[3]
    assert path not in command[3]
    assert command[4] == f"http://127.0.0.1:8000{path}"


def test_the_health_probe_runs_and_reports_the_answer(tmp_path) -> None:
    """The probe as ECS runs it (exec form), against a real HTTP server that answers 200 on one path."""
    import subprocess
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 500)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        for path, expected in (("/health", 0), ("/other", 1)):
            _, _python, flag, code, url = health_check_command(port, path)
            run = subprocess.run([sys.executable, flag, code, url], capture_output=True, timeout=30, check=False)
            assert run.returncode == expected, run.stderr
    finally:
        server.shutdown()
        server.server_close()
