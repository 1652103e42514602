"""Resource objects as inputs (`vpc_id=vpc`, `role=task_role`, `bucket=site.bucket`) and a component
whose outputs are resources: the engine hands these to the pack as ids and URNs."""

import json

import pulumi
import pulumi_aws as aws


class StaticSite(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("shapes:site:StaticSite", name)
        self.bucket = aws.s3.Bucket(f"{name}-content", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"bucket": self.bucket})


vpc = aws.ec2.Vpc("main", cidr_block="10.0.0.0/16")
# SSH open to the world: the pack's mandatory finding for this program.
ssh = aws.ec2.SecurityGroup(
    "ssh",
    vpc_id=vpc,
    ingress=[{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}],
)
task_role = aws.iam.Role(
    "ecs-task",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
)
aws.iam.RolePolicyAttachment(
    "ecs-task-logs",
    role=task_role,
    policy_arn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
)
site = StaticSite("site")
aws.s3.BucketPublicAccessBlock(
    "site",
    bucket=site.bucket,
    block_public_acls=True,
    block_public_policy=True,
    ignore_public_acls=True,
    restrict_public_buckets=True,
)
# A component as a plain input: the engine passes its URN.
aws.ec2.Subnet("app", vpc_id=vpc, cidr_block="10.0.1.0/24", tags={"site": site})
pulumi.export("siteBucket", site.bucket)
pulumi.export("ids", {"vpc": vpc.id, "role": task_role.id, "bucket": site.bucket.id, "site": site.urn})
