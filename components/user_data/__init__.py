"""The host's bootstrap script: bootstrap.sh.tmpl rendered with validated, shell-quoted values.

`render_user_data` is a pure function so the script can be checked (shellcheck) and run against fake
tools (tests/components/test_user_data.py) without Pulumi. Every value is validated before it reaches
the script and quoted with `shlex.quote`; values that also land in the systemd unit or docker's env
file are restricted to characters those formats take literally.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path

import components.aws_limits as aws_limits
import components.checks as checks

TEMPLATE = Path(__file__).resolve().parent / "bootstrap.sh.tmpl"
MAX_USER_DATA_BYTES = aws_limits.MAX_USER_DATA_BYTES

# A private ECR registry host: <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn].
REGISTRY = re.compile(r"[0-9]{12}\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?", re.ASCII)
DIGEST = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}", re.ASCII)
# An image tag's alphabet: what the registry component uses as the app version.
APP_VERSION = re.compile(r"[A-Za-z0-9_.+-]{1,128}", re.ASCII)
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
# Set by the bootstrap itself; the app's own environment and secrets may not replace them.
RESERVED_ENVIRONMENT = ("PORT", "AWS_REGION", "APP_VERSION", "COUNTER_TABLE")
PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}", re.ASCII)


class UserDataError(ValueError):
    """A value for the bootstrap script is invalid; the message names the parameter."""


def registry_of(image_reference: str) -> str:
    """The registry host of an image reference (`host/path@sha256:...` -> `host`)."""
    return image_reference.split("/", 1)[0]


def _require(label: str, value: object, rule: checks.Rule) -> None:
    reason = rule(value)
    if reason is not None:
        raise UserDataError(f"{label} = {value!r}: {reason}")


def check_region(region: str, label: str = "region") -> str:
    _require(label, region, aws_limits.region)
    return region


def check_registry(registry: str) -> str:
    """The registry host, validated; returns its region (the credential helper asks that region's ECR)."""
    match = REGISTRY.fullmatch(registry) if isinstance(registry, str) else None
    if match is None or aws_limits.region(match["region"]) is not None:
        raise UserDataError(
            f"registry = {registry!r}: not a private ECR registry host such as "
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        )
    return match["region"]


def check_image_reference(image_reference: str, registry: str | None = None, label: str = "image_reference") -> str:
    """A digest-pinned reference (`registry/repository@sha256:<64 hex>`), optionally in `registry`."""
    if not isinstance(image_reference, str):
        raise UserDataError(f"{label} = {image_reference!r}: expected a string")
    name, sep, digest = image_reference.partition("@")
    host, slash, path = name.partition("/")
    if not sep or not DIGEST.fullmatch(digest):
        raise UserDataError(
            f"{label} = {image_reference!r}: must be pinned by digest (repository@sha256:<64 hex digits>); "
            "a tag can move, a digest cannot"
        )
    if not slash or aws_limits.repository_name(path) is not None:
        raise UserDataError(
            f"{label} = {image_reference!r}: expected <registry>/<repository>@sha256:..., without a tag"
        )
    if registry is not None and host != registry:
        raise UserDataError(f"{label} = {image_reference!r}: is not in the registry {registry!r} the host logs in to")
    return image_reference


def check_environment(environment: Mapping[str, str], secrets: Mapping[str, str]) -> None:
    """Names a shell and docker take; values that stay one env-file line; secrets as ARNs; no name twice."""
    for label, values in (("environment", environment), ("secrets", secrets)):
        for name, value in values.items():
            if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
                raise UserDataError(f"{label} = {name!r}: not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
            if name in RESERVED_ENVIRONMENT:
                raise UserDataError(f"{label} = {name!r}: set by the host itself ({', '.join(RESERVED_ENVIRONMENT)})")
            if not isinstance(value, str) or "\n" in value or "\r" in value or "\0" in value:
                raise UserDataError(f"{label}[{name!r}]: the value must be one line of text")
            if label == "secrets" and aws_limits.secret_arn(value) is not None:
                raise UserDataError(
                    f"secrets[{name!r}] = {value!r}: not a Secrets Manager secret ARN or an SSM parameter ARN"
                )
    both = sorted(set(environment) & set(secrets))
    if both:
        raise UserDataError(f"{', '.join(both)}: both in environment and secrets; a name is plain or secret")


def check_port(port: int, label: str = "port") -> int:
    _require(label, port, aws_limits.port)
    return port


def check_health_path(health_path: str, label: str = "health_path") -> str:
    _require(label, health_path, aws_limits.health_path)
    return health_path


def render_user_data(
    *,
    region: str,
    registry: str,
    image_reference: str,
    port: int,
    counter_table: str | None = None,
    app_version: str | None = None,
    health_path: str = "/health",
    environment: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> str:
    """The bootstrap script for one host.

    region: where the app runs (AWS_REGION for the app and its table).
    registry: the ECR registry host docker's credential helper serves with the instance role; the image must live there.
    image_reference: `registry/repository@sha256:...`; tags are refused.
    port: the app's port inside and outside the container (1024-65535).
    counter_table: the DynamoDB table name; None or "" lets the app count in memory.
    app_version: shown by the app in its responses; None or "" lets the app say "dev".
    health_path: polled on localhost until it answers 2xx. Default "/health".
    environment: plain NAME -> value settings for the app (never secrets). Default none.
    secrets: NAME -> ARN of a Secrets Manager secret or SSM parameter; only the ARNs reach the script, and the
        values are fetched with the instance role when the container starts. Default none.

    Raises UserDataError naming the parameter when a value is invalid or the script exceeds 16 KB.
    """
    check_region(region)
    check_registry(registry)
    check_image_reference(image_reference, registry)
    check_port(port)
    if counter_table and not TABLE_NAME.fullmatch(counter_table):
        raise UserDataError(
            f"counter_table = {counter_table!r}: not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)"
        )
    if app_version and not APP_VERSION.fullmatch(app_version):
        raise UserDataError(f"app_version = {app_version!r}: use 1-128 of A-Z a-z 0-9 _ . + -")
    check_health_path(health_path)
    environment = dict(environment or {})
    secrets = dict(secrets or {})
    check_environment(environment, secrets)

    values = {
        "REGION": region,
        "REGISTRY": registry,
        "IMAGE": image_reference,
        "PORT": str(port),
        "HEALTH_PATH": health_path,
        "COUNTER_TABLE": counter_table or "",
        "APP_VERSION": app_version or "",
        "ENVIRONMENT": "\n".join(f"{name}={value}" for name, value in sorted(environment.items())),
        "SECRETS": "".join(f"{name} {arn}\n" for name, arn in sorted(secrets.items())),
    }
    script = _fill(TEMPLATE.read_text(encoding="utf-8"), values)
    size = len(script.encode("utf-8"))
    if size > MAX_USER_DATA_BYTES:
        raise UserDataError(
            f"the rendered bootstrap script is {size} bytes; EC2 accepts at most {MAX_USER_DATA_BYTES} bytes "
            "of user data: use fewer or shorter environment values or secrets"
        )
    return script


def _fill(template: str, values: dict[str, str]) -> str:
    wanted = set(PLACEHOLDER.findall(template))
    if wanted != set(values):
        # A template and renderer out of step is a bug in this module, never a user input problem.
        raise RuntimeError(
            f"bootstrap template placeholders {sorted(wanted)} do not match the rendered values {sorted(values)}"
        )
    return PLACEHOLDER.sub(lambda match: shlex.quote(values[match[1]]), template)
