"""The web service: the image on ECS Fargate in private subnets, behind an Application Load Balancer.

Cluster (Container Insights, FARGATE and FARGATE_SPOT), log group, separate execution and task roles,
task definition (non-root, read-only root filesystem, awslogs, container health check), target group
tuned for quick rollouts, listeners (HTTPS with a modern TLS policy, HTTP only redirecting), the service
(no public IP, circuit breaker with rollback) and autoscaling on CPU and on requests per target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam
from components.settings import ServiceSettings

CONTAINER_NAME = "web"
APP_USER = "10001"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
RUNTIME_ARCHITECTURES = {"x86_64": "X86_64", "arm64": "ARM64"}
# Container health check (AWS_FACTS.md: interval 5-300, timeout 2-60, retries 1-10, startPeriod 0-300).
CONTAINER_HEALTH = {"interval": 15, "timeout": 5, "retries": 3, "startPeriod": 10}


def health_check_command(port: int, path: str) -> list[str]:
    """Slim images have no curl: ask /health with the Python that runs the app."""
    script = (
        "import sys, urllib.request; "
        f"sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=3).status == 200 else 1)"
    )
    return ["CMD", "python", "-c", script]


def container_definition(
    *,
    settings: ServiceSettings,
    image: str,
    region: str,
    log_group: str,
    environment: Mapping[str, str],
) -> dict[str, Any]:
    """The one container of the task, as ECS's RegisterTaskDefinition expects it (camelCase)."""
    return {
        "name": CONTAINER_NAME,
        "image": image,
        "essential": True,
        "user": APP_USER,
        "readonlyRootFilesystem": True,
        "portMappings": [
            {"containerPort": settings.container_port, "protocol": "tcp", "name": "http", "appProtocol": "http"}
        ],
        "environment": [{"name": name, "value": value} for name, value in sorted(environment.items())],
        "secrets": [{"name": name, "valueFrom": arn} for name, arn in settings.secrets],
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
        "healthCheck": {
            "command": health_check_command(settings.container_port, settings.health_check.path),
            **CONTAINER_HEALTH,
        },
        "stopTimeout": settings.stop_timeout_seconds,
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
    }


@dataclass(frozen=True, kw_only=True)
class WebServiceArgs:
    settings: ServiceSettings
    """Task size, counts, ports, health checks, listeners, logging, scaling (components/settings.py)."""
    prefix: str
    """Short physical-name prefix (`<project>-<stack>`) for the load balancer and the task family."""
    region: str
    account_id: pulumi.Input[str]
    """The deploying account, for trust-policy conditions."""
    architecture: str
    """`x86_64` or `arm64`; the image must be built for the same platform."""
    vpc_id: pulumi.Input[str]
    public_subnet_ids: pulumi.Input[list[str]]
    """At least two, in different AZs: the load balancer lives here."""
    private_subnet_ids: pulumi.Input[list[str]]
    """The tasks live here, without public IPs."""
    load_balancer_security_group_id: pulumi.Input[str]
    app_security_group_id: pulumi.Input[str]
    image_reference: pulumi.Input[str]
    """Digest-pinned image (`repository@sha256:...`)."""
    repository_arn: pulumi.Input[str]
    """The execution role may pull from this repository only."""
    app_version: pulumi.Input[str]
    """Shown by the app in its responses (the image's content tag)."""
    counter_table_name: pulumi.Input[str] | None = None
    """The visit-counter table; None: the app counts in memory. Default None."""
    counter_table_arn: pulumi.Input[str] | None = None
    """The task role may read and update this table only. Default None."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags for this service's resources; stack-wide tags come from the provider. Default: none."""

    def __post_init__(self) -> None:
        if self.architecture not in RUNTIME_ARCHITECTURES:
            raise ValueError(
                f"WebServiceArgs.architecture = {self.architecture!r}: "
                f"must be one of {', '.join(RUNTIME_ARCHITECTURES)}"
            )
        if len(f"{self.prefix}-alb") > 32:
            raise ValueError(f"WebServiceArgs.prefix = {self.prefix!r}: load balancer names allow 32 characters")
        if (self.counter_table_name is None) != (self.counter_table_arn is None):
            raise ValueError("WebServiceArgs.counter_table_name and counter_table_arn are given together or not at all")


