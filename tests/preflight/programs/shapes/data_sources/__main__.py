"""Every common data source, plain and output form, one the preflight cannot answer, and a policy
document built with aws.iam.get_policy_document whose JSON the pack judges."""

import pulumi
import pulumi_aws as aws

identity = aws.get_caller_identity()
region = aws.get_region()
zones = aws.get_availability_zones(state="available")
default_vpc = aws.ec2.get_vpc(default=True)
subnets = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [default_vpc.id]}])
ami = aws.ec2.get_ami(
    most_recent=True,
    owners=["amazon"],
    filters=[{"name": "name", "values": ["al2023-ami-*-x86_64"]}],
)
latest = aws.ssm.get_parameter(name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
zone = aws.route53.get_zone(name="example.com.")
credentials = aws.ecr.get_credentials(registry_id=identity.account_id)
token = aws.ecr.get_authorization_token_output()
# No offline answer: its outputs are unknown and the report names it.
engine = aws.rds.get_engine_version_output(engine="postgres")

document = aws.iam.get_policy_document(
    statements=[
        {
            "sid": "ReadLogs",
            "actions": ["logs:GetLogEvents", "logs:DescribeLogStreams"],
            "resources": [f"arn:aws:logs:{region.region}:{identity.account_id}:log-group:app:*"],
        },
        # A wildcard action: the pack's mandatory finding for this program.
        {"sid": "Everything", "actions": ["s3:*"], "resources": ["arn:aws:s3:::shapes-data/*"]},
    ]
)
aws.iam.Policy("reader", policy=document.json)

instance = aws.ec2.Instance(
    "host",
    ami=ami.id,
    instance_type="t3.micro",
    subnet_id=subnets.ids[0],
    availability_zone=zones.names[0],
    metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 1},
    root_block_device={"encrypted": True},
    tags={"image": latest.value, "registry": token.proxy_endpoint, "engine": engine.version},
)
aws.route53.Record(
    "host",
    zone_id=zone.zone_id,
    name=f"host.{zone.name}",
    type="A",
    ttl=300,
    records=[instance.private_ip],
)
# An existing resource read by id, and another stack's outputs (not available offline: unknown).
shared = aws.ec2.Vpc.get("shared", "vpc-0123456789abcdef0")
network = pulumi.StackReference("acme/network/prod")
aws.ec2.SecurityGroup(
    "peer", vpc_id=shared.id, description="Peered services", tags={"network": network.get_output("vpcId")}
)
pulumi.export("registry", credentials.proxy_endpoint)
pulumi.export("engine", engine.version)
