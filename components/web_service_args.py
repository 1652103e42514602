"""WebServiceArgs: everything a WebService takes, documented with its default, checked against AWS's limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

import components.aws_limits as aws_limits
import components.checks as checks
import components.container as container
import components.domain_limits as domain_limits
from components.container import RESERVED_ENVIRONMENT


@dataclass(frozen=True, kw_only=True)
class WebServiceArgs:
    # --- where it runs (required) ---
    vpc_id: pulumi.Input[str]
    """The VPC of the target group. Required."""
    public_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """At least two subnets in different AZs: the load balancer lives here. Required."""
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The tasks live here, without public IPs (with NAT or VPC endpoints to reach AWS). Required."""
    load_balancer_security_group_id: pulumi.Input[str]
    """The load balancer's security group (listener ports in, the app port out). Required."""
    app_security_group_id: pulumi.Input[str]
    """The tasks' security group (the app port from the load balancer only). Required."""
    image: pulumi.Input[str]
    """The image to run, best pinned by digest (`repository@sha256:...`). Required."""
    certificate_arn: pulumi.Input[str] | None
    """ACM certificate of the HTTPS listener (port 80 then only redirects), brought by you. Required: None
    issues one for domain_name, or serves plain HTTP, which allow_http_without_certificate must then allow."""
    domain_name: str | None = None
    """The site's DNS name: the service issues a DNS-validated ACM certificate for it (validation records in
    hosted_zone_id) and points an alias A record at the load balancer, as AWS Copilot does. Not with
    certificate_arn. Default None."""
    hosted_zone_id: pulumi.Input[str] | None = None
    """The Route 53 public hosted zone holding domain_name; given with it. Default None."""
    # --- the task ---
    architecture: str = "x86_64"
    """`x86_64` or `arm64`; the image must be built for the same platform. Default x86_64."""
    cpu: int = 256
    """Fargate task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384. Default 256."""
    memory: int = 512
    """Fargate task memory in MiB, one of the sizes Fargate allows for `cpu`. Default 512."""
    container_port: int = 8000
    """The port the app listens on inside the container (1024-65535: it runs without root). Default 8000."""
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Extra plain environment variables for the app (never secrets: use `secrets`). Default: none."""
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Environment variables read at start from a Secrets Manager secret or SSM parameter ARN; the execution
    role may read exactly these. Default: none."""
    app_version: pulumi.Input[str] | None = None
    """Shown by the app in its responses (the image's content tag). Default None: the app says "dev"."""
    stop_timeout_seconds: int = 30
    """Seconds ECS waits after SIGTERM before SIGKILL (10-120); the app server drains within 5 s less.
    Default 30."""
    log_retention_days: int = 90
    """CloudWatch Logs retention of the service's log group (a value CloudWatch accepts). Default 90."""
    log_kms_key_arn: pulumi.Input[str] | None = None
    """KMS key that encrypts the log group, brought by you: its key policy must allow CloudWatch Logs for this log
    group (the preview warns with the statement, `log_key_statement`). Default None: CloudWatch Logs' own
    encryption."""
    create_log_kms_key: bool = False
    """Create a KMS key (rotation on) for the log group, with the key policy CloudWatch Logs needs for this log
    group only. Not with log_kms_key_arn; needs log_group_name (the policy names the group). Default False."""
    log_group_name: pulumi.Input[str] | None = None
    """The log group's name. Default None: Pulumi names it after the component."""
    task_family: str | None = None
    """The task definition family. Default None: `<project>-<stack>-<component name>`."""
    counter_table_name: pulumi.Input[str] | None = None
    """The visit-counter table, given with counter_table_arn. Default None: the app counts in memory."""
    counter_table_arn: pulumi.Input[str] | None = None
    """The task role may read and update this table only. Default None."""
    repository_arn: pulumi.Input[str] | None = None
    """The ECR repository of the image: the execution role may pull from it only. Default None: no ECR grant
    (an image the execution role can pull without one)."""
    region: pulumi.Input[str] | None = None
    """The region, for the awslogs driver and the app's AWS_REGION. Default None: the provider's region."""
    account_id: pulumi.Input[str] | None = None
    """The deploying account, for trust-policy conditions. Default None: the caller identity's account."""
    # --- the service and its scaling ---
    capacity_provider: str = "FARGATE"
    """`FARGATE` (on demand) or `FARGATE_SPOT` (cheaper, two-minute interruption notice). Default FARGATE."""
    desired_count: int = 2
    """Tasks running after a deployment, between min_count and max_count. Default 2."""
    min_count: int = 2
    """Autoscaling lower bound (1 or more). Default 2."""
    max_count: int = 6
    """Autoscaling upper bound (at least min_count). Default 6."""
    cpu_target_percent: int = 60
    """Target average CPU utilisation for autoscaling (10-90). Default 60."""
    requests_per_target: int = 1000
    """Target load balancer requests per task per minute for autoscaling (1 or more). Default 1000."""
    enable_execute_command: bool = False
    """Allow ECS Exec into running tasks (no shell into production by default). Default False."""
    health_check_grace_period_seconds: int = 30
    """Seconds ECS ignores failing load balancer health checks after a task starts (0-3600). Default 30."""
    # --- the load balancer ---
    health_check_path: str = "/health"
    """Path the target group and the container health check request (ASCII URL path). Default /health."""
    health_check_interval_seconds: int = 10
    """Target group health check interval (5-300 s). Default 10."""
    health_check_timeout_seconds: int = 5
    """Target group health check timeout (2-120 s, less than the interval). Default 5."""
    healthy_threshold: int = 2
    """Consecutive successes before a target is healthy (2-10). Default 2."""
    unhealthy_threshold: int = 3
    """Consecutive failures before a target is unhealthy (2-10). Default 3."""
    deregistration_delay_seconds: int = 30
    """Seconds the load balancer drains a target before removing it (0-3600; AWS's own is 300). Default 30."""
    allow_http_without_certificate: bool = False
    """Serve plain HTTP when certificate_arn is None (dev only). Default False."""
    deletion_protection: bool = True
    """Protect the load balancer from deletion (and keep the access log bucket's objects). Default True."""
    access_logs: bool = True
    """Write the load balancer's access logs to a private, encrypted S3 bucket. Default True."""
    load_balancer_idle_timeout_seconds: int = 50
    """Seconds the load balancer keeps an idle connection open (1-59). AWS asks for the target's keep-alive to
    outlast it, or a request can meet the target's close and become a 502; the app server closes connections
    idle for 60 s (container.SERVER_IDLE_SECONDS), so the load balancer must close first. Default 50 (AWS's
    own is 60)."""
    load_balancer_name: pulumi.Input[str] | None = None
    """The load balancer's name (at most 32 letters, digits and hyphens). Default None: Pulumi names it."""
    tags: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Extra tags for this service's resources; stack-wide tags come from the provider. Default: none."""

    def __post_init__(self) -> None:
        validate_web_service_args(self)

    @property
    def https(self) -> bool:
        return self.certificate_arn is not None or self.domain_name is not None


