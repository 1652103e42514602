"""What one preflight run knows: the recorded resources, the pack's rules and their verdicts.

Every stage speaks these types: the recorder fills `RecordedResource`, the analyzer client fills
`PolicyInfo` and `Diagnostic`, every report format renders a `Report`, and a `PlanDiff` says what changed
since a baseline report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2

# Enforcement levels as the pulumi-policy pack reports them.
ADVISORY = "advisory"
MANDATORY = "mandatory"
REMEDIATE = "remediate"
DISABLED = "disabled"

CANNOT_JUDGE_YET = "cannot judge yet"
"""How a rule's message starts when values it needs are unknown during preview (`cannot judge yet: <paths>
unknown during preview`). The pack defines the same words (policies/guardrails/values.py); a test keeps the
two equal, since the pack, run in its own environment, cannot import preflight."""


@dataclass(frozen=True)
class SourceLocation:
    """Where in the program a resource was constructed: a path relative to the project directory (or
    absolute when the file lies outside it) and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class RecordedResource:
    """One RegisterResourceRequest, kept exactly as the engine would receive it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    """Parent URN; empty for the stack itself."""
    provider: str
    """Provider reference (`urn::id`) or empty for the default provider."""
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    inputs_struct: struct_pb2.Struct
    """The input properties as serialized by the SDK (camelCase, secrets and unknowns as sentinels)."""
    inputs: dict[str, Any]
    """The same inputs deserialized to plain Python values, for assertions and reports."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """What the mocks answered: the outputs the rest of the program saw."""
    options: dict[str, Any] = field(default_factory=dict)
    """Resource options the engine passes to the pack (protect, ignoreChanges, deleteBeforeReplace,
    additionalSecretOutputs, aliases, customTimeouts, retainOnDelete); only those set are present."""
    remote: bool = False
    """A remote component (awsx, eks, ...): its provider creates its children, which do not exist offline."""
    source: SourceLocation | None = None
    """Where the program constructed it; None when no frame of the program was on the stack."""


@dataclass(frozen=True)
class PolicyInfo:
    """One rule as the pack describes it in GetAnalyzerInfo (after the stack's policy config)."""

    name: str
    description: str
    level: str
    severity: str = ""
    remediation_steps: str = ""
    tags: tuple[str, ...] = ()
    framework: str = ""
    url: str = ""
    kind: str = "resource"
    """`resource` or `stack`."""
    config_schema: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Diagnostic:
    """One verdict the pack returned from Analyze or AnalyzeStack."""

    policy: str
    level: str
    urn: str
    message: str
    severity: str = ""
    description: str = ""
    pack: str = ""
    cannot_judge: bool = False
    """True when the pack could not judge the resource yet (values unknown during preview)."""


@dataclass(frozen=True)
class Coverage:
    """Which resources at least one rule judged, as the pack says: a rule that answers an Analyze call
    without PolicyNotApplicable judged that resource, and a stack rule judged the resources its verdicts
    name (AnalyzeStack does not say which resources a stack rule read). Counted over custom resources and
    remote components (providers and local components are not judged on their own)."""

    judged: tuple[str, ...]
    """URNs of the resources at least one enabled rule judged."""
    unjudged: tuple[str, ...]
    """URNs of the resources no enabled rule judged (every rule said not applicable, or none ran)."""

    @property
    def total(self) -> int:
        return len(self.judged) + len(self.unjudged)

    @property
    def in_scope(self) -> bool:
        """False when no rule judged anything: "every rule passed" would then be an empty claim."""
        return bool(self.judged)


@dataclass
class Report:
    project: str
    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    policies: list[PolicyInfo]
    diagnostics: list[Diagnostic]
    policy_pack: str = ""
    policy_config: str = ""
    """Path of the policy-pack-config file that was applied."""
    unknowns: bool = False
    elapsed_seconds: float = 0.0
    peak_rss_bytes: int = 0
    """The preflight process's peak resident memory (0 when not measured)."""
    coverage: Coverage | None = None
    unanswered_data_sources: list[str] = field(default_factory=list)
    """Data sources preflight has no answer for: their outputs were unknown, so what depends on them
    cannot be judged yet."""

    @property
    def not_judged_offline(self) -> list[RecordedResource]:
        """Remote components: judged by their inputs only; the children their providers create are not."""
        return [r for r in self.resources if r.remote]

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == MANDATORY and not d.cannot_judge]

    @property
    def advisory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level != MANDATORY and not d.cannot_judge]

    @property
    def cannot_judge(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.cannot_judge]

    @property
    def exit_code(self) -> int:
        """0 clean (advisories allowed), 1 when any mandatory rule is violated."""
        return 1 if self.mandatory else 0


# --- what changed since a baseline report -------------------------------------------------------


@dataclass(frozen=True)
class ResourceRef:
    urn: str
    type: str
    name: str


@dataclass(frozen=True)
class ResourceChange:
    urn: str
    type: str
    name: str
    keys: tuple[str, ...]
    """Top-level input keys whose values differ (added or removed keys included)."""
    replace: bool = False
    """True when a changed key is one the program marked `replace_on_changes`: the engine replaces
    the resource instead of updating it (pulumi/pulumi pkg/resource/deploy/step_generator.go)."""


@dataclass(frozen=True)
class ViolationRef:
    policy: str
    urn: str
    level: str
    message: str


@dataclass(frozen=True)
class PlanDiff:
    """The plan and verdict changes between a baseline report and this one."""

    baseline: str
    """`<project>/<stack>` of the baseline, for headings."""
    added: tuple[ResourceRef, ...] = ()
    removed: tuple[ResourceRef, ...] = ()
    changed: tuple[ResourceChange, ...] = ()
    new_violations: tuple[ViolationRef, ...] = ()
    fixed_violations: tuple[ViolationRef, ...] = ()
    warnings: tuple[str, ...] = ()
    """Why some differences may not be real changes (the two runs were not made alike)."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.new_violations or self.fixed_violations)

    @property
    def updated(self) -> tuple[ResourceChange, ...]:
        return tuple(change for change in self.changed if not change.replace)

    @property
    def replaced(self) -> tuple[ResourceChange, ...]:
        return tuple(change for change in self.changed if change.replace)

    def to_json(self) -> dict[str, Any]:
        def refs(items: tuple[ResourceRef, ...]) -> list[dict[str, str]]:
            return [{"urn": item.urn, "type": item.type, "name": item.name} for item in items]

        def violations(items: tuple[ViolationRef, ...]) -> list[dict[str, str]]:
            return [
                {"policy": item.policy, "urn": item.urn, "level": item.level, "message": item.message} for item in items
            ]

        return {
            "baseline": self.baseline,
            "added": refs(self.added),
            "removed": refs(self.removed),
            "changed": [
                {
                    "urn": item.urn,
                    "type": item.type,
                    "name": item.name,
                    "keys": list(item.keys),
                    "replace": item.replace,
                }
                for item in self.changed
            ],
            "newViolations": violations(self.new_violations),
            "fixedViolations": violations(self.fixed_violations),
            "warnings": list(self.warnings),
        }
