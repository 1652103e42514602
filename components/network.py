"""The network: an awsx VPC (or an existing one), optional VPC endpoints and the shared security groups.

Security groups and endpoints are plain pulumi-aws resources on purpose: the policy pack and the offline
preview can see and judge them, and awsx's own groups open egress to everything by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

import components.aws_limits as aws_limits
import components.checks as checks
import components.iam as iam
from components.checks import is_plain
from components.egress import HTTPS, WORLD_V4, https_egress

HTTP = 80
# What tasks in private subnets reach without NAT (docs/aws-limits.md, Fargate networking).
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs")
GATEWAY_ENDPOINTS = ("s3", "dynamodb")


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    region: pulumi.Input[str]
    """The region the VPC is in, for the VPC endpoints' service names. Required."""
    cidr_block: pulumi.Input[str] = "10.0.0.0/16"
    """IPv4 range of the VPC created (a private /16 to /24). Default 10.0.0.0/16."""
    availability_zones: int = 2
    """Availability Zones the VPC spans (2-6; an ALB needs two). Default 2."""
    nat_gateways: str = "OnePerAz"
    """`OnePerAz` (resilient), `Single` (cheap) or `None` (then vpc_endpoints must be True). Default OnePerAz."""
    vpc_endpoints: bool = False
    """Interface (ecr.api, ecr.dkr, logs) and gateway (s3, dynamodb) endpoints, so tasks reach AWS without NAT.
    Default False."""
    existing_vpc_id: pulumi.Input[str] | None = None
    """Use this VPC instead of creating one; both subnet lists are then required. Default None: a new VPC."""
    existing_public_subnet_ids: Sequence[pulumi.Input[str]] = ()
    """With existing_vpc_id: public subnets in two or more AZs, for the load balancer. Default: none."""
    existing_private_subnet_ids: Sequence[pulumi.Input[str]] = ()
    """With existing_vpc_id: private subnets in two or more AZs, for tasks and hosts. Default: none."""
    app_port: int = 8000
    """The app's port: the only port the load balancer may reach tasks and hosts on (1024-65535). Default 8000."""
    listener_ports: Sequence[int] = (HTTPS, HTTP)
    """Ports the load balancer's group opens to the internet. Default (443, 80): HTTPS, and HTTP to redirect."""
    # --- what the endpoints' policies name (with vpc_endpoints) ---
    repository_arn: pulumi.Input[str] | None = None
    """The ECR repository the tasks pull from: the only one the ecr.api/ecr.dkr endpoints serve. Default None:
    those endpoints keep AWS's full-access policy."""
    log_group_arn: pulumi.Input[str] | None = None
    """The log group the tasks write to: the only one the logs endpoint serves. Default None: full access."""
    counter_table_arn: pulumi.Input[str] | None = None
    """The counter table: the only one the DynamoDB gateway serves. Default None: no DynamoDB endpoint."""
    secret_arns: Sequence[pulumi.Input[str]] = ()
    """The Secrets Manager secrets and SSM parameters the tasks read at start: secretsmanager and ssm endpoints
    serve exactly these (the tasks have no other way out). Default: none, no such endpoints."""
    host_enabled: bool = False
    """The EC2 host (ContainerHost) runs in the private subnets too. With vpc_endpoints it gets an endpoint for
    each AWS call its bootstrap and agents make: ssm and ssmmessages for Session Manager, its own
    ssm:GetParameter on the named parameters, and Amazon Linux 2023's package repository in the S3 gateway's
    policy. Default False."""

    def __post_init__(self) -> None:
        owner = type(self).__name__
        checks.check_fields(
            self,
            {
                "cidr_block": aws_limits.vpc_cidr,
                "availability_zones": aws_limits.availability_zones,
                "nat_gateways": aws_limits.nat_strategy,
                "app_port": aws_limits.port,
                "listener_ports": aws_limits.listener_ports,
            },
        )
        checks.check(owner, "nat_gateways", self.nat_gateways, aws_limits.nat_needs_endpoints(self.vpc_endpoints))
        checks.check(owner, "existing_vpc_id", self.existing_vpc_id, aws_limits.vpc_id)
        vpc = self.existing_vpc_id if self.existing_vpc_id is None or is_plain(self.existing_vpc_id) else "pending"
        for field_name in ("existing_public_subnet_ids", "existing_private_subnet_ids"):
            subnets = list(getattr(self, field_name))
            checks.check(owner, field_name, subnets, aws_limits.subnets_of_vpc(vpc))
            checks.check(owner, field_name, subnets, checks.each(aws_limits.subnet_id))


