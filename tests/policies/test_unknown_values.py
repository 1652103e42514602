"""Values unknown during preview: judge what is known, say what is not, never crash."""

from __future__ import annotations

import json

import pytest

from tests.policies.fixtures import (
    COMPLIANT,
    CONTAINER,
    IAM_POLICY,
    INSTANCE,
    LOAD_BALANCER,
    REPOSITORY,
    ROLE,
    SECURITY_GROUP,
    TASK_DEFINITION,
)
from tests.policies.harness import UNKNOWN, Spec, changed, document, judge, judge_stack

ACTIONS = "aws-iam-no-wildcard-actions"
RESOURCES = "aws-iam-no-wildcard-resources"
TRUST = "aws-iam-role-trust-restricted"
ESCALATION = "aws-iam-no-privilege-escalation"
CONTAINER_RULES = {
    "aws-ecs-task-definition-logging",
    "aws-ecs-task-definition-not-privileged",
    "aws-ecs-task-definition-non-root",
    "aws-ecs-task-definition-read-only-root",
    "aws-ecs-task-definition-no-secrets-in-environment",
    "aws-ecs-task-definition-private-image",
}


def test_known_public_trust_is_reported_next_to_an_unknown_inline_policy() -> None:
    props = changed(COMPLIANT[ROLE], ("inlinePolicies", 0, "policy"), UNKNOWN)
    props["assumeRolePolicy"] = document({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"})
    verdict = judge(ROLE, props)
    assert verdict.fired == {TRUST}
    assert set(verdict.cannot_judge) == {ACTIONS, RESOURCES, ESCALATION}
    assert verdict.cannot_judge[ACTIONS] == "cannot judge yet: inlinePolicies[0].policy unknown during preview"


def test_star_resource_next_to_an_unknown_arn_is_still_reported() -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": [UNKNOWN, "*"]}
    verdict = judge(IAM_POLICY, changed(COMPLIANT[IAM_POLICY], ("policy",), json.dumps({"Statement": [statement]})))
    assert verdict.fired == {RESOURCES}
    assert set(verdict.cannot_judge) == {ACTIONS, RESOURCES, ESCALATION}


def test_unknown_container_definitions_do_not_hide_equal_roles() -> None:
    props = changed(COMPLIANT[TASK_DEFINITION], ("containerDefinitions",), UNKNOWN)
    props["taskRoleArn"] = props["executionRoleArn"]
    verdict = judge(TASK_DEFINITION, props)
    assert verdict.fired == {"aws-ecs-task-definition-separate-roles"}
    assert set(verdict.cannot_judge) == CONTAINER_RULES


def test_unknown_image_inside_container_json_only_stops_the_image_rule() -> None:
    props = changed(
        COMPLIANT[TASK_DEFINITION], ("containerDefinitions",), json.dumps([{**CONTAINER, "image": UNKNOWN}])
    )
    verdict = judge(TASK_DEFINITION, props)
    assert verdict.fired == set()
    assert set(verdict.cannot_judge) == {"aws-ecs-task-definition-private-image"}
    assert "containerDefinitions[0].image" in verdict.cannot_judge["aws-ecs-task-definition-private-image"]


def test_known_key_pair_is_reported_next_to_unknown_metadata_options() -> None:
    props = changed(COMPLIANT[INSTANCE], ("metadataOptions", "httpTokens"), UNKNOWN) | {"keyName": "admin"}
    verdict = judge(INSTANCE, props)
    assert verdict.fired == {"aws-ec2-instance-no-key-pair"}
    assert set(verdict.cannot_judge) == {"aws-ec2-instance-imdsv2"}


def test_world_cidr_next_to_an_unknown_cidr_is_reported() -> None:
    props = changed(
        COMPLIANT[SECURITY_GROUP],
        ("ingress",),
        [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": [UNKNOWN, "0.0.0.0/0"]}],
    )
    verdict = judge(SECURITY_GROUP, props)
    assert verdict.fired == {"aws-ec2-security-group-no-world-ingress"}
    assert set(verdict.cannot_judge) == {"aws-ec2-security-group-no-world-ingress"}


@pytest.mark.parametrize("resource_type", sorted(COMPLIANT))
def test_every_value_unknown_gives_no_finding_and_no_crash(resource_type: str) -> None:
    props = dict.fromkeys(COMPLIANT[resource_type], UNKNOWN)
    verdict = judge(resource_type, props)
    assert verdict.fired == set()
    assert all(message.startswith("cannot judge yet: ") for message in verdict.cannot_judge.values())


def test_repository_with_unknown_mutability_cannot_be_judged_yet() -> None:
    verdict = judge(REPOSITORY, changed(COMPLIANT[REPOSITORY], ("imageTagMutability",), UNKNOWN))
    assert verdict.fired == set()
    assert set(verdict.cannot_judge) == {"aws-ecr-repository-immutable-tags"}


def test_stack_rule_cannot_judge_load_balancer_groups_without_dependencies() -> None:
    specs = [
        Spec(LOAD_BALANCER, "alb", {**COMPLIANT[LOAD_BALANCER], "securityGroups": UNKNOWN}),
        Spec(SECURITY_GROUP, "app-sg", {"id": "sg-app", "ingress": []}),
        Spec("aws:lb/targetGroup:TargetGroup", "tg", {"port": 8000}),
    ]
    verdict = judge_stack(specs)
    assert verdict.fired == set()
    assert "securityGroups" in verdict.cannot_judge["aws-ec2-app-ingress-from-load-balancer-only"]


def test_stack_scan_on_push_waits_for_unknown_registry_rules() -> None:
    specs = [
        Spec(REPOSITORY, "repo", changed(COMPLIANT[REPOSITORY], ("imageScanningConfiguration",), {})),
        Spec("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "scan", {"rules": UNKNOWN}),
        Spec("aws:ecr/lifecyclePolicy:LifecyclePolicy", "lifecycle", {"repository": "shipshape-app"}),
    ]
    verdict = judge_stack(specs)
    assert verdict.fired == set()
    assert set(verdict.cannot_judge) == {"aws-ecr-repository-scan-on-push"}
