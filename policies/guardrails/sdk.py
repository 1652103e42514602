"""Every use of pulumi-policy beyond its documented API, in one place.

pulumi-policy's public API (the names in `pulumi_policy.__all__`) is enough to write rules, but the pack
also relies on a few of its internals. Each one is named here with the source it comes from
(pulumi/pulumi-policy, sdk/python/lib/pulumi_policy/, version 1.21 as pinned in requirements.txt), and
tests/policies/test_sdk_assumptions.py checks each assumption against the installed library, so an
upgrade that breaks one fails a named test instead of a preview.

1. proxy.py: the unknown-value sentinels and `UnknownValueError` (with `.message`,
   `.unknown_type_sentinel` and `.props`), which the servicer turns into its "can't run policy ...
   during preview" advisory diagnostic.
2. policy.py: `_NotApplicableError(reason)`, raised by `args.not_applicable()` and reported by the
   servicer in `not_applicable`.
3. policy.py: `Policy.__init__` with keyword metadata, for a policy that is both a resource and a stack
   policy (the subclasses' own `__init__`s cannot both run: each passes arguments positionally).
4. deserialize.py: `deserialize_properties(MessageToDict(struct))`, how the servicer turns a request's
   properties into Python values (secrets as `Secret`, unknowns as sentinel strings).
5. policy.py: `_PolicyAnalyzerServicer` and the helpers its Analyze and AnalyzeStack use
   (`_configure_runtime_settings`, `_get_enforcement_level`, `_create_report_violation`,
   `_get_policy_config`, `_map_enforcement_level`, the pack's name and version), and `PolicyPack.__init__`
   building the servicer by its module-level name. `PackServicer` reuses them to convert each resource
   once per request and to skip rules that do not judge its type, where the library converts the
   properties again for every policy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi_policy.policy as _policy_module
from google.protobuf import json_format
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, Policy, PolicyPack, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _NotApplicableError, _PolicyAnalyzerServicer
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    unknown_checking_proxy,
)

__all__ = [
    "UNKNOWN_SENTINELS",
    "UNKNOWN_STRING_VALUE",
    "LibraryServicer",
    "NotApplicable",
    "PackServicer",
    "UnknownValueError",
    "cannot_judge_error",
    "engine_properties",
    "init_policy",
    "serve",
    "unknown_checking_proxy",
]

# 1. proxy.py: the strings the engine's unknowns arrive as (proxy.py `_is_unknown`).
UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


def cannot_judge_error(message: str, paths: Sequence[str]) -> UnknownValueError:
    """An UnknownValueError whose `.message` is ours; the servicer reports it at advisory level.

    policy.py's Analyze/AnalyzeStack catch UnknownValueError and print `e.message` after
    "can't run policy '<name>' from policy pack '<pack>@v<version>' during preview: ".
    """
    error = UnknownValueError(UNKNOWN_STRING_VALUE, list(paths))
    error.message = message
    return error


# 2. policy.py: raised by ResourceValidationArgs.not_applicable / StackValidationArgs.not_applicable.
NotApplicable = _NotApplicableError


def init_policy(policy: Policy, **metadata: Any) -> None:
    """3. Policy.__init__(name, description, enforcement_level=..., config_schema=..., severity=..., ...)."""
    Policy.__init__(policy, **metadata)


def engine_properties(struct: Any) -> Any:
    """4. A request's properties as the servicer deserializes them (before its unknown-checking proxy).

    json_format refuses NaN and +-Infinity, which a Struct carries on the wire (the library's servicer then
    fails the whole request); those are read as floats instead.
    """
    try:
        as_dict = json_format.MessageToDict(struct)
    except ValueError:
        as_dict = _struct_to_dict(struct)
    return deserialize_properties(as_dict)


def _value_to_python(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return _struct_to_dict(value.struct_value)
    if kind == "list_value":
        return [_value_to_python(item) for item in value.list_value.values]
    if kind in (None, "null_value"):
        return None
    return getattr(value, kind)


def _struct_to_dict(struct: Any) -> dict[str, Any]:
    return {key: _value_to_python(value) for key, value in struct.fields.items()}


# --- 5. the servicer -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineResource:
    """One resource of an AnalyzeStack request, converted once for every stack rule."""

    type: str
    urn: str
    name: str
    properties: Any
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def not_judged(resource_type: str) -> str:
    """The not-applicable reason of a rule that does not judge a resource's type."""
    return f"checks no {resource_type}"


class PackPolicy:
    """What PackServicer asks of a policy besides pulumi-policy's interface; the pack's rules implement it."""

    def judges(self, resource_type: str) -> bool:
        """Whether Analyze should run this policy for a resource of this type."""
        raise NotImplementedError

    def analyze(
        self, resource_type: str, urn: str, name: str, properties: Any, config: Mapping[str, Any] | None
    ) -> Iterable[tuple[str, str | None]]:
        """Violations (message, urn) of one resource; raises cannot_judge_error(...) or NotApplicable."""
        raise NotImplementedError

    def analyze_stack(
        self, resources: Sequence[EngineResource], config: Mapping[str, Any] | None
    ) -> Iterable[tuple[str, str | None]]:
        """Violations (message, urn) of the stack; raises like analyze."""
        raise NotImplementedError


LibraryServicer = _PolicyAnalyzerServicer
"""pulumi-policy's own servicer, which PackServicer must answer exactly like."""


