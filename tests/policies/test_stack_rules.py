"""Stack rules: lifecycle per repository, scan on push or registry scanning, app ingress from the ALB only."""

from __future__ import annotations

import pytest

from tests.policies.fixtures import (
    COMPLIANT,
    CREATION_TEMPLATE,
    INGRESS_RULE,
    INSTANCE,
    LIFECYCLE_POLICY,
    LOAD_BALANCER,
    REGISTRY_SCANNING,
    REPOSITORY,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    SERVICE,
    TARGET_GROUP,
)
from tests.policies.harness import UNKNOWN, Spec, changed, judge_stack, urn_for

LIFECYCLE = "aws-ecr-repository-lifecycle-policy"
SCAN = "aws-ecr-repository-scan-on-push"
APP_INGRESS = "aws-ec2-app-ingress-from-load-balancer-only"


def app_rule(**props: object) -> Spec:
    base = {
        "securityGroupId": "sg-app",
        "referencedSecurityGroupId": "sg-alb",
        "ipProtocol": "tcp",
        "fromPort": 8000,
        "toPort": 8000,
    }
    return Spec(
        INGRESS_RULE,
        "app-from-alb",
        {key: value for key, value in {**base, **props}.items() if value is not None},
        {"securityGroupId": ("app-sg",), "referencedSecurityGroupId": ("alb-sg",)},
    )


MANUAL_SCANNING = changed(COMPLIANT[REGISTRY_SCANNING], ("rules", 0, "scanFrequency"), "MANUAL")


def scanning_filter(pattern: str) -> dict:
    return changed(COMPLIANT[REGISTRY_SCANNING], ("rules", 0, "repositoryFilters", 0, "filter"), pattern)


def stack(*replacements: Spec, without: tuple[str, ...] = ()) -> list[Spec]:
    """The compliant stack, with specs replaced by name and some removed."""
    specs = [
        Spec(REPOSITORY, "repo", COMPLIANT[REPOSITORY]),
        Spec(LIFECYCLE_POLICY, "repo-lifecycle", COMPLIANT[LIFECYCLE_POLICY], {"repository": ("repo",)}),
        Spec(SECURITY_GROUP, "alb-sg", {**COMPLIANT[SECURITY_GROUP], "id": "sg-alb"}),
        Spec(SECURITY_GROUP, "app-sg", {"vpcId": "vpc-1", "description": "tasks", "id": "sg-app"}),
        Spec(SECURITY_GROUP, "host-sg", {"vpcId": "vpc-1", "description": "host", "id": "sg-host"}),
        app_rule(),
        Spec(LOAD_BALANCER, "alb", COMPLIANT[LOAD_BALANCER], {"securityGroups": ("alb-sg",)}),
        Spec(TARGET_GROUP, "web-tg", {"port": 8000, "protocol": "HTTP", "targetType": "ip"}),
        Spec(SERVICE, "web", COMPLIANT[SERVICE], {"networkConfiguration": ("app-sg",)}),
        Spec(
            INSTANCE,
            "host",
            {**COMPLIANT[INSTANCE], "vpcSecurityGroupIds": ["sg-host"]},
            {"vpcSecurityGroupIds": ("host-sg",)},
        ),
    ]
    by_name = {spec.name: spec for spec in replacements}
    kept = [by_name.pop(spec.name, spec) for spec in specs if spec.name not in without]
    return kept + list(by_name.values())


