"""The network: an awsx VPC (or an existing one), optional VPC endpoints and the shared security groups.

Security groups and endpoints are plain pulumi-aws resources on purpose: the policy pack and the offline
preview can see and judge them, and awsx's own groups open egress to everything by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from components.settings import NetworkSettings

HTTPS = 443
HTTP = 80
WORLD_V4 = "0.0.0.0/0"
WORLD_V6 = "::/0"
# What tasks in private subnets reach without NAT (AWS_FACTS.md, Fargate).
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs")
GATEWAY_ENDPOINTS = ("s3", "dynamodb")


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    settings: NetworkSettings
    """VPC shape, NAT strategy, endpoints, or an existing VPC (components/settings.py)."""
    region: str
    """The stack's region, for endpoint service names."""
    container_port: int
    """The app's port: the only port the load balancer may reach tasks and hosts on."""
    https: bool
    """True when the listener serves HTTPS on 443 (then port 80 only redirects)."""

    def __post_init__(self) -> None:
        if not 1 <= self.container_port <= 65535:
            raise ValueError(f"NetworkArgs.container_port = {self.container_port}: must be 1 to 65535")


class Network(pulumi.ComponentResource):
    """VPC with public and private subnets, and the load balancer's and the app's security groups."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    load_balancer_security_group_id: pulumi.Output[str]
    app_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipshape:network:Network", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)

        if settings.existing_vpc_id is not None:
            self.vpc_id = pulumi.Output.from_input(settings.existing_vpc_id)
            self.public_subnet_ids = pulumi.Output.from_input(list(settings.existing_public_subnet_ids))
            self.private_subnet_ids = pulumi.Output.from_input(list(settings.existing_private_subnet_ids))
            vpc_cidr: pulumi.Output[str] = aws.ec2.get_vpc_output(id=settings.existing_vpc_id).cidr_block
        else:
            # Public subnets for the load balancer and NAT, private ones for tasks and the host.
            vpc = awsx.ec2.Vpc(
                f"{name}-vpc",
                cidr_block=settings.cidr,
                number_of_availability_zones=settings.availability_zones,
                enable_dns_hostnames=True,
                enable_dns_support=True,
                nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(
                    strategy=awsx.ec2.NatGatewayStrategy(settings.nat_gateways)
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
            vpc_cidr = pulumi.Output.from_input(settings.cidr)

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

        listener_ports = [HTTPS, HTTP] if args.https else [HTTP]
        for port in listener_ports:
            for family, cidr in (("v4", WORLD_V4), ("v6", WORLD_V6)):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-alb-in-{port}-{family}",
                    security_group_id=alb_id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr if family == "v4" else None,
                    cidr_ipv6=cidr if family == "v6" else None,
                    description="HTTPS from the internet" if port == HTTPS else "HTTP from the internet",
                    opts=child,
                )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-out-app",
            security_group_id=alb_id,
            ip_protocol="tcp",
            from_port=args.container_port,
            to_port=args.container_port,
            referenced_security_group_id=app_id,
            description="To the app tasks on the app port",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-app-in-alb",
            security_group_id=app_id,
            ip_protocol="tcp",
            from_port=args.container_port,
            to_port=args.container_port,
            referenced_security_group_id=alb_id,
            description="App port from the load balancer",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-app-out-https",
            security_group_id=app_id,
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            cidr_ipv4=WORLD_V4,
            description="HTTPS to AWS APIs (ECR, CloudWatch Logs, DynamoDB) through NAT or endpoints",
            opts=child,
        )

        if settings.vpc_endpoints:
            self._endpoints(name, args.region, vpc_cidr, child)

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

    def _endpoints(self, name: str, region: str, vpc_cidr: pulumi.Output[str], child: pulumi.ResourceOptions) -> None:
        """Private routes to ECR, S3 (image layers), CloudWatch Logs and DynamoDB."""
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
        for service in INTERFACE_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=self.vpc_id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[endpoint_group.id],
                opts=child,
            )
        route_tables = aws.ec2.get_route_tables_output(vpc_id=self.vpc_id).ids
        for service in GATEWAY_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                f"{name}-{service}",
                vpc_id=self.vpc_id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=route_tables,
                opts=child,
            )
