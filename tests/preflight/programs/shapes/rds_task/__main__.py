"""A task definition whose environment holds an RDS instance's address (known only from the provider's
outputs) next to a plain-text password: the finding is only visible when the address is known."""

import json

import pulumi
import pulumi_aws as aws

database = aws.rds.Instance(
    "orders",
    engine="postgres",
    instance_class="db.t4g.micro",
    allocated_storage=20,
    username="app",
    manage_master_user_password=True,
    storage_encrypted=True,
    skip_final_snapshot=True,
)
trust = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
execution_role = aws.iam.Role("orders-execution", assume_role_policy=trust)
task_role = aws.iam.Role("orders-task", assume_role_policy=trust)
logs = aws.cloudwatch.LogGroup("orders", retention_in_days=30)
task = aws.ecs.TaskDefinition(
    "orders",
    family="orders",
    cpu="256",
    memory="512",
    network_mode="awsvpc",
    requires_compatibilities=["FARGATE"],
    execution_role_arn=execution_role.arn,
    task_role_arn=task_role.arn,
    container_definitions=pulumi.Output.json_dumps(
        [
            {
                "name": "orders",
                "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders@sha256:" + "a" * 64,
                "essential": True,
                "user": "10001",
                "readonlyRootFilesystem": True,
                "environment": [
                    {"name": "DB_HOST", "value": database.address},
                    {"name": "DB_PASSWORD", "value": "hunter2-plain-text"},
                ],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": logs.name, "awslogs-region": "eu-west-1"},
                },
            }
        ]
    ),
)
pulumi.export("databaseAddress", database.address)
