"""Stack configuration -> frozen, validated settings for every component.

The keys, their types and defaults are declared once, in Pulumi.yaml; this module reads those
declarations, converts each value to its declared type and checks it against what AWS accepts
(../shared/AWS_FACTS.md). Every bad key of a run is reported together in one `SettingsError`,
each line naming the key, the bad value and what is allowed. `SettingsError` is a `pulumi.RunError`,
so the CLI prints the message without a traceback.

Only this module reads `pulumi.Config`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import yaml

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"
NAMESPACE = "shipshape"

# Fargate (Linux) task sizes: cpu -> (lowest memory, highest memory, step), MiB.
FARGATE_MEMORY: dict[int, tuple[int, int, int]] = {
    512: (1024, 4096, 1024),
    1024: (2048, 8192, 1024),
    2048: (4096, 16384, 1024),
    4096: (8192, 30720, 1024),
    8192: (16384, 61440, 4096),
    16384: (32768, 122880, 8192),
}
FARGATE_256_MEMORY = (512, 1024, 2048)
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
ARCHITECTURES = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}
NAT_STRATEGIES = ("OnePerAz", "Single", "None")
CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
REPOSITORY_NAME = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
REGION = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d")
ACM_ARN = re.compile(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}")
KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key/[0-9a-f-]{36}|alias/[A-Za-z0-9/_-]+)")
SECRET_ARN = re.compile(
    r"arn:aws[a-z-]*:(?:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+"
    r"|ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9/_.-]+)"
)
PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(?:root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)")
ACCOUNT_ID = re.compile(r"\d{12}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
INSTANCE_TYPE = re.compile(r"([a-z]+)(\d+)([a-z-]*)\.([a-z0-9]+)")
SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8,17}")
VPC_ID = re.compile(r"vpc-[0-9a-f]{8,17}")
# Names the app and the platform own; a user setting them would silently break the service.
RESERVED_ENV = {"PORT", "COUNTER_TABLE", "APP_VERSION", "WEB_CONCURRENCY", "GRACEFUL_TIMEOUT"}
SECRET_LOOKING_NAME = re.compile(r"(?i)(secret|passw(or)?d|token|api_?key|private_?key|credential)")
# The longest suffix a component appends to the stack prefix is "-alb" style names of 4 characters,
# and an ALB name may have 32: keep the prefix short enough for every derived name.
MAX_PREFIX = 24


class SettingsError(pulumi.RunError):
    """The stack configuration has one or more invalid keys; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        header = f"invalid stack configuration ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    cidr: str
    availability_zones: int
    nat_gateways: str
    vpc_endpoints: bool
    existing_vpc_id: str | None
    existing_public_subnet_ids: tuple[str, ...]
    existing_private_subnet_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RegistrySettings:
    repository_name: str
    kms_key_arn: str | None
    untagged_expiry_days: int
    tagged_images_to_keep: int
    force_delete: bool
    pull_principals: tuple[str, ...]
    """IAM principal ARNs (account ids are turned into `arn:<partition>:iam::<id>:root`)."""


@dataclass(frozen=True, kw_only=True)
class ImageSettings:
    architecture: str
    """`x86_64` or `arm64`, as ECS's runtimePlatform spells it."""
    platform: str
    """`linux/amd64` or `linux/arm64`, as docker spells it."""
    build_on_preview: bool


