"""How a rule is written here, and how it becomes a pulumi-policy Policy.

A rule's logic is a small pure function over plain values: `check(resource, findings)` for one
resource, or `check(stack, findings)` for the whole stack. It records violations and the values it
could not judge yet; this module does the rest the same way for every rule: config options with
defaults, exemptions by URN pattern, reporting, and the "cannot judge yet" convention.

The cannot-judge convention: known violations are reported first with the rule's own enforcement
level; then, if some value was unknown, the rule raises `CannotJudgeYet`. pulumi-policy turns that into
its own preview diagnostic, always at advisory level whatever the rule's level, so a value that is only
unknown never blocks a deployment:

    can't run policy '<rule>' from policy pack 'shipshape-guardrails@v<version>' during preview:
    cannot judge yet: <property paths> unknown during preview
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from guardrails.values import Unknown, as_int, find_unknowns, plain

CANNOT_JUDGE_PREFIX = "cannot judge yet:"

# Rule code reads shapes defensively; these are the mistakes a surprising shape could still cause.
# They become a finding (never a pass, never a crash of the whole preview).
_SHAPE_ERRORS = (AttributeError, IndexError, KeyError, TypeError, ValueError)


class CannotJudgeYet(UnknownValueError):
    """Raised after a rule reported what it could: some values it needs are unknown during preview."""

    def __init__(self, paths: Sequence[str]) -> None:
        Exception.__init__(self)
        self.unknown_type_sentinel = UNKNOWN_STRING_VALUE
        self.props = list(paths)
        self.message = f"{CANNOT_JUDGE_PREFIX} {', '.join(paths)} unknown during preview"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Option:
    """One config option of a rule: its JSON schema, default and meaning."""

    name: str
    schema: Mapping[str, Any]
    default: Any
    description: str

    def json_schema(self) -> dict[str, Any]:
        return {**self.schema, "description": self.description, "default": self.default}


EXEMPTIONS = Option(
    name="exemptions",
    schema={"type": "array", "items": {"type": "string", "minLength": 1}},
    default=[],
    description="URN glob patterns (fnmatch) of resources this rule does not judge.",
)


def port_list_option(name: str, default: list[int], description: str) -> Option:
    return Option(
        name=name,
        schema={"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 65535}},
        default=default,
        description=description,
    )


def string_list_option(name: str, default: list[str], description: str) -> Option:
    return Option(
        name=name,
        schema={"type": "array", "items": {"type": "string", "minLength": 1}},
        default=default,
        description=description,
    )


def _read_option(option: Option, value: Any) -> tuple[Any, str | None]:
    """The option's value coerced to its schema's shape, or its default and a problem naming it."""
    item_type = option.schema.get("items", {}).get("type")
    if option.schema.get("type") == "array" and isinstance(value, list):
        if item_type == "integer":
            numbers = [as_int(item) for item in value]
            low = option.schema["items"].get("minimum", float("-inf"))
            high = option.schema["items"].get("maximum", float("inf"))
            if all(number is not None and low <= number <= high for number in numbers):
                return numbers, None
        elif item_type == "string" and all(isinstance(item, str) and item for item in value):
            return list(value), None
    expected = f"a list of {item_type}s" if item_type else option.schema.get("type")
    return option.default, f"config option '{option.name}' must be {expected}; got {value!r}, using the default"


@dataclass
class Findings:
    """What one run of a rule found: violations (message, optional URN) and values not known yet."""

    exemptions: Sequence[str] = ()
    violations: list[tuple[str, str | None]] = field(default_factory=list)
    unknown_paths: list[str] = field(default_factory=list)

    def violation(self, message: str, urn: str | None = None) -> None:
        if urn is not None and exempted_by(urn, self.exemptions):
            return
        self.violations.append((message, urn))

    def unknown(self, value: Any, urn: str | None = None) -> bool:
        """True (and noted) when the value itself is not known yet; the caller then stops judging it."""
        return self.unknown_any(value, urn=urn)

    def unknown_any(self, *values: Any, urn: str | None = None) -> bool:
        """True (and every one noted) when any of the values is itself not known yet."""
        found = [value for value in values if isinstance(value, Unknown)]
        self._note(found, urn)
        return bool(found)

    def unknown_inside(self, value: Any, urn: str | None = None) -> bool:
        """True (and every one noted) when anything nested in the value is not known yet."""
        found = find_unknowns(value)
        self._note(found, urn)
        return bool(found)

    def _note(self, found: list[Unknown], urn: str | None) -> None:
        if urn is not None and exempted_by(urn, self.exemptions):
            return
        for item in found:
            label = item.path if urn is None else f"{item.path} of {urn}"
            if label not in self.unknown_paths:
                self.unknown_paths.append(label)


def exempted_by(urn: str, patterns: Sequence[str]) -> str | None:
    """The first exemption pattern matching the URN, if any."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(urn, pattern):
            return pattern
    return None


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it: engine type, URN, name and plain engine (camelCase) properties."""

    type: str
    urn: str
    name: str
    props: dict[str, Any]
    options: Mapping[str, Any] = field(default_factory=dict)
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Stack:
    """Every resource of the stack, for rules that judge relations between resources."""

    resources: tuple[Resource, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    def of_type(self, *types: str) -> list[Resource]:
        return [resource for resource in self.resources if resource.type in types]


ResourceCheck = Callable[[Resource, Findings], None]
StackCheck = Callable[[Stack, Findings], None]
Remediation = Callable[[Resource], dict[str, Any] | None]


@dataclass(frozen=True)
class RuleInfo:
    """The metadata every rule carries; the catalogue and the pack-wide tests read it."""

    name: str
    description: str
    severity: Severity
    remediation_steps: str
    frameworks: tuple[str, ...]
    resource_types: tuple[str, ...]
    mandatory: bool = False
    options: tuple[Option, ...] = ()
    stack_level: bool = False
    remediable: bool = False

    def config_schema(self) -> PolicyConfigSchema:
        properties = {option.name: option.json_schema() for option in (*self.options, EXEMPTIONS)}
        return PolicyConfigSchema(properties=properties)

    def policy_kwargs(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "enforcement_level": EnforcementLevel.MANDATORY if self.mandatory else EnforcementLevel.ADVISORY,
            "config_schema": self.config_schema(),
            "severity": self.severity,
            "tags": [*self.frameworks, *(["stack"] if self.stack_level else [])],
            "remediation_steps": self.remediation_steps,
        }


def _options(info: RuleInfo, config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    problems: list[str] = []
    for option in (*info.options, EXEMPTIONS):
        if option.name not in config:
            values[option.name] = option.default
            continue
        values[option.name], problem = _read_option(option, plain(config[option.name]))
        if problem:
            problems.append(problem)
    return values, problems


def _report(findings: Findings, report_violation: ReportViolation, *, with_urn: bool) -> None:
    for message, urn in findings.violations:
        if with_urn and urn:
            report_violation(message, urn)
        else:
            report_violation(message)
    if findings.unknown_paths:
        raise CannotJudgeYet(findings.unknown_paths)


def run_resource_check(
    info: RuleInfo, checks: Mapping[str, ResourceCheck], args: ResourceValidationArgs
) -> Findings | None:
    """Judge one resource; None when the rule does not look at this type. Raises NotApplicable if exempt."""
    check = checks.get(args.resource_type)
    if check is None:
        return None
    options, problems = _options(info, args.get_config())
    pattern = exempted_by(args.urn, options["exemptions"])
    if pattern:
        args.not_applicable(f"exempted by pattern {pattern!r}")
    props = plain(args.props)
    resource = Resource(
        type=args.resource_type,
        urn=args.urn,
        name=args.name,
        props=props if isinstance(props, dict) else {},
        options=options,
    )
    findings = Findings(exemptions=options["exemptions"])
    for problem in problems:
        findings.violation(problem)
    try:
        check(resource, findings)
    except _SHAPE_ERRORS as error:
        findings.violation(f"could not evaluate {args.resource_type} {args.name!r}: {error!r}")
    return findings


def not_applicable(args: ResourceValidationArgs) -> None:
    """Tell the engine this rule does not judge the resource's type (pulumi-policy raises, and answers
    PolicyNotApplicable over the protocol), so a preview can count the resources no rule judged."""
    args.not_applicable(f"checks no {args.resource_type}")


def stack_from_args(args: StackValidationArgs, options: Mapping[str, Any]) -> Stack:
    def convert(resource: PolicyResource) -> Resource:
        props = plain(resource.props)
        return Resource(
            type=resource.resource_type,
            urn=resource.urn,
            name=resource.name,
            props=props if isinstance(props, dict) else {},
            options=options,
            parent=resource.parent.urn if resource.parent is not None else None,
            dependencies=tuple(dependency.urn for dependency in resource.dependencies),
            property_dependencies={
                key: tuple(dependency.urn for dependency in dependencies)
                for key, dependencies in resource.property_dependencies.items()
            },
        )

    return Stack(resources=tuple(convert(resource) for resource in args.resources), options=options)


def run_stack_check(info: RuleInfo, check: StackCheck, args: StackValidationArgs) -> Findings:
    options, problems = _options(info, args.get_config())
    findings = Findings(exemptions=options["exemptions"])
    for problem in problems:
        findings.violation(problem)
    try:
        check(stack_from_args(args, options), findings)
    except _SHAPE_ERRORS as error:
        findings.violation(f"could not evaluate the stack: {error!r}")
    return findings


def _remediate(info: RuleInfo, remediation: Remediation, args: ResourceValidationArgs) -> dict[str, Any] | None:
    options, _ = _options(info, args.get_config())
    if exempted_by(args.urn, options["exemptions"]):
        return None
    props = plain(args.props)
    if not isinstance(props, dict):
        return None
    resource = Resource(type=args.resource_type, urn=args.urn, name=args.name, props=props, options=options)
    return remediation(resource)


def resource_rule(
    info: RuleInfo,
    checks: Mapping[str, ResourceCheck],
    remediations: Mapping[str, Remediation] | None = None,
) -> Rule:
    """A ResourceValidationPolicy judging the given engine types with the given checks."""
    checks = dict(checks)
    remediations = dict(remediations or {})

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        findings = run_resource_check(info, checks, args)
        if findings is None:
            not_applicable(args)
        else:
            _report(findings, report_violation, with_urn=False)

    def remediate(args: ResourceValidationArgs) -> dict[str, Any] | None:
        remediation = remediations.get(args.resource_type)
        return _remediate(info, remediation, args) if remediation else None

    policy = ResourceValidationPolicy(
        validate=validate, remediate=remediate if remediations else None, **info.policy_kwargs()
    )
    return Rule(info, policy)


def stack_rule(info: RuleInfo, check: StackCheck) -> Rule:
    """A StackValidationPolicy; violations name the URN of the resource at fault."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        _report(run_stack_check(info, check, args), report_violation, with_urn=True)

    return Rule(info, StackValidationPolicy(validate=validate, **info.policy_kwargs()))


