"""This stack's configuration -> each component's Args: the adapter between Pulumi.yaml's keys and the library.

The keys, their types and defaults are declared once, in Pulumi.yaml. `parse_settings` converts every value
to its declared type (preflight.config_types, the rules the Pulumi CLI applies) and checks it with the same
rules the components' Args use (components.aws_limits), in one pass: every bad key of a run is reported
together in one `SettingsError`, each line naming the key, the bad value and what is allowed. The
`to_*_args` methods then map the values onto each component's Args; an Args check that still fails names
the config key it came from. `SettingsError` is a `pulumi.RunError`, so the CLI prints it without a traceback.

Only this module reads `pulumi.Config`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import yaml

import components.aws_limits as aws_limits
from components.container_host import ContainerHostArgs
from components.counter_table import CounterTableArgs
from components.network import HTTP, HTTPS, NetworkArgs
from components.registry import ImageArgs, RepositoryArgs
from components.web_service_args import RESERVED_ENVIRONMENT, WebServiceArgs
from preflight.config_types import ConfigTypeError, from_cli_string

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"
NAMESPACE = "shipshape"
SECRET_LOOKING_NAME = aws_limits.SECRET_LOOKING_NAME
# The longest physical name built from the stack prefix is the load balancer's `<prefix>-alb` (32 at most).
MAX_PREFIX = aws_limits.LOAD_BALANCER_NAME_LENGTH - len("-alb")
OPTIONAL_STRINGS = ("existingVpcId", "repositoryKmsKeyArn", "logKmsKeyArn", "certificateArn")
STACK_TAGS = ("project", "stack", "managed-by")

# Each Args field and the config key it comes from: one table per component, also used to name the key
# when an Args check fails.
NETWORK_KEYS = {
    "cidr_block": "vpcCidr",
    "availability_zones": "availabilityZones",
    "nat_gateways": "natGateways",
    "vpc_endpoints": "vpcEndpoints",
    "existing_vpc_id": "existingVpcId",
    "existing_public_subnet_ids": "existingPublicSubnetIds",
    "existing_private_subnet_ids": "existingPrivateSubnetIds",
    "app_port": "containerPort",
    "listener_ports": "certificateArn",
}
REPOSITORY_KEYS = {
    "name": "repositoryName",
    "kms_key_arn": "repositoryKmsKeyArn",
    "untagged_image_expiry_days": "untaggedImageExpiryDays",
    "tagged_images_to_keep": "taggedImagesToKeep",
    "force_delete": "forceDeleteRepository",
    "pull_principals": "pullPrincipals",
}
IMAGE_KEYS = {"architecture": "architecture", "build_on_preview": "buildOnPreview"}
COUNTER_TABLE_KEYS = {"point_in_time_recovery": "pointInTimeRecovery", "deletion_protection": "deletionProtection"}
WEB_SERVICE_KEYS = {
    "architecture": "architecture",
    "cpu": "cpu",
    "memory": "memory",
    "container_port": "containerPort",
    "environment": "environment",
    "secrets": "secrets",
    "stop_timeout_seconds": "stopTimeoutSeconds",
    "log_retention_days": "logRetentionDays",
    "log_kms_key_arn": "logKmsKeyArn",
    "certificate_arn": "certificateArn",
    "capacity_provider": "capacityProvider",
    "desired_count": "desiredCount",
    "min_count": "minCount",
    "max_count": "maxCount",
    "cpu_target_percent": "cpuTargetPercent",
    "requests_per_target": "requestsPerTarget",
    "enable_execute_command": "enableExecuteCommand",
    "health_check_grace_period_seconds": "healthCheckGracePeriodSeconds",
    "health_check_path": "healthCheckPath",
    "health_check_interval_seconds": "healthCheckIntervalSeconds",
    "health_check_timeout_seconds": "healthCheckTimeoutSeconds",
    "healthy_threshold": "healthyThreshold",
    "unhealthy_threshold": "unhealthyThreshold",
    "deregistration_delay_seconds": "deregistrationDelaySeconds",
    "allow_http_without_certificate": "allowHttpWithoutCertificate",
    "deletion_protection": "deletionProtection",
    "access_logs": "accessLogs",
}
HOST_KEYS = {
    "architecture": "architecture",
    "instance_type": "hostInstanceType",
    "root_volume_gib": "hostRootVolumeGiB",
    "allowed_cidrs": "hostAllowedCidrs",
    "container_port": "containerPort",
    "health_check_path": "healthCheckPath",
}
ARGS_KEYS = {
    NetworkArgs: NETWORK_KEYS,
    RepositoryArgs: REPOSITORY_KEYS,
    ImageArgs: IMAGE_KEYS,
    CounterTableArgs: COUNTER_TABLE_KEYS,
    WebServiceArgs: WEB_SERVICE_KEYS,
    ContainerHostArgs: HOST_KEYS,
}

# One rule per key, on the typed value (the same rules as the Args fields the key feeds).
RULES: dict[str, aws_limits.Rule] = {
    "vpcCidr": aws_limits.vpc_cidr,
    "availabilityZones": aws_limits.availability_zones,
    "natGateways": aws_limits.nat_strategy,
    "existingVpcId": aws_limits.optional(aws_limits.vpc_id),
    "existingPublicSubnetIds": aws_limits.each(aws_limits.subnet_id),
    "existingPrivateSubnetIds": aws_limits.each(aws_limits.subnet_id),
    "repositoryName": aws_limits.repository_name,
    "repositoryKmsKeyArn": aws_limits.optional(aws_limits.kms_key_arn),
    "untaggedImageExpiryDays": aws_limits.expiry_days,
    "taggedImagesToKeep": aws_limits.images_to_keep,
    "pullPrincipals": aws_limits.each(aws_limits.principal_or_account),
    "architecture": aws_limits.architecture,
    "cpu": aws_limits.fargate_cpu,
    "minCount": aws_limits.task_count,
    "desiredCount": aws_limits.task_count,
    "maxCount": aws_limits.task_count,
    "containerPort": aws_limits.port,
    "capacityProvider": aws_limits.capacity_provider,
    "healthCheckPath": aws_limits.health_path,
    "healthCheckIntervalSeconds": aws_limits.health_check_interval,
    "healthCheckTimeoutSeconds": aws_limits.health_check_timeout,
    "healthyThreshold": aws_limits.health_check_threshold,
    "unhealthyThreshold": aws_limits.health_check_threshold,
    "deregistrationDelaySeconds": aws_limits.deregistration_delay,
    "stopTimeoutSeconds": aws_limits.stop_timeout,
    "healthCheckGracePeriodSeconds": aws_limits.grace_period,
    "logRetentionDays": aws_limits.log_retention,
    "logKmsKeyArn": aws_limits.optional(aws_limits.kms_key_arn),
    "certificateArn": aws_limits.optional(aws_limits.acm_certificate_arn),
    "cpuTargetPercent": aws_limits.cpu_target_percent,
    "requestsPerTarget": aws_limits.requests_per_target,
    "environment": aws_limits.environment(RESERVED_ENVIRONMENT),
    "secrets": aws_limits.secrets(RESERVED_ENVIRONMENT),
    "hostRootVolumeGiB": aws_limits.root_volume,
    "hostAllowedCidrs": aws_limits.each(aws_limits.private_cidr),
    "tags": aws_limits.tags(reserved=STACK_TAGS),
}
# Rules that read other keys: key -> (the keys it reads, the rule made from their values). Skipped when one of
# those keys is itself bad, so one mistake is reported once, on the key that holds it.
COMBINED: dict[str, tuple[tuple[str, ...], Callable[..., aws_limits.Rule]]] = {
    "memory": (("cpu",), aws_limits.fargate_memory),
    "maxCount": (("minCount",), lambda low: aws_limits.at_least(low, "minCount")),
    "desiredCount": (("minCount", "maxCount"), aws_limits.count_between),
    "healthCheckTimeoutSeconds": (("healthCheckIntervalSeconds",), aws_limits.health_check_timeout_below),
    "natGateways": (("vpcEndpoints",), aws_limits.nat_needs_endpoints),
    "existingPublicSubnetIds": (("existingVpcId",), aws_limits.subnets_of_vpc),
    "existingPrivateSubnetIds": (("existingVpcId",), aws_limits.subnets_of_vpc),
    "certificateArn": (("allowHttpWithoutCertificate",), aws_limits.certificate_or_http),
    "secrets": (("environment",), aws_limits.not_in_environment),
    "hostInstanceType": (("architecture",), aws_limits.instance_type),
}


class SettingsError(pulumi.RunError):
    """The stack configuration has one or more invalid keys; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        header = f"invalid stack configuration ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


