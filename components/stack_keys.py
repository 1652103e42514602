"""This stack's config keys: which Args field each one feeds, and the rules that check it.

One table per component maps Args fields to config keys (also used to name the key when an Args check fails
later); RULES checks one key, COMBINED checks a key against others. Every rule comes from components.aws_limits
(or the component module that owns the value), so the settings and the Args apply the same rule to one value.
"""

from __future__ import annotations

from collections.abc import Callable

import components.aws_limits as aws_limits
import components.checks as checks
import components.container as container
import components.domain_limits as domain_limits
import components.registry as registry
from components.container import RESERVED_ENVIRONMENT
from components.container_host import ContainerHostArgs
from components.counter_table import CounterTableArgs
from components.network import NetworkArgs
from components.registry import ImageArgs, RepositoryArgs
from components.web_service_args import WebServiceArgs

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
    "host_enabled": "hostEnabled",
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
    "create_log_kms_key": "createLogKmsKey",
    "certificate_arn": "certificateArn",
    "domain_name": "domainName",
    "hosted_zone_id": "hostedZoneId",
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
    "environment": "environment",
    "secrets": "secrets",
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
RULES: dict[str, checks.Rule] = {
    "vpcCidr": aws_limits.vpc_cidr,
    "availabilityZones": aws_limits.availability_zones,
    "natGateways": aws_limits.nat_strategy,
    "existingVpcId": checks.optional(aws_limits.vpc_id),
    "existingPublicSubnetIds": checks.each(aws_limits.subnet_id),
    "existingPrivateSubnetIds": checks.each(aws_limits.subnet_id),
    "repositoryName": checks.optional(aws_limits.repository_name),
    "repositoryKmsKeyArn": checks.optional(aws_limits.kms_key_arn),
    "untaggedImageExpiryDays": aws_limits.expiry_days,
    "taggedImagesToKeep": aws_limits.images_to_keep,
    "pullPrincipals": checks.each(aws_limits.principal_or_account),
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
    "logKmsKeyArn": checks.optional(aws_limits.kms_key_arn),
    "certificateArn": checks.optional(aws_limits.acm_certificate_arn),
    "domainName": checks.optional(domain_limits.domain_name),
    "hostedZoneId": checks.optional(domain_limits.hosted_zone_id),
    "cpuTargetPercent": aws_limits.cpu_target_percent,
    "requestsPerTarget": aws_limits.requests_per_target,
    "environment": container.environment(RESERVED_ENVIRONMENT),
    "secrets": container.secrets(RESERVED_ENVIRONMENT),
    "hostRootVolumeGiB": aws_limits.root_volume,
    "hostAllowedCidrs": aws_limits.ingress_cidrs,
    "tags": aws_limits.tags(reserved=STACK_TAGS),
}
# Rules that read other keys: (key, the keys it reads, the rule made from their values). `aws:region` is the
# stack's region. Skipped when one of those keys is itself bad, so one mistake is reported once, on its key.
COMBINED: list[tuple[str, tuple[str, ...], Callable[..., checks.Rule]]] = [
    ("memory", ("cpu",), aws_limits.fargate_memory),
    ("maxCount", ("minCount",), lambda low: checks.at_least(low, "minCount")),
    ("desiredCount", ("minCount", "maxCount"), aws_limits.count_between),
    ("healthCheckTimeoutSeconds", ("healthCheckIntervalSeconds",), aws_limits.health_check_timeout_below),
    ("natGateways", ("vpcEndpoints",), aws_limits.nat_needs_endpoints),
    ("existingPublicSubnetIds", ("existingVpcId",), aws_limits.subnets_of_vpc),
    ("existingPrivateSubnetIds", ("existingVpcId",), aws_limits.subnets_of_vpc),
    ("certificateArn", ("allowHttpWithoutCertificate", "domainName"), aws_limits.certificate_or_http),
    ("certificateArn", ("domainName",), domain_limits.one_certificate_source),
    ("hostedZoneId", ("domainName",), lambda domain: domain_limits.together_with(domain, "domainName", "hostedZoneId")),
    ("certificateArn", ("aws:region",), lambda region: _optional(aws_limits.arn_in(region, "the certificate"))),
    ("repositoryKmsKeyArn", ("aws:region",), lambda region: _optional(aws_limits.arn_in(region, "the KMS key"))),
    ("logKmsKeyArn", ("aws:region",), lambda region: _optional(aws_limits.arn_in(region, "the KMS key"))),
    ("logKmsKeyArn", ("createLogKmsKey",), aws_limits.one_log_key_source),
    ("availabilityZones", ("aws:region",), aws_limits.availability_zones_in),
    ("pullPrincipals", ("aws:region",), aws_limits.principals_in),
    ("pullPrincipals", (), lambda: registry.repository_policy_size),
    ("secrets", ("environment",), container.not_in_environment),
    ("environment", ("secrets",), container.task_definition_size),
    ("hostInstanceType", ("architecture",), aws_limits.instance_type),
]


def _optional(rule: checks.Rule) -> checks.Rule:
    return checks.optional(rule)