class Network(pulumi.ComponentResource):
    """VPC with public and private subnets, and the load balancer's and the app's security groups."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    load_balancer_security_group_id: pulumi.Output[str]
    app_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipshape:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Invokes take the caller's explicit provider through their parent (pulumi/runtime/invoke.py uses the
        # parent's provider when none is given); without it a real plan gains a default provider.
        invoke = pulumi.InvokeOutputOptions(parent=self)

        if args.existing_vpc_id is not None:
            self.vpc_id = pulumi.Output.from_input(args.existing_vpc_id)
            self.public_subnet_ids = pulumi.Output.from_input(list(args.existing_public_subnet_ids))
            self.private_subnet_ids = pulumi.Output.from_input(list(args.existing_private_subnet_ids))
            vpc_cidr: pulumi.Output[str] = aws.ec2.get_vpc_output(id=args.existing_vpc_id, opts=invoke).cidr_block
        else:
            # Public subnets for the load balancer and NAT, private ones for tasks and the host.
            vpc = awsx.ec2.Vpc(
                f"{name}-vpc",
                cidr_block=args.cidr_block,
                number_of_availability_zones=args.availability_zones,
                enable_dns_hostnames=True,
                enable_dns_support=True,
                nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(
                    strategy=awsx.ec2.NatGatewayStrategy(args.nat_gateways)
                ),
                subnet_specs=[
                    awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC),
                    awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE),
                ],
                subnet_strategy=awsx.ec2.SubnetAllocationStrategy.AUTO,
                opts=child,
            )
            self.vpc_id = vpc.vpc_id
            self.public_subnet_ids = vpc.public_subnet_ids
            self.private_subnet_ids = vpc.private_subnet_ids
            vpc_cidr = pulumi.Output.from_input(args.cidr_block)

        # The load balancer's group: the world on the listener ports, and onward only to the app's group.
        self.load_balancer_security_group = aws.ec2.SecurityGroup(
            f"{name}-alb",
            vpc_id=self.vpc_id,
            description="Load balancer: HTTP(S) from the internet, app port to the tasks only",
            revoke_rules_on_delete=True,
            opts=child,
        )
        # The app's group: the app port from the load balancer only; out on 443 for ECR, logs and DynamoDB.
        self.app_security_group = aws.ec2.SecurityGroup(
            f"{name}-app",
            vpc_id=self.vpc_id,
            description="App tasks: app port from the load balancer only",
            revoke_rules_on_delete=True,
            opts=child,
        )
        alb_id = self.load_balancer_security_group.id
        app_id = self.app_security_group.id

        # The load balancer is IPv4 only (ip_address_type "ipv4", pulumi-aws's default): ::/0 would open nothing
        # it listens on, and would silently open it to the IPv6 internet once someone makes it dual-stack.
        for port in args.listener_ports:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-alb-in-{port}-v4",
                security_group_id=alb_id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=WORLD_V4,
                description="HTTPS from the internet" if port == HTTPS else "HTTP from the internet",
                opts=child,
            )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-out-app",
            security_group_id=alb_id,
            ip_protocol="tcp",
            from_port=args.app_port,
            to_port=args.app_port,
            referenced_security_group_id=app_id,
            description="To the app tasks on the app port",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-app-in-alb",
            security_group_id=app_id,
            ip_protocol="tcp",
            from_port=args.app_port,
            to_port=args.app_port,
            referenced_security_group_id=alb_id,
            description="App port from the load balancer",
            opts=child,
        )
        # With endpoints: the interface endpoints' group and each gateway service's prefix list (s3, dynamodb),
        # the only places the app's tasks, and a ContainerHost given these, send HTTPS to.
        self.endpoint_security_group_id: pulumi.Output[str] | None = None
        self.endpoint_prefix_list_ids: dict[str, pulumi.Output[str]] = {}
        if args.vpc_endpoints:
            self._endpoints(name, args, vpc_cidr, child)
        # With endpoints the tasks reach AWS through them only (secrets then need their own endpoints).
        https_egress(
            f"{name}-app",
            security_group_id=app_id,
            endpoint_security_group_id=self.endpoint_security_group_id,
            endpoint_prefix_list_ids=self.endpoint_prefix_list_ids,
            endpoints_description="HTTPS to the interface endpoints (ECR, CloudWatch Logs, named secrets)",
            world_description="HTTPS to AWS APIs (ECR, CloudWatch Logs, DynamoDB) through NAT",
            opts=child,
        )

        self.load_balancer_security_group_id = alb_id
        self.app_security_group_id = app_id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "loadBalancerSecurityGroupId": alb_id,
                "appSecurityGroupId": app_id,
            }
        )

    def _endpoints(
        self, name: str, args: NetworkArgs, vpc_cidr: pulumi.Output[str], child: pulumi.ResourceOptions
    ) -> None:
        """Private routes to ECR, S3 (image layers), CloudWatch Logs and DynamoDB (and, for the host, Systems
        Manager and the AL2023 repositories), each with a policy naming only this stack's repository, log
        group, table, secrets and the AWS-owned buckets they need."""
        region = args.region
        endpoint_group = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            vpc_id=self.vpc_id,
            description="Interface endpoints: HTTPS from inside the VPC",
            revoke_rules_on_delete=True,
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-in-https",
            security_group_id=endpoint_group.id,
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            cidr_ipv4=vpc_cidr,
            description="HTTPS from the VPC",
            opts=child,
        )
        self.endpoint_security_group_id = endpoint_group.id
        policies = endpoint_policies(args)
        for service in interface_services(args):
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=self.vpc_id,
                service_name=pulumi.Output.concat("com.amazonaws.", region, f".{service}"),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[endpoint_group.id],
                policy=policies.get(service),
                opts=child,
            )
        route_tables = aws.ec2.get_route_tables_output(
            vpc_id=self.vpc_id, opts=pulumi.InvokeOutputOptions(parent=self)
        ).ids
        # DynamoDB only for the counter table: without one nothing here calls it.
        for service in [s for s in GATEWAY_ENDPOINTS if s != "dynamodb" or args.counter_table_arn is not None]:
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-{service}",
                vpc_id=self.vpc_id,
                service_name=pulumi.Output.concat("com.amazonaws.", region, f".{service}"),
                vpc_endpoint_type="Gateway",
                route_table_ids=route_tables,
                policy=policies[service],
                opts=child,
            )
            # The AWS-managed prefix list of the service's addresses the gateway routes (com.amazonaws.<region>.s3).
            self.endpoint_prefix_list_ids[service] = endpoint.prefix_list_id


def ecr_layer_bucket_arn(region: pulumi.Input[str]) -> pulumi.Output[str]:
    """The S3 bucket ECR serves image layers from: "Amazon ECR interface VPC endpoints (AWS PrivateLink)",
    section "Create the Amazon S3 gateway endpoint", gives its minimum endpoint-policy resource as
    `arn:aws:s3:::prod-<region>-starport-layer-bucket/*`."""
    return pulumi.Output.from_input(region).apply(
        lambda name: f"arn:{aws_limits.partition_of(name)}:s3:::prod-{name}-starport-layer-bucket/*"
    )


def al2023_repository_objects(region: str) -> str:
    """The objects of the S3 bucket Amazon Linux 2023's dnf repositories are served from, in `region`: the AMI's
    /etc/yum.repos.d/amazonlinux.repo reads its mirror list from
    `https://al2023-repos-$awsregion-de612dc2.s3$dualstack.$awsregion.$awsdomain/core/mirrors/...`, and AWS's
    data-perimeter examples (aws-samples/data-perimeter-policy-examples, vpc_endpoint_policies/README.md,
    "Amazon EC2 Linux patching", and s3_endpoint_policy.json) allow s3:GetObject on
    `arn:aws:s3:::al2023-repos-<region>-de612dc2/*`. The host's bootstrap empties dnf's `dualstack` variable so
    dnf asks for the regional S3 name, the one the gateway endpoint serves."""
    return f"arn:{aws_limits.partition_of(region)}:s3:::al2023-repos-{region}-de612dc2/*"


def interface_services(args: NetworkArgs) -> tuple[str, ...]:
    """The interface endpoints: ECR and logs for the tasks, the named secrets' services, and Session Manager's
    for the host."""
    extra = set(secret_services(args.secret_arns))
    if args.host_enabled:
        extra.update(iam.SESSION_MANAGER_ENDPOINTS)
    return (*INTERFACE_ENDPOINTS, *sorted(extra))


def secret_services(secret_arns: Sequence[pulumi.Input[str]]) -> tuple[str, ...]:
    """The endpoints the named secrets need: secretsmanager for secrets, ssm for parameters (both for an ARN
    not known yet)."""
    found = set()
    for arn in secret_arns:
        known = isinstance(arn, str)
        if not known or ":secretsmanager:" in arn:
            found.add("secretsmanager")
        if not known or ":ssm:" in arn:
            found.add("ssm")
    return tuple(sorted(found))


def endpoint_policies(args: NetworkArgs) -> dict[str, pulumi.Output[str]]:
    """Each endpoint's policy: only this stack's repository (ecr.api, ecr.dkr), log group (logs), table
    (dynamodb), secrets (secretsmanager, ssm), Session Manager's calls (ssm, ssmmessages) and the AWS-owned
    buckets of ECR's layers and, for the host, AL2023's packages (s3). A service whose resource is not given
    keeps AWS's default."""
    s3 = [
        {
            "Sid": "EcrImageLayers",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": ecr_layer_bucket_arn(args.region),
        }
    ]
    if args.host_enabled:
        # dnf only reads objects (the mirror list, repository metadata, packages); nothing is listed.
        s3.append(
            {
                "Sid": "AmazonLinuxRepositories",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": pulumi.Output.from_input(args.region).apply(al2023_repository_objects),
            }
        )
    policies = {"s3": iam.endpoint_policy(s3)}
    if args.repository_arn is not None:
        ecr = iam.endpoint_policy(iam.ecr_pull_statements(args.repository_arn))
        policies.update({"ecr.api": ecr, "ecr.dkr": ecr})
    if args.log_group_arn is not None:
        policies["logs"] = iam.endpoint_policy(iam.log_write_statements(args.log_group_arn))
    # ECS reads parameters with ssm:GetParameters, the host's `aws ssm get-parameter` with ssm:GetParameter.
    parameter_actions = ("ssm:GetParameters", "ssm:GetParameter") if args.host_enabled else ("ssm:GetParameters",)
    secrets = iam.secret_read_statements(list(args.secret_arns), parameter_action=parameter_actions)
    if secrets:
        policies["secretsmanager"] = iam.endpoint_policy(secrets)
    if args.host_enabled:
        policies["ssm"] = iam.endpoint_policy(iam.session_manager_statements("ssm") + secrets)
        # ssmmessages keeps AWS's default policy: no AWS document we could read confirms it accepts a custom
        # one, and an endpoint service that does not answers CreateVpcEndpoint with an error, which would fail
        # a real `up` that every offline check passed. What it serves is Session Manager's channels, which the
        # host role alone grants; its group admits only this VPC.
    elif secrets:
        policies["ssm"] = iam.endpoint_policy(secrets)
    if args.counter_table_arn is not None:
        policies["dynamodb"] = iam.endpoint_policy(iam.counter_table_statements(args.counter_table_arn))
    return policies
