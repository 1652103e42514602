"""How a rule is written here, and how it becomes a pulumi-policy Policy.

A rule's logic is a small pure function over plain values: `check(resource, findings)` for one
resource, or `check(stack, findings)` for the whole stack. It records violations and the values it
could not judge yet; this module does the rest the same way for every rule: config options with
defaults, exemptions by URN pattern, bounded findings, reporting, and the "cannot judge yet" convention.
A rule's resource types are the keys of its check maps, so what it claims to judge is what it judges.

The cannot-judge convention: known violations are reported first with the rule's own enforcement
level; then, if some value was unknown, the rule raises pulumi-policy's UnknownValueError, which the
servicer reports as its own preview diagnostic, always at advisory level whatever the rule's level, so
a value that is only unknown never blocks a deployment:

    can't run policy '<rule>' from policy pack 'shipshape-guardrails@v<version>' during preview:
    cannot judge yet: <property paths> unknown during preview

Findings and options live in findings.py; this module re-exports them for the rule modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from guardrails import sdk
from guardrails.findings import (
    EXEMPTIONS,
    MAX_FINDINGS,
    MAX_MESSAGE,
    Findings,
    Option,
    exempted_by,
    port_list_option,
    read_option,
    string_list_option,
)
from guardrails.values import plain, shown

__all__ = [
    "EXEMPTIONS",
    "MAX_FINDINGS",
    "MAX_MESSAGE",
    "Findings",
    "Option",
    "Resource",
    "Rule",
    "RuleInfo",
    "Stack",
    "StackCheck",
    "exempted_by",
    "port_list_option",
    "resource_rule",
    "stack_rule",
    "string_list_option",
]


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

    def keys(self, *props: str) -> set[str]:
        """How other resources may name this one: its URN and the known values of the given properties."""
        return {self.urn} | {value for prop in props if isinstance(value := self.props.get(prop), str) and value}

    def references(self, prop: str) -> set[str]:
        """What a property names: its known string value(s) and the URNs the engine says it depends on."""
        value = self.props.get(prop)
        named = {item for item in (value if isinstance(value, list) else [value]) if isinstance(item, str) and item}
        return named | set(self.property_dependencies.get(prop, ()))


@dataclass(frozen=True)
class Stack:
    """Every resource of the stack, for rules that judge relations between resources."""

    resources: tuple[Resource, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    def of_type(self, *types: str) -> list[Resource]:
        return [resource for resource in self.resources if resource.type in types]

    def by_urn(self) -> dict[str, Resource]:
        return {resource.urn: resource for resource in self.resources}


ResourceCheck = Callable[[Resource, Findings], None]
Remediation = Callable[[Resource], dict[str, Any] | None]


@dataclass(frozen=True)
class StackCheck:
    """A check over the whole stack and the resource types it reads (they count as the rule's types)."""

    judge: Callable[[Stack, Findings], None]
    reads: tuple[str, ...]


@dataclass(frozen=True)
class RuleInfo:
    """The metadata every rule carries; the catalogue and the pack-wide tests read it."""

    name: str
    description: str
    severity: Severity
    remediation_steps: str
    frameworks: tuple[str, ...]
    mandatory: bool = False
    options: tuple[Option, ...] = ()
    limits: str = ""
    """What the rule does not see or judge, for the catalogue."""

    def config_schema(self) -> PolicyConfigSchema:
        properties = {option.name: option.json_schema() for option in (*self.options, EXEMPTIONS)}
        return PolicyConfigSchema(properties=properties)

    def policy_metadata(self, stack_level: bool) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "enforcement_level": EnforcementLevel.MANDATORY if self.mandatory else EnforcementLevel.ADVISORY,
            "config_schema": self.config_schema(),
            "severity": self.severity,
            "tags": [*self.frameworks, *(["stack"] if stack_level else [])],
            "remediation_steps": self.remediation_steps,
        }

    def read_options(self, config: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
        values: dict[str, Any] = {}
        problems: list[str] = []
        for option in (*self.options, EXEMPTIONS):
            if not config or option.name not in config:
                values[option.name] = option.default
                continue
            values[option.name], problem = read_option(option, plain(config[option.name]))
            if problem:
                problems.append(problem)
        return values, problems


def _judge_safely(judge: Callable[[], None], findings: Findings, what: str) -> None:
    """Run a check; a failure on a shape nobody foresaw becomes a finding, never a crash of the preview."""
    try:
        judge()
    except Exception as error:  # noqa: BLE001 - any failure is reported as a finding naming the input
        findings.violation(f"could not evaluate {what}: {type(error).__name__}: {shown(str(error))}")


class Rule:
    """One rule: metadata, checks keyed by engine type, an optional stack check, remediations.

    `resource_types` is derived from the check maps; `policy` is the pulumi-policy object that runs it.
    """

    def __init__(
        self,
        info: RuleInfo,
        checks: Mapping[str, ResourceCheck] | None = None,
        stack_check: StackCheck | None = None,
        remediations: Mapping[str, Remediation] | None = None,
    ) -> None:
        self.info = info
        self.checks = dict(checks or {})
        self.stack_check = stack_check
        self.remediations = dict(remediations or {})
        if not self.checks and stack_check is None:
            raise ValueError(f"rule {info.name} judges nothing: give it checks or a stack check")
        if self.checks and stack_check is None:
            self.policy: ResourceValidationPolicy | StackValidationPolicy = ResourcePolicy(self)
        elif self.checks or self.remediations:
            self.policy = StackJudgedResourcePolicy(self)
        else:
            self.policy = StackPolicy(self)

    def __repr__(self) -> str:
        return f"Rule({self.info.name})"

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def resource_types(self) -> tuple[str, ...]:
        types = [*self.checks, *(self.stack_check.reads if self.stack_check else ()), *self.remediations]
        return tuple(dict.fromkeys(types))

    @property
    def stack_level(self) -> bool:
        return self.stack_check is not None

    @property
    def remediable(self) -> bool:
        return bool(self.remediations)

    def judge_resource(
        self, resource_type: str, urn: str, name: str, props: Any, config: Mapping[str, Any] | None
    ) -> Findings | None:
        """Judge one resource (plain properties); None when the rule does not look at this type.

        Raises sdk.NotApplicable when an exemption pattern matches the URN.
        """
        check = self.checks.get(resource_type)
        if check is None:
            return None
        options, problems = self.info.read_options(config)
        pattern = exempted_by(urn, options["exemptions"])
        if pattern:
            raise sdk.NotApplicable(f"exempted by pattern {pattern!r}")
        resource = Resource(
            type=resource_type, urn=urn, name=name, props=props if isinstance(props, dict) else {}, options=options
        )
        findings = Findings(exemptions=options["exemptions"])
        for problem in problems:
            findings.violation(problem)
        _judge_safely(lambda: check(resource, findings), findings, f"{resource_type} {shown(name)}")
        return findings

    def judge_stack(self, stack: Stack, config: Mapping[str, Any] | None) -> Findings:
        if self.stack_check is None:
            raise TypeError(f"rule {self.info.name} has no stack check")
        check = self.stack_check.judge
        options, problems = self.info.read_options(config)
        findings = Findings(exemptions=options["exemptions"])
        for problem in problems:
            findings.violation(problem)
        judged = Stack(resources=stack.resources, options=options)
        _judge_safely(lambda: check(judged, findings), findings, "the stack")
        return findings

    def remediate(self, resource_type: str, urn: str, name: str, props: Any, config: Mapping[str, Any] | None):
        remediation = self.remediations.get(resource_type)
        if remediation is None or not isinstance(props, dict):
            return None
        options, _ = self.info.read_options(config)
        if exempted_by(urn, options["exemptions"]):
            return None
        return remediation(Resource(type=resource_type, urn=urn, name=name, props=props, options=options))


def _reported(findings: Findings | None, with_urn: bool) -> list[tuple[str, str | None]]:
    """The findings as (message, urn) pairs; raises the cannot-judge error after them when needed."""
    if findings is None:
        return []
    messages = [(message, urn if with_urn else None) for message, urn in findings.messages()]
    if findings.unknown_paths:
        # The known violations must reach the servicer before the error does: report them through it.
        raise _CannotJudgeAfter(messages, findings.cannot_judge_message(), findings.unknown_paths)
    return messages


class _CannotJudgeAfter(Exception):
    def __init__(self, messages: list[tuple[str, str | None]], message: str, paths: Sequence[str]) -> None:
        super().__init__(message)
        self.messages = messages
        self.error = sdk.cannot_judge_error(message, paths)


def _emit(judge: Callable[[], list[tuple[str, str | None]]]) -> Iterable[tuple[str, str | None]]:
    """Yield the violations, then raise UnknownValueError when some value was not known yet."""
    try:
        messages = judge()
    except _CannotJudgeAfter as pending:
        yield from pending.messages
        raise pending.error from None
    yield from messages


def _report(violations: Iterable[tuple[str, str | None]], report_violation: ReportViolation) -> None:
    for message, urn in violations:
        if urn:
            report_violation(message, urn)
        else:
            report_violation(message)


def stack_of(resources: Iterable[Any]) -> Stack:
    """A Stack from the servicer's converted resources (sdk.EngineResource)."""
    return Stack(
        resources=tuple(
            Resource(
                type=resource.type,
                urn=resource.urn,
                name=resource.name,
                props=resource.properties if isinstance(resource.properties, dict) else {},
                parent=resource.parent,
                dependencies=resource.dependencies,
                property_dependencies=resource.property_dependencies,
            )
            for resource in resources
        )
    )


def _stack_from_policy_resources(resources: Sequence[PolicyResource]) -> Stack:
    """pulumi-policy's StackValidationArgs resources (properties behind its proxy) as a Stack."""
    return Stack(
        resources=tuple(
            Resource(
                type=resource.resource_type,
                urn=resource.urn,
                name=resource.name,
                props=props if isinstance(props := plain(resource.props), dict) else {},
                parent=resource.parent.urn if resource.parent is not None else None,
                dependencies=tuple(dependency.urn for dependency in resource.dependencies),
                property_dependencies={
                    key: tuple(dependency.urn for dependency in dependencies)
                    for key, dependencies in resource.property_dependencies.items()
                },
            )
            for resource in resources
        )
    )


class _RulePolicy(sdk.PackPolicy):
    """The pack-side interface (sdk.PackServicer) and pulumi-policy's validate, for one Rule."""

    rule: Rule

    def judges(self, resource_type: str) -> bool:
        return resource_type in self.rule.checks

    def analyze(self, resource_type, urn, name, properties, config):
        return _emit(lambda: _reported(self.rule.judge_resource(resource_type, urn, name, properties, config), False))

    def analyze_stack(self, resources, config):
        for resource in resources:
            if isinstance(resource.properties, sdk.Unreadable) and resource.type in self.rule.resource_types:
                yield str(resource.properties), resource.urn
        yield from _emit(lambda: _reported(self.rule.judge_stack(stack_of(resources), config), True))

    def validate(self, args: Any, report_violation: ReportViolation) -> None:
        if isinstance(args, StackValidationArgs):
            stack = _stack_from_policy_resources(args.resources)
            _report(_emit(lambda: _reported(self.rule.judge_stack(stack, args.get_config()), True)), report_violation)
            return
        if not self.judges(args.resource_type):
            args.not_applicable(sdk.not_judged(args.resource_type))
        props = plain(args.props)
        _report(self.analyze(args.resource_type, args.urn, args.name, props, args.get_config()), report_violation)

    def remediate(self, args: ResourceValidationArgs) -> dict[str, Any] | None:
        return self.rule.remediate(args.resource_type, args.urn, args.name, plain(args.props), args.get_config())

    def has_remediation(self) -> bool:
        return self.rule.remediable


class ResourcePolicy(_RulePolicy, ResourceValidationPolicy):
    """A rule judging resources one at a time (pulumi-policy allows subclasses to override validate)."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        ResourceValidationPolicy.__init__(self, **rule.info.policy_metadata(stack_level=False))


class StackPolicy(_RulePolicy, StackValidationPolicy):
    """A rule judging the whole stack; violations name the URN of the resource at fault."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        StackValidationPolicy.__init__(self, **rule.info.policy_metadata(stack_level=True))


class StackJudgedResourcePolicy(_RulePolicy, ResourceValidationPolicy, StackValidationPolicy):
    """A rule judged at stack level that can still check or fix a single resource before it is created.

    pulumi-policy only remediates through resource policies and only sees other resources in stack
    policies; a rule whose verdict needs the whole stack ("scan on push, or a registry scanning
    configuration covering every repository") but whose fix is on one resource needs both. The
    servicer dispatches on isinstance, so this one object answers Analyze (its per-resource checks),
    AnalyzeStack (the verdict) and Remediate. GetAnalyzerInfo lists it as a resource policy.
    """

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        sdk.init_policy(self, **rule.info.policy_metadata(stack_level=True))

    def has_validation(self) -> bool:
        return True


def resource_rule(
    info: RuleInfo,
    checks: Mapping[str, ResourceCheck],
    remediations: Mapping[str, Remediation] | None = None,
) -> Rule:
    """A rule judging the given engine types with the given checks."""
    return Rule(info, checks=checks, remediations=remediations)


def stack_rule(info: RuleInfo, check: Callable[[Stack, Findings], None], reads: Sequence[str]) -> Rule:
    """A rule judging the whole stack, reading resources of the given types."""
    return Rule(info, stack_check=StackCheck(check, tuple(reads)))
