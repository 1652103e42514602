"""What every report format needs to know about a `Report`: names, kinds, ordering and counts.

Formats never sort or classify on their own, so the Markdown, JSON, SARIF and Mermaid of one report
agree with each other and with the same report rendered again tomorrow.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from google.protobuf import struct_pb2

from preflight.model import (
    ADVISORY,
    DISABLED,
    MANDATORY,
    REMEDIATE,
    Diagnostic,
    PlanDiff,
    RecordedResource,
    Report,
    SourceLocation,
)

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
TOOL_NAME = "shipshape-preflight"
MARKER = "<!-- shipshape-preflight -->"
"""First line of the Markdown report: the workflow finds its sticky PR comment by it."""

# Worst first: tables list what blocks a merge before what merely advises.
_LEVEL_RANK = {MANDATORY: 0, REMEDIATE: 1, ADVISORY: 2, DISABLED: 3}


@dataclass(frozen=True)
class ParsedUrn:
    stack: str
    project: str
    type: str
    """The resource's own type (last element of the qualified type)."""
    parent_types: tuple[str, ...]
    """Types of the ancestors, outermost first, as the URN records them."""
    name: str


def parse_urn(urn: str) -> ParsedUrn | None:
    """Split `urn:pulumi:<stack>::<project>::<parent$...$type>::<name>`; None when it is not one."""
    parts = urn.split("::", 3)
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:"):
        return None
    qualified = parts[2].split("$")
    return ParsedUrn(
        stack=parts[0].removeprefix("urn:pulumi:"),
        project=parts[1],
        type=qualified[-1],
        parent_types=tuple(qualified[:-1]),
        name=parts[3],
    )


def is_stack(resource: RecordedResource) -> bool:
    return resource.type == STACK_TYPE


def is_provider(resource: RecordedResource) -> bool:
    return resource.type.startswith(PROVIDER_TYPE_PREFIX)


def is_component(resource: RecordedResource) -> bool:
    return not resource.custom and not is_stack(resource)


def is_managed(resource: RecordedResource) -> bool:
    """A cloud resource the plan would create: custom, and not a provider."""
    return resource.custom and not is_provider(resource)


def level_rank(level: str) -> int:
    return _LEVEL_RANK.get(level, len(_LEVEL_RANK))


def diagnostic_sort_key(diagnostic: Diagnostic) -> tuple[int, bool, str, str, str]:
    return (
        level_rank(diagnostic.level),
        diagnostic.cannot_judge,
        diagnostic.policy,
        diagnostic.urn,
        diagnostic.message,
    )


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=diagnostic_sort_key)


def sorted_resources(resources: Iterable[RecordedResource]) -> list[RecordedResource]:
    return sorted(resources, key=lambda resource: resource.urn)


def diagnostic_kind(diagnostic: Diagnostic) -> str:
    """`mandatory`, `advisory` (any other enforced level) or `cannot-judge`, as the summary counts them."""
    if diagnostic.cannot_judge:
        return "cannot-judge"
    return MANDATORY if diagnostic.level == MANDATORY else ADVISORY


def short_type(resource_type: str) -> str:
    """`aws:lb/loadBalancer:LoadBalancer` -> `lb.LoadBalancer`; other tokens stay readable as they are."""
    package, _, rest = resource_type.partition(":")
    module, _, name = rest.partition(":")
    if not name:
        return resource_type
    module = module.split("/")[0]
    if package == "pulumi" and module == "providers":
        return f"provider.{name}"
    if module in ("index", ""):
        return f"{package}.{name}"
    return f"{module}.{name}"