def test_compliant_stack_passes_every_stack_rule() -> None:
    verdict = judge_stack(stack())
    assert verdict.fired == set()
    assert verdict.cannot_judge == {}


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        pytest.param(stack(without=("repo-lifecycle",)), {LIFECYCLE}, id="repository-without-lifecycle"),
        pytest.param(
            stack(Spec(LIFECYCLE_POLICY, "repo-lifecycle", COMPLIANT[LIFECYCLE_POLICY])),
            set(),
            id="lifecycle-matched-by-repository-name",
        ),
        pytest.param(
            stack(Spec(LIFECYCLE_POLICY, "repo-lifecycle", {**COMPLIANT[LIFECYCLE_POLICY], "repository": "other"})),
            {LIFECYCLE},
            id="lifecycle-for-another-repository",
        ),
        pytest.param(
            stack(
                Spec(
                    REPOSITORY,
                    "repo",
                    changed(COMPLIANT[REPOSITORY], ("imageScanningConfiguration", "scanOnPush"), False),
                )
            ),
            {SCAN},
            id="repository-not-scanned",
        ),
        pytest.param(
            stack(
                Spec(REPOSITORY, "repo", changed(COMPLIANT[REPOSITORY], ("imageScanningConfiguration",), {})),
                Spec(REGISTRY_SCANNING, "registry-scanning", COMPLIANT[REGISTRY_SCANNING]),
            ),
            set(),
            id="registry-scanning-covers-the-repository",
        ),
        pytest.param(
            stack(
                Spec(REPOSITORY, "repo", changed(COMPLIANT[REPOSITORY], ("imageScanningConfiguration",), {})),
                Spec(
                    REGISTRY_SCANNING,
                    "registry-scanning",
                    changed(COMPLIANT[REGISTRY_SCANNING], ("rules", 0, "repositoryFilters", 0, "filter"), "prod-*"),
                ),
            ),
            {SCAN},
            id="registry-scanning-covers-some-repositories",
        ),
        pytest.param(
            stack(
                Spec(REPOSITORY, "repo", changed(COMPLIANT[REPOSITORY], ("imageScanningConfiguration",), {})),
                Spec(REGISTRY_SCANNING, "registry-scanning", MANUAL_SCANNING),
            ),
            {SCAN},
            id="manual-registry-scanning-does-not-cover-the-repository",
        ),
        pytest.param(
            stack(Spec(REGISTRY_SCANNING, "registry-scanning", MANUAL_SCANNING)),
            set(),
            id="manual-registry-scanning-next-to-repositories-that-scan-on-push",
        ),
        pytest.param(
            stack(Spec(REGISTRY_SCANNING, "registry-scanning", MANUAL_SCANNING), without=("repo", "repo-lifecycle")),
            set(),
            id="manual-registry-scanning-without-repositories",
        ),
        pytest.param(
            stack(
                Spec(REPOSITORY, "repo", changed(COMPLIANT[REPOSITORY], ("imageScanningConfiguration",), {})),
                Spec(REGISTRY_SCANNING, "registry-scanning", scanning_filter("shipshape-*")),
            ),
            set(),
            id="registry-scanning-filter-matches-the-repository-name",
        ),
        pytest.param(
            stack(Spec(CREATION_TEMPLATE, "template", COMPLIANT[CREATION_TEMPLATE])),
            {SCAN},
            id="creation-template-without-registry-scanning",
        ),
        pytest.param(
            stack(
                Spec(CREATION_TEMPLATE, "template", COMPLIANT[CREATION_TEMPLATE]),
                Spec(REGISTRY_SCANNING, "registry-scanning", scanning_filter("shipshape/*")),
            ),
            set(),
            id="creation-template-prefix-scanned",
        ),
        pytest.param(
            stack(
                Spec(CREATION_TEMPLATE, "template", {**COMPLIANT[CREATION_TEMPLATE], "prefix": "ROOT"}),
                Spec(REGISTRY_SCANNING, "registry-scanning", scanning_filter("shipshape/*")),
            ),
            {SCAN},
            id="root-creation-template-needs-every-repository-scanned",
        ),
        pytest.param(
            stack(
                Spec(CREATION_TEMPLATE, "template", {**COMPLIANT[CREATION_TEMPLATE], "prefix": "ROOT"}),
                Spec(REGISTRY_SCANNING, "registry-scanning", COMPLIANT[REGISTRY_SCANNING]),
            ),
            set(),
            id="root-creation-template-with-everything-scanned",
        ),
        pytest.param(
            stack(app_rule(referencedSecurityGroupId=None, cidrIpv4="0.0.0.0/0")),
            {APP_INGRESS},
            id="app-port-from-world",
        ),
        pytest.param(
            stack(app_rule(referencedSecurityGroupId=None, cidrIpv4="10.0.0.0/16")),
            {APP_INGRESS},
            id="app-port-from-vpc-cidr",
        ),
        pytest.param(
            stack(
                Spec(
                    INGRESS_RULE,
                    "app-from-alb",
                    {**app_rule().props, "referencedSecurityGroupId": "sg-other"},
                    {"securityGroupId": ("app-sg",)},
                )
            ),
            {APP_INGRESS},
            id="app-port-from-another-group",
        ),
        pytest.param(
            stack(
                app_rule(
                    ipProtocol="-1", fromPort=None, toPort=None, referencedSecurityGroupId=None, cidrIpv4="10.0.0.0/8"
                )
            ),
            {APP_INGRESS},
            id="all-traffic-covers-the-app-port",
        ),
        pytest.param(
            stack(app_rule(fromPort=443, toPort=443, referencedSecurityGroupId=None, cidrIpv4="10.0.0.0/8")),
            set(),
            id="other-port-is-not-this-rules-business",
        ),
        pytest.param(
            stack(
                Spec(
                    SECURITY_GROUP,
                    "host-sg",
                    {
                        "id": "sg-host",
                        "ingress": [{"protocol": "tcp", "fromPort": 8000, "toPort": 8000, "cidrBlocks": ["0.0.0.0/0"]}],
                    },
                )
            ),
            {APP_INGRESS},
            id="host-inline-ingress-from-world",
        ),
        pytest.param(
            stack(
                Spec(
                    SECURITY_GROUP_RULE,
                    "host-rule",
                    {
                        "type": "ingress",
                        "protocol": "tcp",
                        "fromPort": 8000,
                        "toPort": 8000,
                        "securityGroupId": "sg-host",
                        "sourceSecurityGroupId": "sg-alb",
                    },
                )
            ),
            set(),
            id="classic-rule-from-alb-group",
        ),
        pytest.param(
            stack(
                Spec(
                    SECURITY_GROUP_RULE,
                    "host-rule",
                    {
                        "type": "ingress",
                        "protocol": "tcp",
                        "fromPort": 8000,
                        "toPort": 8000,
                        "securityGroupId": "sg-host",
                        "cidrBlocks": ["10.0.0.0/8"],
                    },
                )
            ),
            {APP_INGRESS},
            id="classic-rule-from-cidr",
        ),
        pytest.param(stack(without=("alb",)), set(), id="no-load-balancer-no-verdict"),
    ],
)
def test_stack_rules_fire_exactly(specs: list[Spec], expected: set[str]) -> None:
    assert judge_stack(specs).fired == expected


