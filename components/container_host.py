"""The EC2 host: one Amazon Linux 2023 instance that runs the image with no human touching it.

Its user data (components/user_data) installs docker and the ECR credential helper, pulls the
digest-pinned image through the instance role and runs it under systemd. The instance sits in a private
subnet without a public IP or key pair, answers only IMDSv2, keeps its root volume encrypted, and is
reached through Session Manager. An Auto Scaling group of one launches it from a launch template: a host
whose bootstrap fails reports itself unhealthy (or, when it cannot, powers off and is terminated) and is
replaced, and a new image digest (new user data, new template version) is rolled out by an instance refresh.
With VPC endpoints (endpoint_security_group_id) its HTTPS goes to the endpoints only
(components.host_security_group).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

import components.aws_limits as aws_limits
import components.checks as checks
import components.container as container
import components.iam as iam
import components.user_data as user_data
from components.host_security_group import host_security_group

AMI_PARAMETERS = {
    "x86_64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
    "arm64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
}
# Docker's bridge adds a hop between the container and the instance metadata service.
METADATA_HOP_LIMIT = 2
# Amazon Linux 2023 AMIs boot from /dev/xvda.
ROOT_DEVICE = "/dev/xvda"
# The bootstrap's worst case: installs, docker's start and the pull each retry for about a minute, then
# two minutes of health checks; the group judges the host only after this.
HEALTH_CHECK_GRACE_SECONDS = 600


@dataclass(frozen=True, kw_only=True)
class ContainerHostArgs:
    vpc_id: pulumi.Input[str]
    """The VPC of the host's security group. Required."""
    subnet_id: pulumi.Input[str]
    """A private subnet with a route to ECR and SSM (NAT or VPC endpoints); the host gets no public IP. Required."""
    repository_arn: pulumi.Input[str]
    """The instance role may pull from this repository only. Required."""
    repository_url: pulumi.Input[str]
    """`<registry>/<repository>`: the registry host the script logs in to. Required."""
    image_reference: pulumi.Input[str]
    """Digest-pinned image (`<repository_url>@sha256:...`); tags are refused. Required."""
    architecture: str = "x86_64"
    """`x86_64` or `arm64`: picks the AMI; the image and the instance type must match it. Default x86_64."""
    instance_type: str = "t3.micro"
    """EC2 instance type of the architecture (Graviton types such as t4g.micro for arm64). Default t3.micro."""
    root_volume_gib: int = 16
    """Size of the encrypted gp3 root volume (8-16384 GiB). Default 16."""
    region: pulumi.Input[str] | None = None
    """Where the host runs; the app's AWS_REGION. Default None: the provider's region."""
    load_balancer_security_group_id: pulumi.Input[str] | None = None
    """The load balancer's security group, allowed to reach the app port. Default None: no such rule."""
    allowed_cidrs: Sequence[str] = ()
    """Private IPv4 or IPv6 ranges that may reach the app port too. Default: none."""
    container_port: int = 8000
    """The app's port on the host and in the container (1024-65535). Default 8000."""
    health_check_path: str = "/health"
    """Polled on localhost until the app answers before the bootstrap reports success. Default /health."""
    counter_table_name: pulumi.Input[str] | None = None
    """The visit-counter table, given with counter_table_arn. Default None: the app counts in memory."""
    counter_table_arn: pulumi.Input[str] | None = None
    """The instance role may read and update this table only. Default None."""
    app_version: pulumi.Input[str] | None = None
    """Shown by the app in its responses (the image's content tag). Default None: the app says "dev"."""
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Extra plain environment variables for the app, in the unit's env file (never secrets). Default: none."""
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """NAME -> ARN of a Secrets Manager secret or SSM parameter: fetched with the instance role into a root-only
    tmpfs env file each time the container starts; the role may read only these. Default: none."""
    endpoint_security_group_id: pulumi.Input[str] | None = None
    """With VPC endpoints (Network's endpoint_security_group_id): the interface endpoints' group. The host then
    sends HTTPS only to it and to endpoint_prefix_list_ids, never to 0.0.0.0/0. Default None: no endpoints,
    HTTPS to anywhere through NAT."""
    endpoint_prefix_list_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """With endpoint_security_group_id: gateway service (s3, dynamodb) -> its endpoint's prefix list id (Network's
    endpoint_prefix_list_ids); s3 is required, for the image layers and the dnf repositories. Default: none."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags for the host's resources; stack-wide tags come from the provider. Default: none."""

    def __post_init__(self) -> None:
        owner = type(self).__name__
        checks.check_fields(
            self,
            {
                "architecture": aws_limits.architecture,
                "instance_type": aws_limits.instance_type(self.architecture),
                "root_volume_gib": aws_limits.root_volume,
                "region": aws_limits.region,
                "container_port": aws_limits.port,
                "health_check_path": aws_limits.health_path,
                "allowed_cidrs": aws_limits.ingress_cidrs,
                "environment": container.environment(user_data.RESERVED_ENVIRONMENT),
            },
        )
        # Two rules for one field: a dict cannot hold both.
        checks.check(owner, "secrets", self.secrets, container.secrets(user_data.RESERVED_ENVIRONMENT))
        checks.check(owner, "secrets", self.secrets, container.not_in_environment(self.environment))
        if (self.counter_table_name is None) != (self.counter_table_arn is None):
            raise checks.ArgsError(
                owner,
                "counter_table_arn",
                self.counter_table_arn,
                "counter_table_name and counter_table_arn go together",
            )
        if self.endpoint_security_group_id is None and self.endpoint_prefix_list_ids:
            raise checks.ArgsError(
                owner,
                "endpoint_prefix_list_ids",
                dict(self.endpoint_prefix_list_ids),
                "goes with endpoint_security_group_id: give both (VPC endpoints) or neither (NAT)",
            )
        if self.endpoint_security_group_id is not None and "s3" not in self.endpoint_prefix_list_ids:
            raise checks.ArgsError(
                owner,
                "endpoint_prefix_list_ids",
                dict(self.endpoint_prefix_list_ids),
                "needs the s3 gateway endpoint's prefix list: image layers and dnf packages come from S3",
            )
        if isinstance(self.image_reference, str):
            try:
                user_data.check_image_reference(self.image_reference)
            except user_data.UserDataError as error:
                raise checks.ArgsError(owner, "image_reference", self.image_reference, str(error)) from None