class WebService(pulumi.ComponentResource):
    """The app as a Fargate service behind an Application Load Balancer."""

    url: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    load_balancer_dns_name: pulumi.Output[str]

    def __init__(self, name: str, args: WebServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipshape:web_service:WebService", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags) or None

        # Container Insights for per-task metrics; FARGATE and FARGATE_SPOT must be associated before use.
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enhanced")],
            tags=tags,
            opts=child,
        )
        capacity = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity",
            cluster_name=cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider=settings.capacity_provider, weight=1
                )
            ],
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/{args.prefix.replace('-', '/', 1)}/{name}",
            retention_in_days=settings.log_retention_days,
            kms_key_id=settings.log_kms_key_arn,
            tags=tags,
            opts=child,
        )

        execution_role, task_role = self._roles(name, args, log_group, child)

        environment = {
            "PORT": str(settings.container_port),
            "WEB_CONCURRENCY": str(settings.web_concurrency),
            "GRACEFUL_TIMEOUT": str(settings.graceful_timeout_seconds),
            "AWS_REGION": args.region,
            **dict(settings.environment),
        }
        container = pulumi.Output.all(
            image=args.image_reference,
            log_group=log_group.name,
            version=args.app_version,
            table=args.counter_table_name or "",
        ).apply(
            lambda values: container_definition(
                settings=settings,
                image=values["image"],
                region=args.region,
                log_group=values["log_group"],
                environment={
                    **environment,
                    "APP_VERSION": values["version"],
                    **({"COUNTER_TABLE": values["table"]} if values["table"] else {}),
                },
            )
        )
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=f"{args.prefix}-{name}",
            cpu=str(settings.cpu),
            memory=str(settings.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                cpu_architecture=RUNTIME_ARCHITECTURES[args.architecture], operating_system_family="LINUX"
            ),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            container_definitions=pulumi.Output.json_dumps([container]),
            # The root filesystem is read-only; /tmp is the one writable place.
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name="tmp")],
            tags=tags,
            opts=child,
        )

        load_balancer, target_group, listeners = self._load_balancer(name, args, child, tags)

        service = aws.ecs.Service(
            f"{name}-service",
            cluster=cluster.arn,
            task_definition=task_definition.arn,
            desired_count=settings.desired_count,
            capacity_provider_strategies=[
                aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider=settings.capacity_provider, weight=1)
            ],
            platform_version="1.4.0",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=args.private_subnet_ids,
                security_groups=[args.app_security_group_id],
                assign_public_ip=False,
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=target_group.arn,
                    container_name=CONTAINER_NAME,
                    container_port=settings.container_port,
                )
            ],
            # New tasks start before old ones stop; a rollout that never gets healthy rolls itself back.
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            health_check_grace_period_seconds=settings.health_check_grace_period_seconds,
            enable_execute_command=settings.enable_execute_command,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            tags=tags,
            # Autoscaling owns the running count once the service exists.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[capacity, *listeners], ignore_changes=["desiredCount"]
            ),
        )

        self._autoscaling(name, settings, cluster, service, load_balancer, target_group, child)

        scheme = "https" if settings.https else "http"
        self.url = pulumi.Output.concat(scheme, "://", load_balancer.dns_name)
        self.cluster_name = cluster.name
        self.service_name = service.name
        self.log_group_name = log_group.name
        self.load_balancer_dns_name = load_balancer.dns_name
        self.register_outputs(
            {
                "url": self.url,
                "clusterName": self.cluster_name,
                "serviceName": self.service_name,
                "logGroupName": self.log_group_name,
            }
        )

    def _roles(
        self, name: str, args: WebServiceArgs, log_group: aws.cloudwatch.LogGroup, child: pulumi.ResourceOptions
    ) -> tuple[aws.iam.Role, aws.iam.Role]:
        """Execution role (pull, logs, named secrets) and task role (the app: the counter table only)."""
        settings = args.settings
        trust = iam.assume_role_policy("ecs-tasks.amazonaws.com", account_id=args.account_id)
        execution_role = aws.iam.Role(
            f"{name}-execution",
            assume_role_policy=trust,
            description="ECS pulls the image, writes the logs and reads the named secrets",
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-execution",
            role=execution_role.id,
            policy=iam.policy_json(
                [
                    *iam.ecr_pull_statements(args.repository_arn),
                    *iam.log_write_statements(log_group.arn),
                    *iam.secret_read_statements([arn for _name, arn in settings.secrets]),
                ]
            ),
            opts=child,
        )
        task_role = aws.iam.Role(
            f"{name}-task",
            assume_role_policy=trust,
            description="What the app itself may do: count visits in its table",
            opts=child,
        )
        if args.counter_table_arn is not None:
            aws.iam.RolePolicy(
                f"{name}-task",
                role=task_role.id,
                policy=iam.policy_json(iam.counter_table_statements(args.counter_table_arn)),
                opts=child,
            )
        return execution_role, task_role

    def _load_balancer(
        self, name: str, args: WebServiceArgs, child: pulumi.ResourceOptions, tags: dict[str, str] | None
    ) -> tuple[aws.lb.LoadBalancer, aws.lb.TargetGroup, list[aws.lb.Listener]]:
        settings = args.settings
        access_logs = None
        if settings.access_logs:
            bucket = self._access_log_bucket(name, args, child)
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(bucket=bucket.bucket, enabled=True, prefix=name)
        load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=f"{args.prefix}-alb",
            load_balancer_type="application",
            internal=False,
            security_groups=[args.load_balancer_security_group_id],
            subnets=args.public_subnet_ids,
            drop_invalid_header_fields=True,
            enable_deletion_protection=settings.deletion_protection,
            desync_mitigation_mode="strictest",
            access_logs=access_logs,
            tags=tags,
            opts=child,
        )
        health = settings.health_check
        # ip targets for awsvpc tasks; a short drain so rollouts don't wait AWS's default 300 s.
        target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            name_prefix="web-",
            target_type="ip",
            protocol="HTTP",
            port=settings.container_port,
            vpc_id=args.vpc_id,
            deregistration_delay=settings.deregistration_delay_seconds,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=health.path,
                protocol="HTTP",
                port="traffic-port",
                matcher="200",
                interval=health.interval_seconds,
                timeout=health.timeout_seconds,
                healthy_threshold=health.healthy_threshold,
                unhealthy_threshold=health.unhealthy_threshold,
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )
        forward = [aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)]
        if settings.https:
            listeners = [
                aws.lb.Listener(
                    f"{name}-https",
                    load_balancer_arn=load_balancer.arn,
                    port=443,
                    protocol="HTTPS",
                    ssl_policy=TLS_POLICY,
                    certificate_arn=settings.certificate_arn,
                    default_actions=forward,
                    opts=child,
                ),
                aws.lb.Listener(
                    f"{name}-http",
                    load_balancer_arn=load_balancer.arn,
                    port=80,
                    protocol="HTTP",
                    default_actions=[
                        aws.lb.ListenerDefaultActionArgs(
                            type="redirect",
                            redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                                protocol="HTTPS", port="443", status_code="HTTP_301"
                            ),
                        )
                    ],
                    opts=child,
                ),
            ]
        else:
            # dev only (allowHttpWithoutCertificate): plain HTTP, reported by the pack as an advisory.
            listeners = [
                aws.lb.Listener(
                    f"{name}-http",
                    load_balancer_arn=load_balancer.arn,
                    port=80,
                    protocol="HTTP",
                    default_actions=forward,
                    opts=child,
                )
            ]
        return load_balancer, target_group, listeners

    def _access_log_bucket(self, name: str, args: WebServiceArgs, child: pulumi.ResourceOptions) -> aws.s3.Bucket:
        """A private, encrypted bucket the region's ELB log delivery may write to, and nothing else."""
        bucket = aws.s3.Bucket(f"{name}-access-logs", force_destroy=not args.settings.deletion_protection, opts=child)
        aws.s3.BucketPublicAccessBlock(
            f"{name}-access-logs",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-access-logs",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        # ALB access logs support SSE-S3 only.
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-access-logs",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-access-logs",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=365),
                )
            ],
            opts=child,
        )
        elb_account = aws.elb.get_service_account_output()
        aws.s3.BucketPolicy(
            f"{name}-access-logs",
            bucket=bucket.id,
            policy=iam.policy_json(
                [
                    {
                        "Sid": "ElbLogDelivery",
                        "Effect": "Allow",
                        "Principal": {"AWS": elb_account.arn},
                        "Action": "s3:PutObject",
                        "Resource": pulumi.Output.concat(
                            bucket.arn, f"/{name}/AWSLogs/", pulumi.Output.from_input(args.account_id), "/*"
                        ),
                    },
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ]
            ),
            opts=child,
        )
        return bucket

    def _autoscaling(
        self,
        name: str,
        settings: ServiceSettings,
        cluster: aws.ecs.Cluster,
        service: aws.ecs.Service,
        load_balancer: aws.lb.LoadBalancer,
        target_group: aws.lb.TargetGroup,
        child: pulumi.ResourceOptions,
    ) -> None:
        target = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster.name, "/", service.name),
            min_capacity=settings.min_count,
            max_capacity=settings.max_count,
            opts=child,
        )
        common = {
            "service_namespace": target.service_namespace,
            "scalable_dimension": target.scalable_dimension,
            "resource_id": target.resource_id,
            "policy_type": "TargetTrackingScaling",
        }
        aws.appautoscaling.Policy(
            f"{name}-cpu",
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=settings.cpu_target_percent,
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ECSServiceAverageCPUUtilization"
                ),
                scale_in_cooldown=120,
                scale_out_cooldown=30,
            ),
            opts=child,
            **common,
        )
        aws.appautoscaling.Policy(
            f"{name}-requests",
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=settings.requests_per_target,
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ALBRequestCountPerTarget",
                    resource_label=pulumi.Output.concat(load_balancer.arn_suffix, "/", target_group.arn_suffix),
                ),
                scale_in_cooldown=120,
                scale_out_cooldown=30,
            ),
            opts=child,
            **common,
        )


def describe_rollout(settings: ServiceSettings) -> dict[str, int]:
    """Seconds a task replacement spends in the load balancer with these settings (README's rollout table)."""
    health = settings.health_check
    return {
        "healthy_after_seconds": health.interval_seconds * health.healthy_threshold,
        "drain_seconds": settings.deregistration_delay_seconds,
        "total_seconds": health.interval_seconds * health.healthy_threshold + settings.deregistration_delay_seconds,
    }
