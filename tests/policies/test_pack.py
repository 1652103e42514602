"""Pack-wide promises: names, metadata, levels, config files and the generated README."""

from __future__ import annotations

import importlib
import pkgutil
import re

import jsonschema
import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity, StackValidationPolicy

import guardrails.rules
from guardrails import catalogue, registry
from guardrails.framework import Rule
from guardrails.registry import ALL_POLICIES, ALL_RULES, RULES_BY_NAME
from guardrails.rules import ecr

MANDATORY = {
    "aws-ecr-repository-scan-on-push",
    "aws-ecr-no-public-repositories",
    "aws-ecr-repository-policy-not-public",
    "aws-iam-no-wildcard-actions",
    "aws-iam-no-wildcard-resources",
    "aws-iam-no-privileged-managed-policies",
    "aws-iam-role-trust-restricted",
    "aws-iam-no-privilege-escalation",
}
ADVISORY = {
    "aws-ecr-repository-immutable-tags",
    "aws-ecr-repository-kms-encryption",
    "aws-ecr-repository-lifecycle-policy",
    "aws-ec2-instance-imdsv2",
    "aws-ec2-instance-no-secrets-in-user-data",
    "aws-ec2-instance-encrypted-root-volume",
    "aws-ec2-instance-no-key-pair",
    "aws-ec2-security-group-no-world-ingress",
    "aws-ec2-app-ingress-from-load-balancer-only",
    "aws-ecs-cluster-container-insights",
    "aws-ecs-task-definition-logging",
    "aws-ecs-task-definition-not-privileged",
    "aws-ecs-task-definition-non-root",
    "aws-ecs-task-definition-read-only-root",
    "aws-ecs-task-definition-no-secrets-in-environment",
    "aws-ecs-task-definition-private-image",
    "aws-ecs-task-definition-separate-roles",
    "aws-ecs-service-no-public-ip",
    "aws-ecs-service-circuit-breaker",
    "aws-lb-listener-https",
    "aws-lb-listener-modern-tls",
    "aws-lb-drop-invalid-headers",
    "aws-lb-deletion-protection",
    "aws-lb-access-logs",
    "aws-cloudwatch-log-group-retention",
    "aws-ec2-instance-no-public-ip",
    "aws-lb-access-logs-after-bucket-policy",
    "aws-s3-bucket-no-public-acl",
    "aws-s3-bucket-public-access-block",
    "aws-s3-bucket-policy-not-public",
}
REMEDIABLE = {
    "aws-ecr-repository-scan-on-push",
    "aws-ecr-repository-immutable-tags",
    "aws-ec2-instance-imdsv2",
    "aws-lb-drop-invalid-headers",
}
STACK_RULES = {
    "aws-iam-no-privilege-escalation",
    "aws-ecr-repository-scan-on-push",
    "aws-ecr-repository-lifecycle-policy",
    "aws-ec2-app-ingress-from-load-balancer-only",
    "aws-lb-access-logs-after-bucket-policy",
    "aws-s3-bucket-public-access-block",
}
KEBAB_NAME = re.compile(r"^aws-[a-z0-9]+(?:-[a-z0-9]+)+$")
LEVELS = {"advisory", "mandatory", "remediate", "disabled"}


def test_no_rule_disappears_and_none_appears_unnoticed() -> None:
    assert set(RULES_BY_NAME) == MANDATORY | ADVISORY
    assert len(ALL_RULES) == len(MANDATORY) + len(ADVISORY) == 38


def test_every_rule_a_module_defines_is_in_the_one_list() -> None:
    # Every module of guardrails.rules, found rather than listed, so a new one cannot be left out of this check.
    modules = [
        importlib.import_module(f"guardrails.rules.{info.name}")
        for info in pkgutil.iter_modules(guardrails.rules.__path__)
    ]
    assert len(modules) >= 9
    defined = {value.info.name for module in modules for value in vars(module).values() if isinstance(value, Rule)}
    assert defined == set(RULES_BY_NAME)


def test_two_rules_with_one_name_are_refused() -> None:
    with pytest.raises(ValueError, match="two rules are named aws-ecr-repository-immutable-tags"):
        registry._by_name((ecr.IMMUTABLE_TAGS, ecr.IMMUTABLE_TAGS))


def test_resource_types_are_what_the_checks_judge() -> None:
    for rule in ALL_RULES:
        stack_reads = rule.stack_check.reads if rule.stack_check else ()
        assert set(rule.resource_types) == {*rule.checks, *stack_reads, *rule.remediations}