@dataclass(frozen=True, kw_only=True)
class HealthCheckSettings:
    path: str
    interval_seconds: int
    timeout_seconds: int
    healthy_threshold: int
    unhealthy_threshold: int


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    cpu: int
    memory: int
    desired_count: int
    min_count: int
    max_count: int
    container_port: int
    capacity_provider: str
    health_check: HealthCheckSettings
    deregistration_delay_seconds: int
    stop_timeout_seconds: int
    health_check_grace_period_seconds: int
    log_retention_days: int
    log_kms_key_arn: str | None
    certificate_arn: str | None
    allow_http_without_certificate: bool
    deletion_protection: bool
    access_logs: bool
    cpu_target_percent: int
    requests_per_target: int
    enable_execute_command: bool
    environment: tuple[tuple[str, str], ...]
    secrets: tuple[tuple[str, str], ...]

    @property
    def https(self) -> bool:
        return self.certificate_arn is not None

    @property
    def graceful_timeout_seconds(self) -> int:
        """gunicorn drains in-flight requests for this long: 5 s inside ECS's stopTimeout."""
        return self.stop_timeout_seconds - 5

    @property
    def web_concurrency(self) -> int:
        """gunicorn workers for the task's vCPUs: two per vCPU plus one, at least two."""
        return max(2, (self.cpu * 2) // 1024 + 1)


@dataclass(frozen=True, kw_only=True)
class TableSettings:
    enabled: bool
    point_in_time_recovery: bool


@dataclass(frozen=True, kw_only=True)
class HostSettings:
    enabled: bool
    instance_type: str
    root_volume_gib: int
    allowed_cidrs: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Settings:
    project: str
    stack: str
    region: str
    partition: str
    network: NetworkSettings
    registry: RegistrySettings
    image: ImageSettings
    service: ServiceSettings
    table: TableSettings
    host: HostSettings
    tags: dict[str, str]

    @property
    def prefix(self) -> str:
        """Short name prefix for physical names that AWS limits (ALB, target group)."""
        return f"{self.project}-{self.stack}"

    @property
    def default_tags(self) -> dict[str, str]:
        return {"project": self.project, "stack": self.stack, "managed-by": "pulumi", **self.tags}


@cache
def declarations(project_file: Path = PROJECT_FILE) -> dict[str, dict[str, Any]]:
    """The `config:` declarations of Pulumi.yaml: key -> {type, description, default}."""
    document = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    declared = document.get("config") or {}
    return {key: spec for key, spec in declared.items() if ":" not in key and isinstance(spec, dict)}


def load_settings() -> Settings:
    """Read the running stack's configuration; raises SettingsError listing every bad key."""
    config = pulumi.Config(NAMESPACE)
    raw = {key: config.get(key) for key in declarations()}
    region = pulumi.Config("aws").get("region")
    return parse_settings(raw, project=pulumi.get_project(), stack=pulumi.get_stack(), region=region)


def parse_settings(raw: Mapping[str, str | None], *, project: str, stack: str, region: str | None) -> Settings:
    """Turn CLI-style config strings (absent keys take Pulumi.yaml's defaults) into Settings."""
    reader = _Reader(raw)
    region_value = reader.region(region)
    partition = _partition(region_value or "")

    network = _network(reader)
    registry = _registry(reader, partition)
    architecture = reader.choice("architecture", tuple(ARCHITECTURES))
    image = ImageSettings(
        architecture=architecture or "x86_64",
        platform=ARCHITECTURES.get(architecture or "x86_64", "linux/amd64"),
        build_on_preview=reader.boolean("buildOnPreview"),
    )
    service = _service(reader)
    table = TableSettings(
        enabled=reader.boolean("counterTable"), point_in_time_recovery=reader.boolean("pointInTimeRecovery")
    )
    host = _host(reader, image.architecture)
    tags = _tags(reader)

    prefix = f"{project}-{stack}"
    if len(prefix) > MAX_PREFIX:
        reader.problems.append(
            f"stack name {stack!r}: '{prefix}' is {len(prefix)} characters; load balancer and target group "
            f"names allow {MAX_PREFIX} for the prefix: use a stack name of at most "
            f"{MAX_PREFIX - len(project) - 1} characters"
        )
    if reader.problems:
        raise SettingsError(reader.problems)
    return Settings(
        project=project,
        stack=stack,
        region=region_value or "",
        partition=partition,
        network=network,
        registry=registry,
        image=image,
        service=service,
        table=table,
        host=host,
        tags=tags,
    )


class _Reader:
    """Typed access to the raw config that records a problem instead of raising."""

    def __init__(self, raw: Mapping[str, str | None]) -> None:
        self.raw = raw
        self.problems: list[str] = []
        self.declared = declarations()
        for key in raw:
            if key not in self.declared:
                self.problems.append(f"{NAMESPACE}:{key}: unknown key; declared keys are listed in Pulumi.yaml")

    def fail(self, key: str, value: Any, reason: str) -> None:
        self.problems.append(f"{NAMESPACE}:{key} = {_show(value)}: {reason}")

    def _value(self, key: str) -> tuple[Any, bool]:
        """The typed value (default when absent) and whether it converted cleanly."""
        spec = self.declared[key]
        text = self.raw.get(key)
        if text is None:
            return spec.get("default"), True
        kind = spec["type"]
        try:
            if kind == "integer":
                value: Any = int(text.strip())
            elif kind == "boolean":
                lowered = text.strip().lower()
                if lowered not in ("true", "false"):
                    raise ValueError
                value = lowered == "true"
            elif kind == "array":
                value = json.loads(text)
                if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                    raise ValueError
            else:
                value = text
        except ValueError:
            expected = {"integer": "an integer", "boolean": "true or false", "array": "a list of strings"}[kind]
            self.fail(key, text, f"expected {expected}")
            return spec.get("default"), False
        return value, True

    def string(self, key: str) -> str:
        return str(self._value(key)[0])

    def optional(self, key: str) -> str | None:
        value = self.string(key).strip()
        return value or None

    def boolean(self, key: str) -> bool:
        return bool(self._value(key)[0])

    def strings(self, key: str) -> tuple[str, ...]:
        return tuple(self._value(key)[0])

    def integer(self, key: str, low: int, high: int | None = None) -> int:
        value, ok = self._value(key)
        if ok and (value < low or (high is not None and value > high)):
            allowed = f"{low} to {high}" if high is not None else f"{low} or more"
            self.fail(key, value, f"must be {allowed}")
        return int(value)

    def choice(self, key: str, allowed: tuple[str, ...]) -> str | None:
        value = self.string(key)
        if value not in allowed:
            self.fail(key, value, f"must be one of {', '.join(allowed)}")
            return None
        return value

    def region(self, region: str | None) -> str | None:
        if not region:
            self.problems.append("aws:region: not set; set it with `pulumi config set aws:region <region>`")
            return None
        if not REGION.fullmatch(region):
            self.problems.append(f"aws:region = {_show(region)}: not an AWS region name such as eu-west-1")
            return None
        return region


def _show(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str | list | tuple) else str(value)


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _network(reader: _Reader) -> NetworkSettings:
    cidr = reader.string("vpcCidr")
    try:
        network = ipaddress.IPv4Network(cidr)
        if not network.is_private or not 16 <= network.prefixlen <= 24:
            reader.fail("vpcCidr", cidr, "must be a private IPv4 range from /16 to /24, e.g. 10.0.0.0/16")
    except ValueError:
        reader.fail("vpcCidr", cidr, "not an IPv4 CIDR block such as 10.0.0.0/16")
    zones = reader.integer("availabilityZones", 2, 6)
    nat = reader.choice("natGateways", NAT_STRATEGIES) or "OnePerAz"
    endpoints = reader.boolean("vpcEndpoints")
    if nat == "None" and not endpoints:
        reader.fail(
            "natGateways",
            nat,
            "private subnets without NAT need vpcEndpoints: true to pull images and ship logs",
        )
    vpc_id = reader.optional("existingVpcId")
    public = reader.strings("existingPublicSubnetIds")
    private = reader.strings("existingPrivateSubnetIds")
    if vpc_id is not None:
        if not VPC_ID.fullmatch(vpc_id):
            reader.fail("existingVpcId", vpc_id, "not a VPC id such as vpc-0123456789abcdef0")
        for key, subnets in (("existingPublicSubnetIds", public), ("existingPrivateSubnetIds", private)):
            if len(subnets) < 2:
                reader.fail(
                    key,
                    list(subnets),
                    "needs at least two subnets in different AZs when existingVpcId is set",
                )
            bad = [s for s in subnets if not SUBNET_ID.fullmatch(s)]
            if bad:
                reader.fail(key, bad, "not subnet ids such as subnet-0123456789abcdef0")
    elif public or private:
        key = "existingPublicSubnetIds" if public else "existingPrivateSubnetIds"
        reader.fail(key, list(public or private), "subnets are only used with existingVpcId")
    return NetworkSettings(
        cidr=cidr,
        availability_zones=zones,
        nat_gateways=nat,
        vpc_endpoints=endpoints,
        existing_vpc_id=vpc_id,
        existing_public_subnet_ids=public,
        existing_private_subnet_ids=private,
    )


def _registry(reader: _Reader, partition: str) -> RegistrySettings:
    name = reader.string("repositoryName")
    if not 2 <= len(name) <= 256 or not REPOSITORY_NAME.fullmatch(name):
        reader.fail(
            "repositoryName",
            name,
            "must be 2-256 lowercase letters, digits and . _ - separated segments, e.g. shipshape/web",
        )
    kms = reader.optional("repositoryKmsKeyArn")
    if kms is not None and not KMS_KEY_ARN.fullmatch(kms):
        reader.fail("repositoryKmsKeyArn", kms, "not a KMS key or alias ARN")
    principals = []
    for principal in reader.strings("pullPrincipals"):
        if ACCOUNT_ID.fullmatch(principal):
            principals.append(f"arn:{partition}:iam::{principal}:root")
        elif PRINCIPAL_ARN.fullmatch(principal):
            principals.append(principal)
        else:
            reader.fail(
                "pullPrincipals",
                principal,
                "must be a 12-digit account id or an IAM root/role/user ARN; public principals are not allowed",
            )
    return RegistrySettings(
        repository_name=name,
        kms_key_arn=kms,
        untagged_expiry_days=reader.integer("untaggedImageExpiryDays", 1, 3650),
        tagged_images_to_keep=reader.integer("taggedImagesToKeep", 1, 10000),
        force_delete=reader.boolean("forceDeleteRepository"),
        pull_principals=tuple(principals),
    )


def _check_fargate_size(reader: _Reader, cpu: int, memory: int) -> None:
    if cpu == 256:
        if memory not in FARGATE_256_MEMORY:
            reader.fail("memory", memory, "with cpu 256 must be 512, 1024 or 2048")
        return
    if cpu not in FARGATE_MEMORY:
        reader.fail("cpu", cpu, "must be one of 256, 512, 1024, 2048, 4096, 8192, 16384")
        return
    low, high, step = FARGATE_MEMORY[cpu]
    if not (low <= memory <= high and (memory - low) % step == 0):
        reader.fail("memory", memory, f"with cpu {cpu} must be {low} to {high} in steps of {step}")


def _pairs(reader: _Reader, key: str, check_value: Callable[[str], str | None]) -> tuple[tuple[str, str], ...]:
    pairs: dict[str, str] = {}
    for item in reader.strings(key):
        name, sep, value = item.partition("=")
        if not sep or not ENV_NAME.fullmatch(name):
            reader.fail(key, item, "expected NAME=value with NAME made of letters, digits and _")
            continue
        if name in RESERVED_ENV or name.startswith(("AWS_", "ECS_")):
            reader.fail(key, item, f"{name} is set by the platform and cannot be overridden")
            continue
        if name in pairs:
            reader.fail(key, item, f"{name} is given twice")
            continue
        reason = check_value(name)
        if reason is None and key == "secrets" and not SECRET_ARN.fullmatch(value):
            reason = "the value must be a Secrets Manager secret ARN or an SSM parameter ARN"
        if reason:
            reader.fail(key, item, reason)
            continue
        pairs[name] = value
    return tuple(sorted(pairs.items()))


def _service(reader: _Reader) -> ServiceSettings:
    cpu = reader.integer("cpu", 256, 16384)
    memory = reader.integer("memory", 512, 122880)
    _check_fargate_size(reader, cpu, memory)
    min_count = reader.integer("minCount", 1, 1000)
    desired = reader.integer("desiredCount", 1, 1000)
    max_count = reader.integer("maxCount", 1, 1000)
    if not min_count <= desired <= max_count:
        reader.fail(
            "desiredCount",
            desired,
            f"must be between minCount ({min_count}) and maxCount ({max_count})",
        )
    path = reader.string("healthCheckPath")
    if not path.startswith("/") or len(path) > 1024 or any(c.isspace() for c in path):
        reader.fail("healthCheckPath", path, "must be a URL path starting with / (no spaces, at most 1024 characters)")
    interval = reader.integer("healthCheckIntervalSeconds", 5, 300)
    timeout = reader.integer("healthCheckTimeoutSeconds", 2, 120)
    if timeout >= interval:
        reader.fail("healthCheckTimeoutSeconds", timeout, f"must be less than healthCheckIntervalSeconds ({interval})")
    retention = reader.integer("logRetentionDays", 1, 3653)
    if retention not in LOG_RETENTION_DAYS:
        reader.fail("logRetentionDays", retention, f"must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
    log_kms = reader.optional("logKmsKeyArn")
    if log_kms is not None and not KMS_KEY_ARN.fullmatch(log_kms):
        reader.fail("logKmsKeyArn", log_kms, "not a KMS key ARN")
    certificate = reader.optional("certificateArn")
    if certificate is not None and not ACM_ARN.fullmatch(certificate):
        reader.fail(
            "certificateArn",
            certificate,
            "not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)",
        )
    allow_http = reader.boolean("allowHttpWithoutCertificate")
    if certificate is None and not allow_http:
        reader.fail(
            "certificateArn",
            "",
            "an HTTPS listener needs a certificate; set certificateArn, or allowHttpWithoutCertificate: true for dev",
        )
    return ServiceSettings(
        cpu=cpu,
        memory=memory,
        desired_count=desired,
        min_count=min_count,
        max_count=max_count,
        container_port=reader.integer("containerPort", 1024, 65535),
        capacity_provider=reader.choice("capacityProvider", CAPACITY_PROVIDERS) or "FARGATE",
        health_check=HealthCheckSettings(
            path=path,
            interval_seconds=interval,
            timeout_seconds=timeout,
            healthy_threshold=reader.integer("healthyThreshold", 2, 10),
            unhealthy_threshold=reader.integer("unhealthyThreshold", 2, 10),
        ),
        deregistration_delay_seconds=reader.integer("deregistrationDelaySeconds", 0, 3600),
        stop_timeout_seconds=reader.integer("stopTimeoutSeconds", 10, 120),
        health_check_grace_period_seconds=reader.integer("healthCheckGracePeriodSeconds", 0, 3600),
        log_retention_days=retention,
        log_kms_key_arn=log_kms,
        certificate_arn=certificate,
        allow_http_without_certificate=allow_http,
        deletion_protection=reader.boolean("deletionProtection"),
        access_logs=reader.boolean("accessLogs"),
        cpu_target_percent=reader.integer("cpuTargetPercent", 10, 90),
        requests_per_target=reader.integer("requestsPerTarget", 1, 1_000_000),
        enable_execute_command=reader.boolean("enableExecuteCommand"),
        environment=_pairs(
            reader,
            "environment",
            lambda name: (
                f"{name} looks like a secret: pass it through `secrets`" if SECRET_LOOKING_NAME.search(name) else None
            ),
        ),
        secrets=_pairs(reader, "secrets", lambda _name: None),
    )


def _host(reader: _Reader, architecture: str) -> HostSettings:
    instance_type = reader.string("hostInstanceType")
    match = INSTANCE_TYPE.fullmatch(instance_type)
    if match is None:
        reader.fail("hostInstanceType", instance_type, "not an EC2 instance type such as t3.micro")
    else:
        graviton = "g" in match.group(3)
        if graviton != (architecture == "arm64"):
            wanted = (
                "a Graviton type such as t4g.micro" if architecture == "arm64" else "an x86_64 type such as t3.micro"
            )
            reader.fail("hostInstanceType", instance_type, f"architecture is {architecture}: use {wanted}")
    cidrs = []
    for cidr in reader.strings("hostAllowedCidrs"):
        try:
            network = ipaddress.ip_network(cidr)
        except ValueError:
            reader.fail("hostAllowedCidrs", cidr, "not a CIDR block such as 10.20.0.0/16")
            continue
        if network.prefixlen == 0 or not network.is_private:
            reader.fail(
                "hostAllowedCidrs",
                cidr,
                "only private ranges may reach the host; the internet goes through the ALB",
            )
            continue
        cidrs.append(str(network))
    return HostSettings(
        enabled=reader.boolean("hostEnabled"),
        instance_type=instance_type,
        root_volume_gib=reader.integer("hostRootVolumeGiB", 8, 16384),
        allowed_cidrs=tuple(cidrs),
    )


def _tags(reader: _Reader) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in reader.strings("tags"):
        key, sep, value = item.partition("=")
        if not sep or not key or len(key) > 128 or len(value) > 256:
            reader.fail("tags", item, "expected key=value with a key of 1-128 and a value of at most 256 characters")
        elif key.lower().startswith("aws:"):
            reader.fail("tags", item, "keys starting with aws: are reserved by AWS")
        elif key in ("project", "stack", "managed-by"):
            reader.fail("tags", item, f"{key} is set for every resource by the program")
        else:
            tags[key] = value
    return tags