class StackJudgedRemediablePolicy(ResourceValidationPolicy, StackValidationPolicy):
    """A rule judged at stack level that can still fix a single resource before it is created.

    pulumi-policy only remediates through resource policies and only sees other resources in stack
    policies; a rule whose verdict needs the whole stack ("scan on push, or a registry scanning
    configuration covering every repository") but whose fix is on one resource needs both. The
    servicer dispatches on isinstance, so this one object answers Analyze (its per-resource checks),
    AnalyzeStack (the verdict) and Remediate. GetAnalyzerInfo lists it as a resource policy.
    """

    def __init__(
        self,
        info: RuleInfo,
        resource_checks: Mapping[str, ResourceCheck],
        stack_check: StackCheck,
        remediations: Mapping[str, Remediation],
    ) -> None:
        kwargs = info.policy_kwargs()
        Policy.__init__(
            self,
            kwargs["name"],
            kwargs["description"],
            enforcement_level=kwargs["enforcement_level"],
            config_schema=kwargs["config_schema"],
            severity=kwargs["severity"],
            tags=kwargs["tags"],
            remediation_steps=kwargs["remediation_steps"],
        )
        self._info = info
        self._resource_checks = dict(resource_checks)
        self._stack_check = stack_check
        self._remediations = dict(remediations)

    def validate(self, args: Any, report_violation: ReportViolation) -> None:
        if isinstance(args, StackValidationArgs):
            _report(run_stack_check(self._info, self._stack_check, args), report_violation, with_urn=True)
            return
        findings = run_resource_check(self._info, self._resource_checks, args)
        if findings is None:
            not_applicable(args)
        else:
            _report(findings, report_violation, with_urn=False)

    def has_validation(self) -> bool:
        return True

    def remediate(self, args: ResourceValidationArgs) -> dict[str, Any] | None:
        remediation = self._remediations.get(args.resource_type)
        return _remediate(self._info, remediation, args) if remediation else None

    def has_remediation(self) -> bool:
        return bool(self._remediations)


@dataclass(frozen=True)
class Rule:
    """A rule's metadata with the pulumi-policy object that runs it."""

    info: RuleInfo
    policy: Policy
