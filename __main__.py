"""shipshape: settings -> registry + image -> network -> counter table -> web service, host -> exports."""

from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.container_host import ContainerHost, ContainerHostArgs
from components.counter_table import CounterTable, CounterTableArgs
from components.network import Network, NetworkArgs
from components.registry import Image, ImageArgs, Repository, RepositoryArgs
from components.settings import load_settings
from components.web_service import WebService, WebServiceArgs

settings = load_settings()

# One explicit provider: the stack's region and the tags every resource carries.
provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags=settings.default_tags),
)
with_provider = pulumi.ResourceOptions(providers={"aws": provider})
account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id

repository = Repository("registry", RepositoryArgs(settings=settings.registry), opts=with_provider)
image = Image(
    "app",
    ImageArgs(
        settings=settings.image,
        repository_url=repository.repository_url,
        registry_id=repository.registry_id,
        context=Path(__file__).resolve().parent / "app",
    ),
    opts=with_provider,
)

network = Network(
    "net",
    NetworkArgs(
        settings=settings.network,
        region=settings.region,
        container_port=settings.service.container_port,
        https=settings.service.https,
    ),
    opts=with_provider,
)

table = (
    CounterTable(
        "visits",
        CounterTableArgs(settings=settings.table, deletion_protection=settings.service.deletion_protection),
        opts=with_provider,
    )
    if settings.table.enabled
    else None
)

web = WebService(
    "web",
    WebServiceArgs(
        settings=settings.service,
        prefix=settings.prefix,
        region=settings.region,
        account_id=account_id,
        architecture=settings.image.architecture,
        vpc_id=network.vpc_id,
        public_subnet_ids=network.public_subnet_ids,
        private_subnet_ids=network.private_subnet_ids,
        load_balancer_security_group_id=network.load_balancer_security_group_id,
        app_security_group_id=network.app_security_group_id,
        image_reference=image.reference,
        repository_arn=repository.repository_arn,
        app_version=image.tag,
        counter_table_name=table.name if table else None,
        counter_table_arn=table.arn if table else None,
    ),
    opts=with_provider,
)

if settings.host.enabled:
    # The seeds' second path: one host in a private subnet, bootstrapped by user data, reached through SSM.
    host = ContainerHost(
        "host",
        ContainerHostArgs(
            settings=settings.host,
            architecture=settings.image.architecture,
            region=settings.region,
            partition=settings.partition,
            vpc_id=network.vpc_id,
            subnet_id=network.private_subnet_ids.apply(lambda ids: ids[0]),
            load_balancer_security_group_id=network.load_balancer_security_group_id,
            repository_arn=repository.repository_arn,
            repository_url=repository.repository_url,
            image_reference=image.reference,
            container_port=settings.service.container_port,
            health_check_path=settings.service.health_check.path,
            counter_table_name=table.name if table else None,
            counter_table_arn=table.arn if table else None,
            app_version=image.tag,
        ),
        opts=with_provider,
    )
    pulumi.export("hostInstanceId", host.instance_id)
    pulumi.export("hostPrivateIp", host.private_ip)

pulumi.export("repositoryUrl", repository.repository_url)
pulumi.export("imageReference", image.reference)
pulumi.export("imageTag", image.tag)
pulumi.export("url", web.url)
pulumi.export("clusterName", web.cluster_name)
pulumi.export("serviceName", web.service_name)
pulumi.export("logGroupName", web.log_group_name)
if table is not None:
    pulumi.export("counterTableName", table.name)
