"""Remote (multi-language) components: awsx's, and eks, aws-apigateway and synced-folder ones declared as
their generated SDKs declare them (a ComponentResource registered with remote=True)."""

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx


class RemoteComponent(pulumi.ComponentResource):
    """How a generated SDK declares a component its provider constructs (e.g. pulumi_eks.Cluster)."""

    def __init__(self, type_: str, name: str, props: dict) -> None:
        super().__init__(type_, name, props, remote=True)


vpc = awsx.ec2.Vpc("network")
repository = awsx.ecr.Repository("app", force_delete=True)
alb = awsx.lb.ApplicationLoadBalancer("web", subnet_ids=vpc.public_subnet_ids)
cluster = aws.ecs.Cluster("apps", settings=[{"name": "containerInsights", "value": "enabled"}])
awsx.ecs.FargateService(
    "web",
    cluster=cluster.arn,
    network_configuration={"subnets": vpc.private_subnet_ids, "assign_public_ip": False},
    task_definition_args={
        "container": {
            "name": "web",
            "image": repository.url.apply(lambda url: f"{url}:latest"),
            "cpu": 256,
            "memory": 512,
            "essential": True,
            "port_mappings": [{"container_port": 80, "target_group": alb.default_target_group}],
        }
    },
)
RemoteComponent("eks:index:Cluster", "k8s", {"vpcId": vpc.vpc_id, "privateSubnetIds": vpc.private_subnet_ids})
RemoteComponent("aws-apigateway:index:RestAPI", "api", {"routes": [{"path": "/", "method": "GET"}]})
RemoteComponent("synced-folder:index:S3BucketFolder", "site", {"path": "./www", "bucketName": "shapes-site"})
pulumi.export("vpcId", vpc.vpc_id)
pulumi.export("privateSubnets", vpc.private_subnet_ids)
pulumi.export("repositoryUrl", repository.url)
pulumi.export("albDns", alb.load_balancer.dns_name)
