"""What every report format needs to know about a `Report`: names, kinds, ordering and counts.

Formats never sort or classify on their own, so the Markdown, JSON, SARIF and Mermaid of one report
agree with each other and with the same report rendered again tomorrow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from preflight.model import ADVISORY, DISABLED, MANDATORY, REMEDIATE, Diagnostic, RecordedResource, Report

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
