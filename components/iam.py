"""Policy-document builders the components share, so least privilege is written once.

Each builder returns plain statements (dicts whose values may be Outputs); a component turns a list of
them into JSON with `policy_json`, which resolves the Outputs with `pulumi.Output.json_dumps`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pulumi

VERSION = "2012-10-17"

# The three actions a pull needs on the repository itself (docs/aws-limits.md, ECR).
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
Statement = dict[str, Any]


def policy_json(statements: Iterable[Statement]) -> pulumi.Output[str]:
    """A policy document as JSON, resolving any Outputs inside the statements."""
    return pulumi.Output.json_dumps({"Version": VERSION, "Statement": list(statements)})


def endpoint_policy(statements: Iterable[Statement]) -> pulumi.Output[str]:
    """A VPC endpoint policy: what any principal in the VPC may do through the endpoint (endpoint policies
    name `"Principal": "*"` and leave who may act to the callers' own IAM policies; AWS PrivateLink guide,
    "Control access to VPC endpoints using endpoint policies")."""
    return policy_json({**statement, "Principal": "*"} for statement in statements)


def assume_role_policy(service: str, *, account_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Trust `service` only when it acts for this account (guards against the confused deputy)."""
    return policy_json(
        [
            {
                "Sid": "TrustService",
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ]
    )


def ecr_pull_statements(repository_arn: pulumi.Input[str]) -> list[Statement]:
    """Log in to ECR (the token call only accepts `*`) and pull from one repository only."""
    return [
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Sid": "EcrPullOneRepository",
            "Effect": "Allow",
            "Action": list(ECR_PULL_ACTIONS),
            "Resource": repository_arn,
        },
    ]


def log_write_statements(log_group_arn: pulumi.Input[str]) -> list[Statement]:
    """Create streams and put events in one log group."""
    streams = pulumi.Output.concat(log_group_arn, ":log-stream:*")
    return [
        {
            "Sid": "WriteOneLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": streams,
        }
    ]


def counter_table_statements(table_arn: pulumi.Input[str]) -> list[Statement]:
    """Read and atomically update items of the visit-counter table, nothing else."""
    return [
        {
            "Sid": "CountVisits",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
            "Resource": table_arn,
        }
    ]


def secret_read_statements(
    secret_arns: Sequence[pulumi.Input[str]], parameter_action: str | Sequence[str] = "ssm:GetParameters"
) -> list[Statement]:
    """Read exactly the secrets the task definition names (Secrets Manager and SSM parameters).

    parameter_action: ECS reads parameters with ssm:GetParameters; the EC2 host's `aws ssm get-parameter`
    needs ssm:GetParameter; an endpoint both go through allows both (a sequence).

    ARNs known now are granted the one action of their service; an ARN still unknown (an Output) gets both
    actions on that ARN alone, which grants nothing more: each action only matches its own service's ARNs.
    """
    parameter_actions = [parameter_action] if isinstance(parameter_action, str) else sorted(set(parameter_action))
    parameter_grant: str | list[str] = parameter_actions[0] if len(parameter_actions) == 1 else parameter_actions
    known = [arn for arn in secret_arns if isinstance(arn, str)]
    pending = [arn for arn in secret_arns if not isinstance(arn, str)]
    secrets_manager = sorted(arn for arn in known if ":secretsmanager:" in arn)
    parameters = sorted(arn for arn in known if ":ssm:" in arn)
    statements: list[Statement] = []
    if secrets_manager:
        statements.append(
            {
                "Sid": "ReadNamedSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secrets_manager,
            }
        )
    if parameters:
        statements.append(
            {"Sid": "ReadNamedParameters", "Effect": "Allow", "Action": parameter_grant, "Resource": parameters}
        )
    if pending:
        statements.append(
            {
                "Sid": "ReadNamedSecretsNotYetKnown",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", *parameter_actions],
                "Resource": pending,
            }
        )
    return statements


# CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS", step 2: what the service
# principal needs on the key, scoped by the encryption context to one log group.
LOG_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


def log_key_statement(region: pulumi.Input[str], log_group_arn: pulumi.Input[str]) -> Statement:
    """The key-policy statement that lets CloudWatch Logs in `region` use a key for one log group only."""
    return {
        "Sid": "CloudWatchLogsForOneLogGroup",
        "Effect": "Allow",
        "Principal": {"Service": pulumi.Output.concat("logs.", region, ".amazonaws.com")},
        "Action": list(LOG_KEY_ACTIONS),
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
    }


def key_admin_statement(account_root_arn: pulumi.Input[str]) -> Statement:
    """KMS's default key-policy statement: the account's IAM policies decide who manages and uses the key
    (without it nobody could ever change the key again; KMS developer guide, "Default key policy")."""
    return {
        "Sid": "AccountIamPoliciesDecide",
        "Effect": "Allow",
        "Principal": {"AWS": account_root_arn},
        "Action": "kms:*",
        "Resource": "*",
    }


def kms_decrypt_statements(key_arn: pulumi.Input[str] | None) -> list[Statement]:
    """Decrypt with one customer managed key, when one is configured."""
    if key_arn is None:
        return []
    return [{"Sid": "DecryptWithStackKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn}]


# What Session Manager's agent calls, in place of the AWS managed AmazonSSMManagedInstanceCore (which also
# grants ssm:GetParameter* and ssm:GetDocument on every parameter and document of the account): the actions of
# AWS's managed AWSCloud9SSMInstanceProfile policy, which Session Manager's guide ("Create a custom IAM role for
# Session Manager") also lists. No ec2messages: since SSM Agent 3.3.40.0 the agent takes its messages through
# ssmmessages when it can reach it ("Reference: ec2messages, ssmmessages, and other API operations"), and the
# host always boots the newest AL2023 AMI; so with VPC endpoints the host needs the ssm and ssmmessages
# endpoints only (SESSION_MANAGER_ENDPOINTS). The ssmmessages actions take no resource ARN, and the instance
# ssm:UpdateInstanceInformation names does not exist when the role is created.
SESSION_MANAGER_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
SESSION_MANAGER_ENDPOINTS = ("ssm", "ssmmessages")


def session_manager_statements(service: str | None = None) -> list[Statement]:
    """Register with Systems Manager and open Session Manager channels, nothing else; with `service` (ssm or
    ssmmessages), only that service's actions, for its VPC endpoint's policy."""
    actions = [a for a in SESSION_MANAGER_ACTIONS if service is None or a.split(":")[0] == service]
    return [{"Sid": "SessionManager", "Effect": "Allow", "Action": actions, "Resource": "*"}]
