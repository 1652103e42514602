"""HTTPS out of a security group, as the network and the EC2 host both need it.

With VPC endpoints: only to the interface endpoints' group and each gateway service's prefix list (S3,
DynamoDB). Without: to anywhere, since AWS's public endpoints are reached through NAT at addresses not known
here. DNS, the metadata service and time sync use link-local addresses that security groups never filter.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

HTTPS = 443
WORLD_V4 = "0.0.0.0/0"


def https_egress(
    prefix: str,
    *,
    security_group_id: pulumi.Input[str],
    endpoint_security_group_id: pulumi.Input[str] | None,
    endpoint_prefix_list_ids: Mapping[str, pulumi.Input[str]],
    endpoints_description: str,
    world_description: str,
    opts: pulumi.ResourceOptions,
) -> None:
    """`{prefix}-out-endpoints` and `{prefix}-out-<service>` with endpoints, else `{prefix}-out-https`."""

    def rule(suffix: str, description: str, **peer: pulumi.Input[str]) -> None:
        aws.vpc.SecurityGroupEgressRule(
            f"{prefix}-out-{suffix}",
            security_group_id=security_group_id,
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            description=description,
            opts=opts,
            **peer,
        )

    if endpoint_security_group_id is None:
        rule("https", world_description, cidr_ipv4=WORLD_V4)
        return
    rule("endpoints", endpoints_description, referenced_security_group_id=endpoint_security_group_id)
    for service, prefix_list in sorted(endpoint_prefix_list_ids.items()):
        rule(service, f"HTTPS to the {service} gateway endpoint's prefix list", prefix_list_id=prefix_list)
