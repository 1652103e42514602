"""The pack's one rule list: every rule, listed explicitly (no discovery, no registration by side effect).

A rule module defines rules; only this list puts them in the pack. tests/policies/test_pack.py checks
that no rule defined in a module is missing here and that no rule id disappears.
"""

from __future__ import annotations

from guardrails.framework import Rule
from guardrails.rules import ec2, ecr, ecs, iam, iam_escalation, lb, logs, s3, security_groups

ALL_RULES: tuple[Rule, ...] = (
    # The three guarantees, mandatory everywhere.
    ecr.SCAN_ON_PUSH,
    ecr.NO_PUBLIC_REPOSITORIES,
    ecr.REPOSITORY_POLICY_NOT_PUBLIC,
    iam.NO_WILDCARD_ACTIONS,
    iam.NO_WILDCARD_RESOURCES,
    iam.NO_PRIVILEGED_MANAGED_POLICIES,
    iam.ROLE_TRUST_RESTRICTED,
    iam_escalation.NO_PRIVILEGE_ESCALATION,
    # Advisory by default; policies/config/<stack>.json raises some of them.
    ecr.IMMUTABLE_TAGS,
    ecr.KMS_ENCRYPTION,
    ecr.LIFECYCLE,
    ec2.IMDSV2,
    ec2.NO_SECRETS_IN_USER_DATA,
    ec2.ENCRYPTED_VOLUMES,
    ec2.NO_KEY_PAIR,
    security_groups.NO_WORLD_INGRESS,
    ec2.NO_PUBLIC_IP,
    security_groups.APP_INGRESS_FROM_LOAD_BALANCER,
    ecs.CONTAINER_INSIGHTS,
    ecs.TASK_LOGGING,
    ecs.TASK_NOT_PRIVILEGED,
    ecs.TASK_NON_ROOT,
    ecs.TASK_READ_ONLY_ROOT,
    ecs.TASK_NO_SECRETS_IN_ENVIRONMENT,
    ecs.TASK_PRIVATE_IMAGE,
    ecs.TASK_SEPARATE_ROLES,
    ecs.SERVICE_NO_PUBLIC_IP,
    ecs.SERVICE_CIRCUIT_BREAKER,
    lb.LISTENER_HTTPS,
    lb.LISTENER_MODERN_TLS,
    lb.DROP_INVALID_HEADERS,
    lb.DELETION_PROTECTION,
    lb.ACCESS_LOGS,
    lb.ACCESS_LOGS_AFTER_BUCKET_POLICY,
    s3.NO_PUBLIC_ACL,
    s3.PUBLIC_ACCESS_BLOCK_RULE,
    s3.POLICY_NOT_PUBLIC,
    logs.LOG_GROUP_RETENTION,
)


def _by_name(rules: tuple[Rule, ...]) -> dict[str, Rule]:
    by_name: dict[str, Rule] = {}
    for rule in rules:
        if rule.info.name in by_name:
            raise ValueError(f"two rules are named {rule.info.name}")
        by_name[rule.info.name] = rule
    return by_name


RULES_BY_NAME = _by_name(ALL_RULES)
ALL_POLICIES = tuple(rule.policy for rule in ALL_RULES)
