"""The four remediations fix exactly their property and leave everything else as the engine sent it."""

from __future__ import annotations

import copy

import pytest
from pulumi_policy import ResourceValidationArgs

from guardrails.registry import RULES_BY_NAME
from guardrails.sdk import unknown_checking_proxy
from tests.policies.fixtures import COMPLIANT, INSTANCE, LAUNCH_TEMPLATE, LOAD_BALANCER, REPOSITORY
from tests.policies.harness import UNKNOWN, changed, judge, options, urn_for


def remediate(rule: str, resource_type: str, props: dict, config: dict | None = None):
    args = ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(copy.deepcopy(props)),
        urn_for(resource_type, "subject"),
        "subject",
        options(),
        None,
        config,
    )
    return RULES_BY_NAME[rule].policy.remediate(args)


CASES = [
    pytest.param(
        "aws-ecr-repository-scan-on-push",
        REPOSITORY,
        changed(COMPLIANT[REPOSITORY], ("imageScanningConfiguration", "scanOnPush"), False),
        ("imageScanningConfiguration", "scanOnPush"),
        True,
        id="scan-on-push",
    ),
    pytest.param(
        "aws-ecr-repository-immutable-tags",
        REPOSITORY,
        changed(COMPLIANT[REPOSITORY], ("imageTagMutability",), "MUTABLE"),
        ("imageTagMutability",),
        "IMMUTABLE",
        id="immutable-tags",
    ),
    pytest.param(
        "aws-ec2-instance-imdsv2",
        INSTANCE,
        changed(COMPLIANT[INSTANCE], ("metadataOptions", "httpTokens"), "optional"),
        ("metadataOptions", "httpTokens"),
        "required",
        id="imdsv2-instance",
    ),
    pytest.param(
        "aws-ec2-instance-imdsv2",
        LAUNCH_TEMPLATE,
        changed(COMPLIANT[LAUNCH_TEMPLATE], ("metadataOptions",), {}),
        ("metadataOptions", "httpTokens"),
        "required",
        id="imdsv2-launch-template",
    ),
    pytest.param(
        "aws-lb-drop-invalid-headers",
        LOAD_BALANCER,
        changed(COMPLIANT[LOAD_BALANCER], ("dropInvalidHeaderFields",), False),
        ("dropInvalidHeaderFields",),
        True,
        id="drop-invalid-headers",
    ),
]


@pytest.mark.parametrize(("rule", "resource_type", "props", "path", "value"), CASES)
def test_remediation_changes_only_its_property(
    rule: str, resource_type: str, props: dict, path: tuple, value: object
) -> None:
    props = props | {"tags": {"owner": UNKNOWN}}
    fixed = remediate(rule, resource_type, props)
    assert fixed == changed(props, path, value)


@pytest.mark.parametrize(("rule", "resource_type", "props", "path", "value"), CASES)
def test_remediated_resource_passes_the_rule(
    rule: str, resource_type: str, props: dict, path: tuple, value: object
) -> None:
    fixed = remediate(rule, resource_type, props)
    assert rule not in judge(resource_type, fixed).fired


@pytest.mark.parametrize(
    ("rule", "resource_type"),
    [
        ("aws-ecr-repository-scan-on-push", REPOSITORY),
        ("aws-ecr-repository-immutable-tags", REPOSITORY),
        ("aws-ec2-instance-imdsv2", INSTANCE),
        ("aws-lb-drop-invalid-headers", LOAD_BALANCER),
    ],
)
def test_compliant_resources_are_left_alone(rule: str, resource_type: str) -> None:
    assert remediate(rule, resource_type, COMPLIANT[resource_type]) is None


def test_exempt_resource_is_not_remediated() -> None:
    props = changed(COMPLIANT[REPOSITORY], ("imageTagMutability",), "MUTABLE")
    config = {"exemptions": ["*::subject"]}
    assert remediate("aws-ecr-repository-immutable-tags", REPOSITORY, props, config) is None


def test_network_load_balancer_is_not_given_an_alb_attribute() -> None:
    props = {"loadBalancerType": "network", "dropInvalidHeaderFields": False}
    assert remediate("aws-lb-drop-invalid-headers", LOAD_BALANCER, props) is None


def test_unknown_value_is_not_overwritten() -> None:
    props = changed(COMPLIANT[REPOSITORY], ("imageTagMutability",), UNKNOWN)
    assert remediate("aws-ecr-repository-immutable-tags", REPOSITORY, props) is None
