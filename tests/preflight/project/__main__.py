"""The tiny project's default program: a component with children, a role and a policy built from outputs."""

import json

import pulumi
import pulumi_aws as aws


class Storage(pulumi.ComponentResource):
    """A component with two children, so the recording has a parent to check."""

    def __init__(self, name: str, count: int, team: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tiny:storage:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.buckets = [aws.s3.Bucket(f"{name}-{index}", tags={"team": team}, opts=child) for index in range(count)]
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            hash_key="id",
            attributes=[aws.dynamodb.TableAttributeArgs(name="id", type="S")],
            billing_mode="PAY_PER_REQUEST",
            opts=pulumi.ResourceOptions(parent=self, protect=True, ignore_changes=["tags"]),
        )
        self.register_outputs({"bucketNames": [bucket.bucket for bucket in self.buckets]})


config = pulumi.Config()
storage = Storage("store", config.get_int("bucketCount") or 1, config.require("team"))
role = aws.iam.Role(
    "reader",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
)
aws.iam.RolePolicy(
    "reader",
    role=role.id,
    policy=pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject"],
                    "Resource": [pulumi.Output.concat(bucket.arn, "/*") for bucket in storage.buckets],
                }
            ],
        }
    ),
)
pulumi.export("bucketArns", [bucket.arn for bucket in storage.buckets])
pulumi.export("roleArn", role.arn)
pulumi.export("readers", config.get_object("readers"))
pulumi.export("apiTokenIsSecret", pulumi.Output.secret(config.get("apiToken") or ""))