@cache
def declarations(project_file: Path = PROJECT_FILE) -> dict[str, dict[str, Any]]:
    """The `config:` declarations of Pulumi.yaml: key -> {type, description, default}."""
    document = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    declared = document.get("config") or {}
    return {key: spec for key, spec in declared.items() if ":" not in key and isinstance(spec, dict)}


@dataclass(frozen=True)
class Settings:
    """The stack's typed, checked configuration, and the Args each component gets from it."""

    project: str
    stack: str
    region: str
    partition: str
    values: Mapping[str, Any]
    """Config key -> typed value (Pulumi.yaml's default where the stack sets none)."""

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def prefix(self) -> str:
        """Short name prefix for physical names that AWS limits (the load balancer)."""
        return f"{self.project}-{self.stack}"

    @property
    def default_tags(self) -> dict[str, str]:
        return {"project": self.project, "stack": self.stack, "managed-by": "pulumi", **self["tags"]}

    @property
    def https(self) -> bool:
        return self["certificateArn"] is not None

    @property
    def counter_table_enabled(self) -> bool:
        return bool(self["counterTable"])

    @property
    def host_enabled(self) -> bool:
        return bool(self["hostEnabled"])

    def _build(self, args_type: type, **wiring: Any) -> Any:
        keys = ARGS_KEYS[args_type]
        fields = {field: self[key] for field, key in keys.items() if key in self.values and field not in wiring}
        try:
            return args_type(**fields, **wiring)
        except aws_limits.ArgsError as error:
            key = keys.get(error.field)
            where = f"{NAMESPACE}:{key}" if key else f"{error.owner}.{error.field}"
            raise SettingsError([f"{where} = {_show(error.value)}: {error.reason}"]) from None

    def to_network_args(self) -> NetworkArgs:
        ports = (HTTPS, HTTP) if self.https else (HTTP,)
        return self._build(NetworkArgs, region=self.region, listener_ports=ports)

    def to_repository_args(self) -> RepositoryArgs:
        return self._build(RepositoryArgs)

    def to_image_args(
        self, *, repository_url: pulumi.Input[str], registry_id: pulumi.Input[str], context: str | os.PathLike[str]
    ) -> ImageArgs:
        return self._build(ImageArgs, repository_url=repository_url, registry_id=registry_id, context=context)

    def to_counter_table_args(self) -> CounterTableArgs:
        return self._build(CounterTableArgs)

    def to_web_service_args(self, **wiring: Any) -> WebServiceArgs:
        """The service's Args from this stack's keys; `wiring` gives the other components' outputs
        (vpc_id, subnets, security groups, image, repository_arn, app_version, counter table, account_id)."""
        return self._build(
            WebServiceArgs,
            region=self.region,
            load_balancer_name=f"{self.prefix}-alb",
            log_group_name=f"/{self.project}/{self.stack}/web",
            task_family=f"{self.prefix}-web",
            **wiring,
        )

    def to_container_host_args(self, **wiring: Any) -> ContainerHostArgs:
        """The host's Args from this stack's keys; `wiring` gives the other components' outputs."""
        return self._build(ContainerHostArgs, region=self.region, **wiring)


