"""The text report on stdout: the plan as `pulumi preview` shows it, the stack outputs, every finding with
where the program made the resource and how to fix it, and a one-line outcome.

The plan uses Pulumi's markers and summary words (see `common.PLAN_MARKERS`); with a baseline it shows
what changed since, otherwise every resource is to be created, as on a stack's first preview.
"""

from __future__ import annotations

from collections import Counter

from preflight.model import PlanDiff, RecordedResource, Report
from preflight.reports.common import (
    DELETE,
    PLAN_MARKERS,
    ResourceIndex,
    coverage_summary,
    diagnostic_kind,
    finding_fix,
    finding_reason,
    not_judged_offline_summary,
    nothing_judged,
    plan_counts,
    plan_operations,
    plan_summary_lines,
    remediations,
    sorted_diagnostics,
    summarize,
    tree_lines,
)
from preflight.reports.values import display_value

_KIND_LABEL = {"mandatory": "mandatory", "advisory": "advisory", "cannot-judge": "cannot judge"}


def short_urn(urn: str) -> str:
    """`type::name`: enough to find a resource in the plan."""
    if not urn:
        return "(stack)"
    parts = urn.split("::")
    return f"{parts[-2].split('$')[-1]}::{parts[-1]}" if len(parts) >= 4 else urn


def _header(report: Report) -> list[str]:
    outputs = "unknown, as in a first `pulumi preview`" if report.unknowns else "mocked"
    return [
        f"Previewing stack {report.stack} of project {report.project} (offline; provider outputs {outputs})",
        "",
    ]


def _plan(report: Report, diff: PlanDiff | None) -> list[str]:
    operations = plan_operations(report, diff)

    def line(resource: RecordedResource) -> str:
        where = f"  {resource.source}" if resource.source else ""
        return f"{resource.type}  {resource.name}{where}"

    lines = [f"    Plan ({'since the baseline ' + diff.baseline if diff else 'a first preview: all to create'}):"]
    lines += tree_lines(report, line, lambda resource: f" {PLAN_MARKERS[operations[resource.urn]]}  ")
    if diff is not None:
        lines += [f" {PLAN_MARKERS[DELETE]}  {ref.type}  {ref.name}" for ref in diff.removed]
    return lines


def _outputs(report: Report) -> list[str]:
    if not report.outputs:
        return []
    return ["", "Outputs:", *(f"    {key}: {display_value(report.outputs[key])}" for key in sorted(report.outputs))]


def _by_type(report: Report) -> list[str]:
    counts = Counter(resource.type for resource in report.resources)
    return ["", "Resources by type:", *(f"  {count:4d}  {type_}" for type_, count in sorted(counts.items()))]


def _verdicts(report: Report) -> list[str]:
    index = ResourceIndex(report)
    fixes = remediations(report)
    lines = ["", f"Policy verdicts ({report.policy_pack or 'policy pack'}, config {report.policy_config or 'none'}):"]
    diagnostics = sorted_diagnostics(report.diagnostics)
    if not diagnostics:
        lines.append(
            "  none, but no rule judged any resource" if nothing_judged(report) else "  none: every rule passed"
        )
    for diagnostic in diagnostics:
        where = index.source(diagnostic.urn)
        first, *rest = finding_reason(diagnostic).splitlines() or [""]
        lines.append(
            f"  [{_KIND_LABEL[diagnostic_kind(diagnostic)]}] {diagnostic.policy}  {short_urn(diagnostic.urn)}"
            + (f"  ({where})" if where else "")
        )
        lines += [f"      {first}", *(f"      {line}" for line in rest)]
        fix = finding_fix(diagnostic, fixes)
        if fix:
            lines.append(f"      fix: {fix}")
    return lines


def _coverage(report: Report) -> list[str]:
    """What the verdicts cover, and what could not be judged offline, each named."""
    lines: list[str] = []
    remote = not_judged_offline_summary(report)
    if remote:
        lines.append(f"  {remote}:")
        lines += [f"    {r.type}  {r.name}" + (f"  {r.source}" if r.source else "") for r in report.not_judged_offline]
    lines += [
        f"  cannot judge yet: no offline answer for data source {token}; its outputs were unknown"
        for token in report.unanswered_data_sources
    ]
    if report.coverage is not None:
        lines[:0] = [f"  judged by no rule: {short_urn(urn)}" for urn in report.coverage.unjudged]
    if not lines and report.coverage is None:
        return []
    return ["", f"Coverage: {coverage_summary(report) or 'not measured'}", *lines]


def _changes(diff: PlanDiff) -> list[str]:
    lines = ["", f"Changes since the baseline {diff.baseline}:"]
    lines += [f"  note: {warning}" for warning in diff.warnings]
    for change in diff.changed:
        verb = "replace" if change.replace else "update"
        lines.append(f"  {PLAN_MARKERS[verb].strip()} {short_urn(change.urn)}: {', '.join(change.keys)}")
    lines += [f"  new violation [{v.level}] {v.policy}  {short_urn(v.urn)}" for v in diff.new_violations]
    lines += [f"  fixed [{v.level}] {v.policy}  {short_urn(v.urn)}" for v in diff.fixed_violations]
    if diff.empty:
        lines.append("  none: no resource added, removed or changed, and no verdict changed")
    return lines


def _outcome(report: Report) -> str:
    summary = summarize(report)
    outcome = "FAILED: mandatory violations" if report.mandatory else "passed"
    timing = f"{report.elapsed_seconds:.2f} s"
    if report.peak_rss_bytes:
        timing += f", peak memory {report.peak_rss_bytes / 2**20:.0f} MiB"
    return (
        f"{outcome}: {summary.resources} resources, {summary.mandatory} mandatory, {summary.advisory} advisory, "
        f"{summary.cannot_judge} cannot judge yet; {timing}"
    )


def render_text(report: Report, diff: PlanDiff | None = None) -> str:
    lines = _header(report) + _plan(report, diff) + _outputs(report)
    lines += ["", *plan_summary_lines(plan_counts(report, diff))]
    lines += _by_type(report) + _verdicts(report) + _coverage(report)
    if diff is not None:
        lines += _changes(diff)
    lines += ["", _outcome(report)]
    return "\n".join(lines) + "\n"