class ResourceIndex:
    """Resources of a report by URN, with names for URNs the recording does not hold."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.by_urn: dict[str, RecordedResource] = {resource.urn: resource for resource in report.resources}

    def name(self, urn: str) -> str:
        if not urn:
            return "(stack)"
        resource = self.by_urn.get(urn)
        if resource is not None:
            return resource.name
        parsed = parse_urn(urn)
        return parsed.name if parsed else urn

    def type(self, urn: str) -> str:
        resource = self.by_urn.get(urn)
        if resource is not None:
            return resource.type
        parsed = parse_urn(urn)
        return parsed.type if parsed else ""

    def label(self, urn: str) -> str:
        """`name (short type)`: how tables and messages name a resource."""
        if not urn:
            return "(stack)"
        resource_type = self.type(urn)
        if resource_type == STACK_TYPE:
            return "(stack)"
        return f"{self.name(urn)} ({short_type(resource_type)})" if resource_type else self.name(urn)

    def source(self, urn: str) -> SourceLocation | None:
        """Where the program constructed the resource, when the recording knows."""
        resource = self.by_urn.get(urn)
        return resource.source if resource is not None else None

    def children(self) -> dict[str, list[RecordedResource]]:
        """Parent URN -> children sorted by name and type; orphans (parent not recorded) hang off the root ``""``."""
        tree: dict[str, list[RecordedResource]] = {}
        ordered = sorted(self.report.resources, key=lambda resource: (resource.name, resource.type, resource.urn))
        for resource in ordered:
            parent = resource.parent if resource.parent in self.by_urn else ""
            if resource.urn == parent:
                parent = ""
            tree.setdefault(parent, []).append(resource)
        return tree


@dataclass(frozen=True)
class Summary:
    verdict: str
    """`pass` (no mandatory violations) or `fail`."""
    exit_code: int
    resources: int
    """Cloud resources the plan would create (custom, providers excluded)."""
    components: int
    providers: int
    mandatory: int
    advisory: int
    cannot_judge: int
    policies: int
    resources_by_type: dict[str, int]


def summarize(report: Report) -> Summary:
    managed = [resource for resource in report.resources if is_managed(resource)]
    by_type = Counter(resource.type for resource in managed)
    return Summary(
        verdict="fail" if report.mandatory else "pass",
        exit_code=report.exit_code,
        resources=len(managed),
        components=sum(1 for resource in report.resources if is_component(resource)),
        providers=sum(1 for resource in report.resources if is_provider(resource)),
        mandatory=len(report.mandatory),
        advisory=len(report.advisory),
        cannot_judge=len(report.cannot_judge),
        policies=len(report.policies),
        resources_by_type=dict(sorted(by_type.items())),
    )


def project_component_module(resource_type: str, project: str) -> str | None:
    """`shipshape:web_service:WebService` -> `web_service` (the module under components/), else None."""
    parts = resource_type.split(":")
    if len(parts) == 3 and parts[0] == project and parts[1]:
        return parts[1]
    return None


def stack_urn(report: Report) -> str:
    """The root Stack's URN, as the engine names it (`<project>-<stack>`)."""
    return f"urn:pulumi:{report.stack}::{report.project}::{STACK_TYPE}::{report.project}-{report.stack}"


def with_stack(report: Report) -> Report:
    """The report with its root Stack among the resources: the recorder does not keep the Stack, yet the
    plan shows it, as the parent of everything the program declared at the top level."""
    if any(is_stack(resource) for resource in report.resources):
        return report
    stack = RecordedResource(
        urn=stack_urn(report),
        type=STACK_TYPE,
        name=f"{report.project}-{report.stack}",
        custom=False,
        parent="",
        provider="",
        dependencies=(),
        property_dependencies={},
        inputs_struct=struct_pb2.Struct(),
        inputs={},
    )
    return dataclasses.replace(report, resources=[stack, *report.resources])


def tree_lines(
    report: Report,
    line: Callable[[RecordedResource], str],
    prefix_of: Callable[[RecordedResource], str] = lambda _resource: "",
) -> list[str]:
    """The resource tree by component, drawn with Pulumi's `├─ └─` guides: one line per resource,
    `prefix_of(resource)` before the guides (a plan marker) and `line(resource)` after them."""
    children = ResourceIndex(with_stack(report)).children()
    lines: list[str] = []

    def walk(parent: str, guides: str) -> None:
        siblings = children.get(parent, [])
        for position, resource in enumerate(siblings):
            last = position == len(siblings) - 1
            lines.append(f"{prefix_of(resource)}{guides}{'└─ ' if last else '├─ '}{line(resource)}")
            walk(resource.urn, guides + ("   " if last else "│  "))

    for root in children.get("", []):
        lines.append(f"{prefix_of(root)}{line(root)}")
        walk(root.urn, "")
    return lines


# --- the plan as Pulumi shows it ------------------------------------------------------------------
# Operations, their markers and their summary words are Pulumi's own: StepOp and RawPrefix in
# pulumi/pulumi pkg/resource/deploy/step.go ("+ " create, "~ " update, "- " delete, "+-" replace,
# "  " same), and renderSummaryEvent in pkg/backend/display/diff.go ("Resources:", then per op
# "    <prefix><count> to <op>", then "<n> changes" when two or more kinds changed and "<n> unchanged",
# joined by ". "). The engine counts every step but the default providers' (isInternalStep in
# pkg/engine/update.go), so the stack and every component count.

CREATE, UPDATE, DELETE, REPLACE, SAME = "create", "update", "delete", "replace", "same"
PLAN_MARKERS = {SAME: "  ", CREATE: "+ ", UPDATE: "~ ", DELETE: "- ", REPLACE: "+-"}
_SUMMARY_ORDER = (CREATE, UPDATE, DELETE, REPLACE)