def load_settings() -> Settings:
    """Read the running stack's configuration; raises SettingsError listing every bad key."""
    config = pulumi.Config(NAMESPACE)
    raw = {key: config.get(key) for key in declarations()}
    region = pulumi.Config("aws").get("region")
    return parse_settings(raw, project=pulumi.get_project(), stack=pulumi.get_stack(), region=region)


def parse_settings(raw: Mapping[str, str | None], *, project: str, stack: str, region: str | None) -> Settings:
    """Turn CLI-style config strings (absent keys take Pulumi.yaml's defaults) into checked Settings."""
    problems: list[str] = []
    declared = declarations()
    problems.extend(
        f"{NAMESPACE}:{key}: unknown key; declared keys are listed in Pulumi.yaml" for key in raw if key not in declared
    )
    if not region:
        problems.append("aws:region: not set; set it with `pulumi config set aws:region <region>`")
    elif (reason := aws_limits.region(region)) is not None:
        problems.append(f"aws:region = {_show(region)}: {reason}")
    partition = aws_limits.partition_of(region or "")

    typed: dict[str, Any] = {}
    bad: set[str] = set()

    def fail(key: str, reason: str, value: Any = None) -> None:
        bad.add(key)
        problems.append(f"{NAMESPACE}:{key} = {_show(typed[key] if value is None else value)}: {reason}")

    for key, spec in declared.items():
        text = raw.get(key)
        typed[key] = _from_yaml_default(spec)
        if text is not None:
            try:
                typed[key] = from_cli_string(spec["type"], spec.get("items"), text)
            except ConfigTypeError as error:
                fail(key, str(error), text)
    values = _conversions(typed, partition, bad, fail)
    for key, rule in RULES.items():
        if key not in bad and (reason := rule(values[key])) is not None:
            fail(key, reason)
    for key, (needs, make_rule) in COMBINED.items():
        if key in bad or bad.intersection(needs):
            continue
        if (reason := make_rule(*(values[need] for need in needs))(values[key])) is not None:
            fail(key, reason)

    prefix = f"{project}-{stack}"
    if len(prefix) > MAX_PREFIX:
        problems.append(
            f"stack name {stack!r}: '{prefix}' is {len(prefix)} characters; load balancer names allow "
            f"{MAX_PREFIX} for the prefix: use a stack name of at most {MAX_PREFIX - len(project) - 1} characters"
        )
    if problems:
        raise SettingsError(problems)
    return Settings(project=project, stack=stack, region=region or "", partition=partition, values=values)


