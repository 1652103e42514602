"""shipshape: settings -> registry + image -> counter table -> network -> web service, host -> exports."""

from pathlib import Path

import pulumi
import pulumi_aws as aws

from components import ContainerHost, CounterTable, Image, Network, Repository, WebService
from components.settings import load_settings

settings = load_settings()

# One explicit provider: the stack's region and the tags every resource carries.
provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags=settings.default_tags),
)
with_provider = pulumi.ResourceOptions(providers={"aws": provider})
account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id

repository = Repository("registry", settings.to_repository_args(), opts=with_provider)
image = Image(
    "app",
    settings.to_image_args(
        repository_url=repository.repository_url,
        registry_id=repository.registry_id,
        context=Path(__file__).resolve().parent / "app",
    ),
    opts=with_provider,
)

table = (
    CounterTable("visits", settings.to_counter_table_args(), opts=with_provider)
    if settings.counter_table_enabled
    else None
)
counter_table = {"counter_table_name": table.name, "counter_table_arn": table.arn} if table else {}

# The VPC endpoints' policies name the repository, the service's log group and the table (and, with the host,
# what the host calls: settings' hostEnabled reaches NetworkArgs.host_enabled).
log_group_arn = pulumi.Output.concat(
    "arn:", settings.partition, ":logs:", settings.region, ":", account_id, ":log-group:", settings.log_group_name
)
network = Network(
    "net",
    settings.to_network_args(
        repository_arn=repository.repository_arn,
        log_group_arn=log_group_arn,
        **({"counter_table_arn": table.arn} if table else {}),
    ),
    opts=with_provider,
)

web = WebService(
    "web",
    settings.to_web_service_args(
        account_id=account_id,
        vpc_id=network.vpc_id,
        public_subnet_ids=network.public_subnet_ids,
        private_subnet_ids=network.private_subnet_ids,
        load_balancer_security_group_id=network.load_balancer_security_group_id,
        app_security_group_id=network.app_security_group_id,
        image=image.reference,
        repository_arn=repository.repository_arn,
        app_version=image.tag,
        **counter_table,
    ),
    opts=with_provider,
)

if settings.host_enabled:
    # The seeds' second path: one host in a private subnet, bootstrapped by user data, reached through SSM.
    # It is not behind the ALB, so the ALB's group gets no way to its app port. With VPC endpoints it sends
    # HTTPS to them only, as the tasks do (the network made one for each call the host makes: hostEnabled).
    endpoints = (
        {
            "endpoint_security_group_id": network.endpoint_security_group_id,
            "endpoint_prefix_list_ids": network.endpoint_prefix_list_ids,
        }
        if network.endpoint_security_group_id is not None
        else {}
    )
    host = ContainerHost(
        "host",
        settings.to_container_host_args(
            vpc_id=network.vpc_id,
            subnet_id=network.private_subnet_ids.apply(lambda ids: ids[0]),
            repository_arn=repository.repository_arn,
            repository_url=repository.repository_url,
            image_reference=image.reference,
            app_version=image.tag,
            **counter_table,
            **endpoints,
        ),
        opts=with_provider,
    )
    pulumi.export("hostAutoScalingGroupName", host.auto_scaling_group_name)

pulumi.export("repositoryUrl", repository.repository_url)
pulumi.export("imageReference", image.reference)
pulumi.export("imageTag", image.tag)
pulumi.export("url", web.url)
pulumi.export("clusterName", web.cluster_name)
pulumi.export("serviceName", web.service_name)
pulumi.export("logGroupName", web.log_group_name)
if table is not None:
    pulumi.export("counterTableName", table.name)
