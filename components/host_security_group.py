"""The EC2 host's security group: the app port from the load balancer and named private ranges; out on HTTPS
only, to the VPC endpoints when the network has them and to anywhere (through NAT) when it has not."""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components.egress import https_egress

if TYPE_CHECKING:
    from components.container_host import ContainerHostArgs


def _rule_suffix(cidr: str) -> str:
    """A stable resource-name suffix for a CIDR: 10.20.0.0/16 -> 10-20-0-0-16."""
    return re.sub(r"[^0-9a-f]+", "-", cidr.lower()).strip("-")


def host_security_group(
    name: str, args: ContainerHostArgs, child: pulumi.ResourceOptions, tags: dict[str, str] | None
) -> aws.ec2.SecurityGroup:
    """The app port from the load balancer's group and the named private CIDRs; out on 443 only."""
    port = args.container_port
    group = aws.ec2.SecurityGroup(
        f"{name}-sg",
        vpc_id=args.vpc_id,
        description="Container host: app port from the load balancer and named private ranges only",
        revoke_rules_on_delete=True,
        tags=tags,
        opts=child,
    )
    if args.load_balancer_security_group_id is not None:
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-in-alb",
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=args.load_balancer_security_group_id,
            description="App port from the load balancer",
            opts=child,
        )
    for cidr in args.allowed_cidrs:
        network = ipaddress.ip_network(cidr)
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-in-{_rule_suffix(cidr)}",
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4=cidr if network.version == 4 else None,
            cidr_ipv6=cidr if network.version == 6 else None,
            description=f"App port from {cidr} (hostAllowedCidrs)",
            opts=child,
        )
    # Only HTTPS leaves the host: ECR (API and registry), the S3 image layers and dnf repositories, SSM and
    # DynamoDB. With endpoints, a call to any other AWS API times out: the network gives every call the host
    # makes an endpoint (components.network.NetworkArgs.host_enabled).
    https_egress(
        name,
        security_group_id=group.id,
        endpoint_security_group_id=args.endpoint_security_group_id,
        endpoint_prefix_list_ids=args.endpoint_prefix_list_ids,
        endpoints_description="HTTPS to the interface endpoints (ECR, SSM, Session Manager, named secrets)",
        world_description="HTTPS to AWS APIs and package mirrors (ECR, S3, SSM, DynamoDB, dnf)",
        opts=child,
    )
    return group