def _from_yaml_default(spec: Mapping[str, Any]) -> Any:
    default = spec.get("default")
    return list(default) if isinstance(default, list) else default


def _conversions(
    values: dict[str, Any], partition: str, bad: set[str], fail: Callable[[str, str], None]
) -> dict[str, Any]:
    """Config shapes -> Args shapes: "" -> None, NAME=value lists -> mappings, account ids -> root ARNs."""
    converted = dict(values)
    for key in OPTIONAL_STRINGS:
        converted[key] = (values[key] or "").strip() or None
    for key in ("environment", "secrets", "tags"):
        if key in bad:
            converted[key] = {}
            continue
        pairs, reason = aws_limits.pairs(values[key])
        if reason is not None:
            fail(key, reason)
            converted[key] = {}
        else:
            converted[key] = pairs
    if "pullPrincipals" not in bad:
        converted["pullPrincipals"] = [
            f"arn:{partition}:iam::{item}:root" if aws_limits.ACCOUNT_ID.fullmatch(str(item)) else item
            for item in values["pullPrincipals"]
        ]
    return converted


def _show(value: Any) -> str:
    """A value as the stack file would hold it, shortened so a huge value is not echoed whole."""
    text = json.dumps(value) if isinstance(value, str | list | tuple | dict) else str(value)
    return text if len(text) <= 120 else f"{text[:100]}... ({len(text)} characters)"