def test_policies_match_their_rule_metadata() -> None:
    assert [policy.name for policy in ALL_POLICIES] == [rule.info.name for rule in ALL_RULES]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.info.name)
def test_rule_metadata_is_complete(rule) -> None:
    policy = rule.policy
    assert KEBAB_NAME.match(policy.name)
    assert policy.description[0].isupper() and policy.description.endswith(".")
    assert policy.description.count(". ") == 0, "description is one sentence"
    assert isinstance(policy.severity, Severity)
    assert policy.remediation_steps and len(policy.remediation_steps) > 20
    assert policy.tags and all(":" in tag or tag in ("cloudsplaining", "shipshape", "stack") for tag in policy.tags)
    assert rule.resource_types


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.info.name)
def test_default_levels(rule) -> None:
    expected = EnforcementLevel.MANDATORY if rule.info.name in MANDATORY else EnforcementLevel.ADVISORY
    assert rule.policy.enforcement_level == expected


def test_remediations_and_stack_rules_are_where_the_catalogue_says() -> None:
    remediable = {
        rule.info.name
        for rule in ALL_RULES
        if isinstance(rule.policy, ResourceValidationPolicy) and rule.policy.has_remediation()
    }
    assert remediable == REMEDIABLE
    assert {rule.info.name for rule in ALL_RULES if rule.remediable} == REMEDIABLE
    assert {rule.info.name for rule in ALL_RULES if isinstance(rule.policy, StackValidationPolicy)} == STACK_RULES


def schema_of(rule) -> dict:
    schema = rule.policy.config_schema
    properties = {**schema.properties, "enforcementLevel": {"type": "string", "enum": sorted(LEVELS)}}
    return {
        "type": "object",
        "properties": properties,
        "required": schema.required or [],
        "additionalProperties": False,
    }


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.info.name)
def test_config_schema_is_valid_json_schema_and_defaults_validate(rule) -> None:
    schema = schema_of(rule)
    jsonschema.Draft7Validator.check_schema(schema)
    assert "exemptions" in schema["properties"]
    defaults = {name: spec["default"] for name, spec in rule.policy.config_schema.properties.items()}
    jsonschema.validate(defaults, schema)


@pytest.mark.parametrize("environment", catalogue.ENVIRONMENTS)
def test_config_file_names_known_rules_with_valid_options(environment: str) -> None:
    config = catalogue.load_config(environment)
    assert config.get("all", "advisory") in LEVELS
    for name, entry in config.items():
        if name == "all":
            continue
        assert name in RULES_BY_NAME, f"{environment}.json names unknown rule {name}"
        if isinstance(entry, str):
            assert entry in LEVELS
        else:
            jsonschema.validate(entry, schema_of(RULES_BY_NAME[name]))


@pytest.mark.parametrize("environment", catalogue.ENVIRONMENTS)
def test_config_keeps_the_guarantees_mandatory(environment: str) -> None:
    config = catalogue.load_config(environment)
    for name in MANDATORY:
        assert catalogue.configured_level(config, name, "mandatory") == "mandatory", f"{environment}: {name}"


def test_prod_raises_more_than_dev() -> None:
    def mandatory_in(environment: str) -> set[str]:
        config = catalogue.load_config(environment)
        return {
            rule.info.name
            for rule in ALL_RULES
            if catalogue.configured_level(config, rule.info.name, "mandatory" if rule.info.mandatory else "advisory")
            == "mandatory"
        }

    assert mandatory_in("dev") == MANDATORY
    assert mandatory_in("prod") > MANDATORY
    # Plain HTTP forwarding is allowed in dev only.
    assert "aws-lb-listener-https" in mandatory_in("prod") - mandatory_in("dev")


def test_readme_catalogue_is_up_to_date() -> None:
    readme = catalogue.README.read_text()
    assert catalogue.with_catalogue(readme, catalogue.render()) == readme, (
        "policies/README.md is stale: run `python -m guardrails.catalogue --write` from policies/"
    )


def test_readme_catalogue_lists_every_rule() -> None:
    text = catalogue.render()
    for name in RULES_BY_NAME:
        assert f"`{name}`" in text


def test_catalogue_check_fails_on_a_stale_readme(tmp_path, monkeypatch) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n{catalogue.START}\nold\n{catalogue.END}\n")
    monkeypatch.setattr(catalogue, "README", stale)
    assert catalogue.main(["--check"]) == 1
    assert catalogue.main(["--write"]) == 0
    assert catalogue.main(["--check"]) == 0