def plan_operations(report: Report, diff: PlanDiff | None = None) -> dict[str, str]:
    """URN -> the operation a preview would show: every resource is created without a baseline; with
    one, added ones are created, changed ones updated (or replaced), the rest the same. Resources the
    baseline had and this run has not are deleted (their URNs are in the map too)."""
    resources = with_stack(report).resources
    if diff is None:
        return {resource.urn: CREATE for resource in resources}
    operations = {resource.urn: SAME for resource in resources}
    operations.update({ref.urn: CREATE for ref in diff.added})
    operations.update({change.urn: REPLACE if change.replace else UPDATE for change in diff.changed})
    operations.update({ref.urn: DELETE for ref in diff.removed})
    return operations


def plan_counts(report: Report, diff: PlanDiff | None = None) -> dict[str, int]:
    """Operation -> how many steps, as the engine counts them (the stack included, recorded or not)."""
    counts = Counter(plan_operations(report, diff).values())
    return {operation: counts[operation] for operation in (*_SUMMARY_ORDER, SAME) if counts[operation]}


def plan_summary_lines(counts: dict[str, int]) -> list[str]:
    """Pulumi's summary of a preview: `Resources:`, `    + 42 to create`, `    3 changes. 12 unchanged`."""
    lines = ["Resources:"]
    changed = [operation for operation in _SUMMARY_ORDER if counts.get(operation)]
    lines += [f"    {PLAN_MARKERS[op]}{counts[op]} to {op}" for op in changed]
    pieces = []
    if len(changed) >= 2:
        total = sum(counts[op] for op in changed)
        pieces.append(f"{total} {'change' if total == 1 else 'changes'}")
    if counts.get(SAME):
        pieces.append(f"{counts[SAME]} unchanged")
    if pieces:
        lines.append("    " + ". ".join(pieces))
    return lines


def coverage_summary(report: Report) -> str | None:
    """`40 of 42 resources judged by at least one rule (95 %)`, or None when coverage was not measured."""
    coverage = report.coverage
    if coverage is None:
        return None
    share = f" ({100 * len(coverage.judged) / coverage.total:.0f} %)" if coverage.total else ""
    return f"{len(coverage.judged)} of {coverage.total} resources judged by at least one rule{share}"


def not_judged_offline_summary(report: Report) -> str | None:
    """`not judged offline: 3 components, the children their providers create`, or None."""
    count = len(report.not_judged_offline)
    if not count:
        return None
    noun = "component" if count == 1 else "components"
    return f"not judged offline: {count} {noun}, the children their providers create"


def nothing_judged(report: Report) -> bool:
    """True when no rule judged any resource, so a clean verdict would be an empty claim."""
    if report.coverage is not None:
        return not report.coverage.in_scope
    return not any(is_managed(resource) for resource in report.resources)


def finding_fix(diagnostic: Diagnostic, fixes: Mapping[str, str]) -> str:
    """The rule's catalogue fix to show beside a finding: none for a "cannot judge yet" note, and none where
    the finding already says its own, more specific `Fix:` (one fix per finding, never two)."""
    if diagnostic.cannot_judge or "Fix:" in diagnostic.message:
        return ""
    return fixes.get(diagnostic.policy, "")


def remediations(report: Report) -> dict[str, str]:
    """Rule name -> how to fix a finding of it, as the pack describes the rule (GetAnalyzerInfo)."""
    return {policy.name: policy.remediation_steps.strip() for policy in report.policies if policy.remediation_steps}


def finding_reason(diagnostic: Diagnostic) -> str:
    """The finding without what the reader already has: pulumi-policy starts a message with the rule's
    description, and a cannot-judge note with its own preamble naming the rule and the pack."""
    message = diagnostic.message.strip()
    if diagnostic.description and message.startswith(diagnostic.description):
        message = message[len(diagnostic.description) :].strip() or diagnostic.description
    if diagnostic.cannot_judge and " during preview: " in message:
        message = message.split(" during preview: ", 1)[1]
    return message or diagnostic.description or diagnostic.policy


def source_file(urn: str, report: Report) -> str:
    """The project file a reviewer opens to change what the URN names.

    A resource inside one of our components points at `components/<module>.py` (the type token
    `<project>:<module>:<Name>` names the module); one declared at the top level at `__main__.py`;
    stack-wide verdicts and anything unparseable at the stack's settings file.
    """
    stack_file = f"Pulumi.{report.stack}.yaml"
    parsed = parse_urn(urn) if urn else None
    if parsed is None or parsed.type == STACK_TYPE:
        return stack_file
    for resource_type in reversed((*parsed.parent_types, parsed.type)):
        module = project_component_module(resource_type, report.project)
        if module:
            return f"components/{module}.py"
    return "__main__.py"
