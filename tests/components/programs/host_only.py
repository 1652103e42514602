"""A program with only a ContainerHost, built from literal inputs, for tests/components/test_container_host.py.

Variants come from the `hosttest:` config namespace (recorder config_overrides): architecture, table
(true/false), alb (true/false), cidrs (JSON list), environment and secrets (JSON objects), image (a
reference to use instead of the pinned one) and endpoints (true: the network's VPC endpoints' group and
gateway prefix lists).
"""

import json

import pulumi

from components.container_host import ContainerHost, ContainerHostArgs

ACCOUNT = "123456789012"
REGION = "eu-west-1"
REPOSITORY_URL = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shipshape/web"
IMAGE = f"{REPOSITORY_URL}@sha256:{'ab' * 32}"

variant = pulumi.Config("hosttest")
architecture = variant.get("architecture") or "x86_64"
with_table = variant.get_bool("table") is not False
with_alb = variant.get_bool("alb") is not False
cidrs = tuple(json.loads(variant.get("cidrs") or '["10.20.0.0/16"]'))
environment = json.loads(variant.get("environment") or "{}")
secrets = json.loads(variant.get("secrets") or "{}")
endpoints = (
    {
        "endpoint_security_group_id": "sg-0eeeeeeeeeeeeeeee",
        "endpoint_prefix_list_ids": {"s3": "pl-6da54004", "dynamodb": "pl-6fa54006"},
    }
    if variant.get_bool("endpoints")
    else {}
)

host = ContainerHost(
    "host",
    ContainerHostArgs(
        instance_type="t4g.micro" if architecture == "arm64" else "t3.micro",
        root_volume_gib=20,
        allowed_cidrs=cidrs,
        architecture=architecture,
        region=REGION,
        vpc_id="vpc-0123456789abcdef0",
        subnet_id="subnet-0123456789abcdef0",
        load_balancer_security_group_id="sg-0aaaaaaaaaaaaaaaa" if with_alb else None,
        repository_arn=f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/shipshape/web",
        repository_url=pulumi.Output.from_input(REPOSITORY_URL),
        # An Output, as the registry component gives it: validated when the user data is rendered.
        image_reference=pulumi.Output.from_input(variant.get("image") or IMAGE),
        container_port=8000,
        counter_table_name="visits-table-1a2b3c4" if with_table else None,
        counter_table_arn=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/visits-table-1a2b3c4" if with_table else None,
        app_version="9f8e7d6c5b4a",
        environment=environment,
        secrets=secrets,
        tags={"role": "host"},
        **endpoints,
    ),
)

pulumi.export("autoScalingGroupName", host.auto_scaling_group_name)
pulumi.export("launchTemplateId", host.launch_template_id)
pulumi.export("roleName", host.role_name)
pulumi.export("roleArn", host.role_arn)
pulumi.export("securityGroupId", host.security_group_id)