class PackServicer(_PolicyAnalyzerServicer):
    """pulumi-policy's servicer, judging each request's properties converted once for all rules.

    Analyze and AnalyzeStack follow policy.py's loops step for step (level, DISABLED and REMEDIATE
    handling, the violation and "can't run policy" diagnostics, not-applicable entries); the only
    differences are that properties are converted once per request instead of once per policy, and that a
    resource rule that does not judge the request's type is not called: it answers not applicable, as its
    validate does.
    tests/policies/test_servicer.py checks that both servicers answer every request identically.
    """

    def __init__(
        self,
        name: str,
        version: str,
        policies: list[Policy],
        *args: Any,
        convert: Callable[[Any], Any] = lambda properties: properties,
        **kwargs: Any,
    ) -> None:
        for policy in policies:
            if not isinstance(policy, PackPolicy):
                raise TypeError(f"policy {policy.name!r} is not one of the pack's rules")
        super().__init__(name, version, policies, *args, **kwargs)
        self._pack_policies: list[Any] = list(policies)
        self._convert = convert

    def _cannot_judge(self, response: Any, policy: Policy, error: UnknownValueError) -> None:
        pack, version = (
            self._PolicyAnalyzerServicer__policy_pack_name,
            self._PolicyAnalyzerServicer__policy_pack_version,
        )
        response.diagnostics.append(
            proto.AnalyzeDiagnostic(
                policyName=policy.name,
                policyPackName=pack,
                policyPackVersion=version,
                message=f"can't run policy '{policy.name}' from policy pack '{pack}@v{version}' during preview: "
                f"{error.message}",
                urn="",
                description=policy.description,
                enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY),
            )
        )

    def _run(self, response: Any, policy: Any, level: EnforcementLevel, violations: Iterable) -> None:
        """Report the violations as they come; the iterable raises for cannot-judge or not-applicable."""
        report = self._create_report_violation(response, policy.name, policy.description, level, policy.severity)
        try:
            for message, urn in violations:
                report(message, urn)
        except RecursionError:
            report(f"{UNREADABLE}: a value nests too deeply to be judged, so the resource does not pass.", None)
        except UnknownValueError as error:
            self._cannot_judge(response, policy, error)
        except _NotApplicableError as error:
            response.not_applicable.append(
                proto.PolicyNotApplicable(policy_name=policy.name, reason=error.reason or "")
            )

    def Analyze(self, request: Any, _context: Any) -> Any:
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        properties: Any = None
        for policy in self._pack_policies:
            level = self._get_enforcement_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(policy, ResourceValidationPolicy):
                continue
            if not policy.judges(request.type):
                # Said over the protocol, so a preview can count the resources no rule judged.
                response.not_applicable.append(
                    proto.PolicyNotApplicable(policy_name=policy.name, reason=not_judged(request.type))
                )
                continue
            if level == EnforcementLevel.REMEDIATE:
                level = EnforcementLevel.MANDATORY
            if properties is None:
                properties = _converted(self._convert, request.properties)
            config = self._get_policy_config(policy.name)
            if isinstance(properties, Unreadable):
                violations: Iterable = [(str(properties), None)]
            else:
                violations = policy.analyze(request.type, request.urn, request.name, properties, config)
            self._run(response, policy, level, violations)
        return response

    def AnalyzeStack(self, request: Any, _context: Any) -> Any:
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        resources: list[EngineResource] | None = None
        for policy in self._pack_policies:
            level = self._get_enforcement_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(policy, StackValidationPolicy):
                continue
            if level == EnforcementLevel.REMEDIATE:
                level = EnforcementLevel.MANDATORY
            if resources is None:
                resources = stack_resources(request.resources, self._convert)
            config = self._get_policy_config(policy.name)
            self._run(response, policy, level, policy.analyze_stack(resources, config))
        return response


UNREADABLE = "cannot read the properties"


class Unreadable(str):
    """Properties the pack could not convert (nested deeper than Python's recursion limit allows)."""


def _converted(convert: Callable[[Any], Any], struct: Any) -> Any:
    """The request's properties converted for the rules, or Unreadable: never an error for the engine."""
    try:
        return convert(engine_properties(struct))
    except RecursionError:
        return Unreadable(f"{UNREADABLE}: they nest too deeply to be judged, so the resource does not pass.")


def stack_resources(requested: Sequence[Any], convert: Callable[[Any], Any]) -> list[EngineResource]:
    """AnalyzeStack's resources; like policy.py, parent and dependencies only name resources in the request."""
    present = {resource.urn for resource in requested}

    def known(urns: Iterable[str]) -> tuple[str, ...]:
        return tuple(urn for urn in urns if urn in present)

    return [
        EngineResource(
            type=resource.type,
            urn=resource.urn,
            name=resource.name,
            properties=_converted(convert, resource.properties),
            parent=resource.parent if resource.parent in present else None,
            dependencies=known(resource.dependencies),
            property_dependencies={key: known(value.urns) for key, value in resource.propertyDependencies.items()},
        )
        for resource in requested
    ]


def serve(
    name: str, policies: list[Policy], enforcement_level: EnforcementLevel, convert: Callable[[Any], Any]
) -> None:
    """Run the pack as PolicyPack does (server, port on stdout), answering with PackServicer.

    PolicyPack.__init__ looks `_PolicyAnalyzerServicer` up in policy.py's module namespace when it builds
    its servicer; pointing that name at PackServicer for the call keeps every other step PolicyPack's own.
    PolicyPack blocks until the process is interrupted.
    """
    _policy_module._PolicyAnalyzerServicer = functools.partial(PackServicer, convert=convert)
    try:
        PolicyPack(name=name, enforcement_level=enforcement_level, policies=policies)
    finally:
        _policy_module._PolicyAnalyzerServicer = _PolicyAnalyzerServicer