def validate_web_service_args(args: WebServiceArgs) -> None:
    """Every plain value against AWS's limits; ArgsError names the first bad field."""
    owner = type(args).__name__
    checks.check_fields(
        args,
        {
            "architecture": aws_limits.architecture,
            "cpu": aws_limits.fargate_cpu,
            "memory": aws_limits.fargate_memory(args.cpu),
            "container_port": aws_limits.port,
            "stop_timeout_seconds": aws_limits.stop_timeout,
            "log_retention_days": aws_limits.log_retention,
            "log_kms_key_arn": aws_limits.kms_key_arn,
            "certificate_arn": aws_limits.acm_certificate_arn,
            "domain_name": domain_limits.domain_name,
            "hosted_zone_id": domain_limits.hosted_zone_id,
            "capacity_provider": aws_limits.capacity_provider,
            "min_count": aws_limits.task_count,
            "max_count": checks.at_least(args.min_count, "min_count"),
            "desired_count": aws_limits.count_between(args.min_count, args.max_count),
            "cpu_target_percent": aws_limits.cpu_target_percent,
            "requests_per_target": aws_limits.requests_per_target,
            "health_check_grace_period_seconds": aws_limits.grace_period,
            "health_check_path": aws_limits.health_path,
            "health_check_interval_seconds": aws_limits.health_check_interval,
            "health_check_timeout_seconds": aws_limits.health_check_timeout_below(args.health_check_interval_seconds),
            "healthy_threshold": aws_limits.health_check_threshold,
            "unhealthy_threshold": aws_limits.health_check_threshold,
            "deregistration_delay_seconds": aws_limits.deregistration_delay,
            "load_balancer_name": aws_limits.load_balancer_name,
            "load_balancer_idle_timeout_seconds": container.load_balancer_idle_timeout,
            "environment": container.environment(RESERVED_ENVIRONMENT),
        },
    )
    # Two rules for one field: a dict cannot hold both.
    checks.check(owner, "secrets", args.secrets, container.secrets(RESERVED_ENVIRONMENT))
    checks.check(owner, "secrets", args.secrets, container.not_in_environment(args.environment))
    # None is the failing value here, which `check` would skip as "not given".
    reason = aws_limits.certificate_or_http(args.allow_http_without_certificate, args.domain_name)(
        args.certificate_arn
    ) or domain_limits.one_certificate_source(args.domain_name)(args.certificate_arn)
    if reason is not None:
        raise checks.ArgsError(owner, "certificate_arn", _shown(args.certificate_arn), reason)
    if (reason := aws_limits.one_log_key_source(args.create_log_kms_key)(args.log_kms_key_arn)) is not None:
        raise checks.ArgsError(owner, "log_kms_key_arn", _shown(args.log_kms_key_arn), reason)
    if args.create_log_kms_key and args.log_group_name is None:
        raise checks.ArgsError(
            owner, "log_group_name", None, "create_log_kms_key needs the log group's name: its key policy names it"
        )
    zone_rule = domain_limits.together_with(args.domain_name, "domain_name", "hosted_zone_id")
    if (reason := zone_rule(args.hosted_zone_id)) is not None:
        raise checks.ArgsError(owner, "hosted_zone_id", _shown(args.hosted_zone_id), reason)
    if (args.counter_table_name is None) != (args.counter_table_arn is None):
        raise checks.ArgsError(
            owner, "counter_table_arn", args.counter_table_arn, "counter_table_name and counter_table_arn go together"
        )


def _shown(value: object) -> object:
    """The value an error may show: a plain one, not an Output's repr."""
    return value if checks.is_plain(value) else None
