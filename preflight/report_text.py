"""The readable text report: the plan as a tree by component, counts by type, every verdict, a summary."""

from __future__ import annotations

from collections import Counter, defaultdict

from preflight.model import MANDATORY, Diagnostic, RecordedResource, Report


def short_urn(urn: str) -> str:
    """`type::name` — enough to find a resource in the plan."""
    if not urn:
        return "(stack)"
    parts = urn.split("::")
    return f"{parts[-2].split('$')[-1]}::{parts[-1]}" if len(parts) >= 4 else urn


def _tree(resources: list[RecordedResource]) -> list[str]:
    children: dict[str, list[RecordedResource]] = defaultdict(list)
    urns = {r.urn for r in resources}
    for resource in resources:
        children[resource.parent if resource.parent in urns else ""].append(resource)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for resource in sorted(children.get(parent, []), key=lambda r: (r.custom, r.type, r.name)):
            lines.append(f"{'  ' * depth}{'-' if resource.custom else '+'} {resource.type}  {resource.name}")
            walk(resource.urn, depth + 1)

    walk("", 1)
    return lines


def _verdict(diagnostic: Diagnostic) -> list[str]:
    level = "cannot judge" if diagnostic.cannot_judge else diagnostic.level
    message = diagnostic.message
    if diagnostic.description and message.startswith(diagnostic.description):
        message = message[len(diagnostic.description) :].strip() or diagnostic.description
    if diagnostic.cannot_judge and " during preview: " in message:
        # pulumi-policy's preamble repeats the rule and pack already on the line above.
        message = message.split(" during preview: ", 1)[1]
    first, *rest = message.splitlines() or [""]
    lines = [f"  [{level}] {diagnostic.policy}  {short_urn(diagnostic.urn)}", f"      {first}"]
    lines.extend(f"      {line}" for line in rest)
    return lines


def render_text(report: Report) -> str:
    resources = report.resources
    lines = [f"shipshape preflight: stack {report.stack} ({report.project}), {len(resources)} resources", ""]
    lines.append("Plan (+ component, - resource):")
    lines.extend(_tree(resources))
    lines.extend(["", "Resources by type:"])
    for type_, count in sorted(Counter(r.type for r in resources).items()):
        lines.append(f"  {count:4d}  {type_}")
    order = {MANDATORY: 0}
    verdicts = sorted(report.diagnostics, key=lambda d: (d.cannot_judge, order.get(d.level, 1), d.policy, d.urn))
    lines.extend(
        ["", f"Policy verdicts ({report.policy_pack or 'policy pack'}, config {report.policy_config or 'none'}):"]
    )
    if not verdicts:
        lines.append("  none: every rule passed")
    for diagnostic in verdicts:
        lines.extend(_verdict(diagnostic))
    outcome = "FAILED: mandatory violations" if report.mandatory else "passed"
    lines.extend(
        [
            "",
            f"{outcome}: {len(resources)} resources, {len(report.mandatory)} mandatory, "
            f"{len(report.advisory)} advisory, {len(report.cannot_judge)} cannot judge yet; "
            f"{report.elapsed_seconds:.2f} s",
        ]
    )
    return "\n".join(lines) + "\n"