class ContainerHost(pulumi.ComponentResource):
    """An Auto Scaling group of one EC2 instance running the app's container, bootstrapped by user data."""

    auto_scaling_group_name: pulumi.Output[str]
    launch_template_id: pulumi.Output[str]
    role_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: ContainerHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipshape:container_host:ContainerHost", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags) or None
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = args.region if args.region is not None else aws.get_region_output(opts=invoke).region

        role, grants = self._role(name, args, child, tags)
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, tags=tags, opts=child)
        security_group = host_security_group(name, args, child, tags)

        # The newest AL2023 release: a new AMI replaces the host on the next `up`, which is how it gets patched.
        # `value` is always sensitive in pulumi-aws's schema (ssm/getParameter: "Value of the parameter. This value
        # is always marked as sensitive"), and the SDK marks an output-form invoke's whole result secret when any
        # field is (pulumi/runtime/invoke.py), which would hide the AMI from plans and the pack. An AMI id is
        # public: a plain invoke's `insecureValue` is the same value, never secret.
        ami = aws.ssm.get_parameter(
            name=AMI_PARAMETERS[args.architecture], opts=pulumi.InvokeOptions(parent=self)
        ).insecure_value

        # Launch template + Auto Scaling group of one: a host whose bootstrap fails (it reports itself unhealthy)
        # or whose EC2 status checks fail is replaced, and a new template version (new AMI or new image digest,
        # both change it) is rolled out by an instance refresh.
        template = aws.ec2.LaunchTemplate(
            f"{name}-template",
            description="The container host: AL2023, IMDSv2 only, encrypted root volume, no public IP",
            image_id=ami,
            instance_type=args.instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            # IMDSv2 only; a hop limit of 2 lets the container (one bridge hop away) reach the role credentials.
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=METADATA_HOP_LIMIT,
                instance_metadata_tags="disabled",
            ),
            # The launch template API takes these flags as strings (pulumi-aws LaunchTemplateBlockDeviceMappingEbs).
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_type="gp3",
                        volume_size=args.root_volume_gib,
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            network_interfaces=[
                aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                    device_index=0,
                    associate_public_ip_address="false",
                    security_groups=[security_group.id],
                    delete_on_termination="true",
                )
            ],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            # The bootstrap's last resort: a host that fails and cannot tell its group (with VPC endpoints only
            # there is no route to the Auto Scaling API) powers itself off, which terminates it, and the group
            # replaces an instance whose state is anything but running (Auto Scaling user guide, "Health checks
            # for Auto Scaling instances"), at the latest when the grace period ends. Chosen over an autoscaling
            # interface endpoint: that would be paid per AZ-hour for one call on the failure path, while this
            # needs no API, permission or route, and also covers a call that fails through NAT.
            instance_initiated_shutdown_behavior="terminate",
            # A launch template takes its user data base64-encoded (pulumi-aws ec2/launchTemplate: user_data).
            user_data=self._user_data(name, args, region).apply(
                lambda script: base64.b64encode(script.encode("utf-8")).decode("ascii")
            ),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags={"Name": name, **args.tags})
                for kind in ("instance", "volume")
            ],
            update_default_version=True,
            tags=tags,
            opts=child,
        )
        group = aws.autoscaling.Group(
            f"{name}-group",
            min_size=1,
            max_size=1,
            desired_capacity=1,
            vpc_zone_identifiers=[args.subnet_id],
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            # EC2 status checks, plus the bootstrap's own verdict: on failure it calls SetInstanceHealth, or
            # powers the instance off (terminated, see the template) when that call fails.
            health_check_type="EC2",
            health_check_grace_period=HEALTH_CHECK_GRACE_SECONDS,
            # pulumi-aws autoscaling/group: with instance_refresh set, a change of launch_template starts a
            # refresh. A group of one cannot keep a healthy instance while it replaces it without exceeding its
            # maximum, so the old host goes first (min_healthy_percentage 0): a short gap on a single host.
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=0, instance_warmup=str(HEALTH_CHECK_GRACE_SECONDS)
                ),
            ),
            tags=[
                aws.autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=False)
                for key, value in {"Name": name, **args.tags}.items()
            ],
            # Boot only once the role may pull: the bootstrap's retries then only cover IAM's propagation delay.
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants),
        )
        # The bootstrap marks its own instance unhealthy on failure; only this group's instances, only that.
        # Through NAT this is the quick way; with VPC endpoints only, the call cannot leave the VPC and the
        # bootstrap's power-off does the same.
        aws.iam.RolePolicy(
            f"{name}-heal",
            role=role.id,
            policy=group.arn.apply(
                lambda arn: iam.policy_json(
                    [
                        {
                            "Sid": "ReportBootstrapFailure",
                            "Effect": "Allow",
                            "Action": "autoscaling:SetInstanceHealth",
                            "Resource": arn,
                        }
                    ]
                )
            ),
            opts=child,
        )

        self.auto_scaling_group_name = group.name
        self.launch_template_id = template.id
        self.role_name = role.name
        self.role_arn = role.arn
        self.security_group_id = security_group.id
        self.register_outputs(
            {
                "autoScalingGroupName": self.auto_scaling_group_name,
                "launchTemplateId": self.launch_template_id,
                "roleName": self.role_name,
                "roleArn": self.role_arn,
                "securityGroupId": self.security_group_id,
            }
        )

    @staticmethod
    def _role(
        name: str,
        args: ContainerHostArgs,
        child: pulumi.ResourceOptions,
        tags: dict[str, str] | None,
    ) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
        """The instance role (pull this repository, use the counter table, register with SSM) and its grants."""
        # No aws:SourceAccount condition here (unlike components.iam.assume_role_policy): EC2 does not
        # document that key for instance-profile credentials, and a condition it never sends would leave the
        # host without credentials. Only principals allowed iam:PassRole in this account can hand the
        # role to an instance, which is what guards it.
        trust = iam.policy_json(
            [
                {
                    "Sid": "TrustEc2",
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ]
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=trust,
            description="The container host: pull the app image, count visits, be managed through SSM",
            tags=tags,
            opts=child,
        )
        statements = iam.ecr_pull_statements(args.repository_arn) + iam.session_manager_statements()
        if args.counter_table_arn is not None:
            statements += iam.counter_table_statements(args.counter_table_arn)
        # The unit's ExecStartPre reads these with `aws secretsmanager get-secret-value` / `aws ssm get-parameter`.
        statements += iam.secret_read_statements(list(args.secrets.values()), parameter_action="ssm:GetParameter")
        policy = aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=iam.policy_json(statements), opts=child)
        return role, [policy]

    @staticmethod
    def _user_data(name: str, args: ContainerHostArgs, region: pulumi.Input[str]) -> pulumi.Output[str]:
        def render(values: dict[str, str | None]) -> str:
            try:
                return user_data.render_user_data(
                    region=str(values["region"]),
                    registry=user_data.registry_of(str(values["repository_url"])),
                    image_reference=str(values["image"]),
                    port=args.container_port,
                    counter_table=values["table"],
                    app_version=values["version"],
                    health_path=args.health_check_path,
                    environment=values["environment"],
                    secrets=values["secrets"],
                )
            except user_data.UserDataError as error:
                raise pulumi.RunError(f"ContainerHost {name!r}: user data: {error}") from None

        return pulumi.Output.all(
            region=region,
            repository_url=args.repository_url,
            image=args.image_reference,
            table=args.counter_table_name,
            version=args.app_version,
            environment=pulumi.Output.from_input(dict(args.environment)),
            secrets=pulumi.Output.from_input(dict(args.secrets)),
        ).apply(render)