def test_violation_names_the_resource_at_fault() -> None:
    verdict = judge_stack(stack(app_rule(referencedSecurityGroupId=None, cidrIpv4="0.0.0.0/0")))
    [(message, urn)] = verdict.messages[APP_INGRESS]
    assert urn == urn_for(INGRESS_RULE, "app-from-alb")
    assert "0.0.0.0/0" in message and "8000" in message


def test_groups_are_matched_through_dependencies_when_ids_are_unknown() -> None:
    specs = stack(
        Spec(SECURITY_GROUP, "alb-sg", {**COMPLIANT[SECURITY_GROUP], "id": UNKNOWN}),
        Spec(SECURITY_GROUP, "app-sg", {"id": UNKNOWN}),
        Spec(
            LOAD_BALANCER,
            "alb",
            {**COMPLIANT[LOAD_BALANCER], "securityGroups": [UNKNOWN]},
            {"securityGroups": ("alb-sg",)},
        ),
        app_rule(securityGroupId=UNKNOWN, referencedSecurityGroupId=None, cidrIpv4="0.0.0.0/0"),
    )
    verdict = judge_stack(specs)
    assert verdict.fired == {APP_INGRESS}


def test_lifecycle_exemption_by_urn_pattern() -> None:
    config = {LIFECYCLE: {"exemptions": ["*::repo"]}}
    assert judge_stack(stack(without=("repo-lifecycle",)), config=config).fired == set()
