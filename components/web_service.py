"""The web service: the image on ECS Fargate in private subnets, behind an Application Load Balancer.

Cluster (Container Insights, FARGATE and FARGATE_SPOT), log group, separate execution and task roles,
task definition (non-root, read-only root filesystem, awslogs, container health check), target group
tuned for quick rollouts, listeners (HTTPS with a modern TLS policy, HTTP only redirecting), the service
(no public IP, circuit breaker with rollback) and autoscaling on CPU and on requests per target.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

import components.aws_limits as aws_limits
import components.iam as iam
from components.access_logs import access_log_bucket
from components.autoscaling import autoscaling
from components.container import (
    CONTAINER_NAME,
    SERVER_IDLE_SECONDS,
    container_definition,
    graceful_timeout,
    web_concurrency,
)
from components.domain import issued_certificate
from components.web_service_args import WebServiceArgs

__all__ = ["WebService", "WebServiceArgs", "describe_rollout"]

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


class WebService(pulumi.ComponentResource):
    """The app as a Fargate service behind an Application Load Balancer."""

    url: pulumi.Output[str]
    """`https://` (or, without a certificate, `http://`) and the load balancer's DNS name."""
    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    load_balancer_dns_name: pulumi.Output[str]

    def __init__(self, name: str, args: WebServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipshape:web_service:WebService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags) or None
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = args.region if args.region is not None else aws.get_region_output(opts=invoke).region
        account_id = (
            args.account_id if args.account_id is not None else aws.get_caller_identity_output(opts=invoke).account_id
        )

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
                    capacity_provider=args.capacity_provider, weight=1
                )
            ],
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=args.log_group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=self._log_key(name, args, region, account_id, child, tags),
            tags=tags,
            opts=child,
        )

        execution_role, task_role = self._roles(name, args, account_id, log_group, child)

        environment = {
            "PORT": str(args.container_port),
            "WEB_CONCURRENCY": str(web_concurrency(args.cpu)),
            "GRACEFUL_TIMEOUT": str(graceful_timeout(args.stop_timeout_seconds)),
            "HEADER_TIMEOUT": str(SERVER_IDLE_SECONDS),
        }
        container = pulumi.Output.all(
            image=args.image,
            log_group=log_group.name,
            region=region,
            version=args.app_version or "",
            table=args.counter_table_name or "",
            extra=pulumi.Output.from_input(dict(args.environment)),
            secrets=pulumi.Output.from_input(dict(args.secrets)),
        ).apply(
            lambda values: container_definition(
                image=values["image"],
                port=args.container_port,
                health_check_path=args.health_check_path,
                stop_timeout_seconds=args.stop_timeout_seconds,
                region=values["region"],
                log_group=values["log_group"],
                environment={
                    **environment,
                    "AWS_REGION": values["region"],
                    **values["extra"],
                    **({"APP_VERSION": values["version"]} if values["version"] else {}),
                    **({"COUNTER_TABLE": values["table"]} if values["table"] else {}),
                },
                secrets=values["secrets"],
            )
        )
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=args.task_family or f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}",
            cpu=str(args.cpu),
            memory=str(args.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                cpu_architecture=aws_limits.RUNTIME_ARCHITECTURES[args.architecture], operating_system_family="LINUX"
            ),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            container_definitions=pulumi.Output.json_dumps([container]),
            # The root filesystem is read-only; /tmp is the one writable place.
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name="tmp")],
            tags=tags,
            opts=child,
        )

        load_balancer, target_group, listeners = self._load_balancer(name, args, account_id, child, tags)

        service = aws.ecs.Service(
            f"{name}-service",
            cluster=cluster.arn,
            task_definition=task_definition.arn,
            desired_count=args.desired_count,
            capacity_provider_strategies=[
                aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider=args.capacity_provider, weight=1)
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
                    container_port=args.container_port,
                )
            ],
            # New tasks start before old ones stop; a rollout that never gets healthy rolls itself back.
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            health_check_grace_period_seconds=args.health_check_grace_period_seconds,
            enable_execute_command=args.enable_execute_command,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            tags=tags,
            # Autoscaling owns the running count once the service exists.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[capacity, *listeners], ignore_changes=["desiredCount"]
            ),
        )

        autoscaling(name, args, cluster, service, load_balancer, target_group, child)

        scheme = "https" if args.https else "http"
        host = args.domain_name if args.domain_name is not None else load_balancer.dns_name
        self.url = pulumi.Output.concat(scheme, "://", host)
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

    @staticmethod
    def _log_key(
        name: str,
        args: WebServiceArgs,
        region: pulumi.Input[str],
        account_id: pulumi.Input[str],
        child: pulumi.ResourceOptions,
        tags: dict[str, pulumi.Input[str]] | None,
    ) -> pulumi.Input[str] | None:
        """The log group's KMS key: created here with the policy CloudWatch Logs needs, or brought (then the
        preview says which statement its policy needs: CloudWatch Logs refuses a key it may not use)."""
        if not args.create_log_kms_key and args.log_kms_key_arn is None:
            return None
        partition = pulumi.Output.from_input(region).apply(aws_limits.partition_of)
        log_group_arn = pulumi.Output.concat(
            "arn:", partition, ":logs:", region, ":", account_id, ":log-group:", args.log_group_name or "*"
        )
        statement = iam.log_key_statement(region, log_group_arn)
        if not args.create_log_kms_key:
            pulumi.Output.json_dumps(statement).apply(
                lambda text: pulumi.log.warn(
                    "logKmsKeyArn: CloudWatch Logs encrypts the log group only if the key's policy holds this "
                    f"statement (CloudWatch Logs guide, 'Encrypt log data using AWS KMS'): {text}"
                )
            )
            return args.log_kms_key_arn
        root = pulumi.Output.concat("arn:", partition, ":iam::", account_id, ":root")
        key = aws.kms.Key(
            f"{name}-logs-key",
            description="Encrypts the service's log group; CloudWatch Logs may use it for that group only",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=iam.policy_json([iam.key_admin_statement(root), statement]),
            tags=tags,
            opts=child,
        )
        return key.arn

    def _roles(
        self,
        name: str,
        args: WebServiceArgs,
        account_id: pulumi.Input[str],
        log_group: aws.cloudwatch.LogGroup,
        child: pulumi.ResourceOptions,
    ) -> tuple[aws.iam.Role, aws.iam.Role]:
        """Execution role (pull, logs, named secrets) and task role (the app: the counter table only)."""
        trust = iam.assume_role_policy("ecs-tasks.amazonaws.com", account_id=account_id)
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
                    *(iam.ecr_pull_statements(args.repository_arn) if args.repository_arn is not None else []),
                    *iam.log_write_statements(log_group.arn),
                    *iam.secret_read_statements(list(args.secrets.values())),
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
        self,
        name: str,
        args: WebServiceArgs,
        account_id: pulumi.Input[str],
        child: pulumi.ResourceOptions,
        tags: dict[str, pulumi.Input[str]] | None,
    ) -> tuple[aws.lb.LoadBalancer, aws.lb.TargetGroup, list[aws.lb.Listener]]:
        access_logs = None
        alb_opts = child
        if args.access_logs:
            bucket, ready = access_log_bucket(
                name, account_id=account_id, force_destroy=not args.deletion_protection, parent=self
            )
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(bucket=bucket.bucket, enabled=True, prefix=name)
            alb_opts = pulumi.ResourceOptions(parent=self, depends_on=ready)
        load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=args.load_balancer_name,
            load_balancer_type="application",
            internal=False,
            security_groups=[args.load_balancer_security_group_id],
            subnets=args.public_subnet_ids,
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.deletion_protection,
            desync_mitigation_mode="strictest",
            idle_timeout=args.load_balancer_idle_timeout_seconds,
            access_logs=access_logs,
            tags=tags,
            opts=alb_opts,
        )
        # ip targets for awsvpc tasks; a short drain so rollouts don't wait AWS's default 300 s.
        target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            name_prefix="web-",
            target_type="ip",
            protocol="HTTP",
            port=args.container_port,
            vpc_id=args.vpc_id,
            deregistration_delay=args.deregistration_delay_seconds,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=args.health_check_path,
                protocol="HTTP",
                port="traffic-port",
                matcher="200",
                interval=args.health_check_interval_seconds,
                timeout=args.health_check_timeout_seconds,
                healthy_threshold=args.healthy_threshold,
                unhealthy_threshold=args.unhealthy_threshold,
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )
        forward = [aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)]
        certificate_arn = args.certificate_arn
        if args.domain_name is not None:
            certificate_arn = issued_certificate(name, args, load_balancer, child, tags)
        if args.https:
            listeners = [
                aws.lb.Listener(
                    f"{name}-https",
                    load_balancer_arn=load_balancer.arn,
                    port=443,
                    protocol="HTTPS",
                    ssl_policy=TLS_POLICY,
                    certificate_arn=certificate_arn,
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
            # dev only (allow_http_without_certificate): plain HTTP, reported by the pack as an advisory.
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


def describe_rollout(args: WebServiceArgs) -> dict[str, int]:
    """Seconds a task replacement spends in the load balancer with these Args (README's rollout table)."""
    healthy_after = args.health_check_interval_seconds * args.healthy_threshold
    return {
        "healthy_after_seconds": healthy_after,
        "drain_seconds": args.deregistration_delay_seconds,
        "total_seconds": healthy_after + args.deregistration_delay_seconds,
    }
