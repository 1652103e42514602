"""The Markdown report: a pull-request comment and a job summary.

Order is what a reviewer needs first: the verdict, what the change does to the plan and the verdicts
(with a baseline), what blocks the merge, the plan by component; the rest is collapsed. GitHub caps a
comment at 65,536 characters, so the bulky sections give way (with a pointer to the artifact) before the
comment would be rejected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from preflight.model import Diagnostic, PlanDiff, RecordedResource, Report
from preflight.reports.common import (
    DELETE,
    MARKER,
    PLAN_MARKERS,
    ResourceIndex,
    coverage_summary,
    diagnostic_kind,
    finding_fix,
    finding_reason,
    is_managed,
    not_judged_offline_summary,
    nothing_judged,
    plan_counts,
    plan_operations,
    plan_summary_lines,
    remediations,
    short_type,
    sorted_diagnostics,
    summarize,
    tree_lines,
)
from preflight.reports.mermaid import render_mermaid
from preflight.reports.values import display_value

COMMENT_LIMIT = 60_000
"""Below GitHub's 65,536-character comment limit, leaving room for the workflow's own wrapping."""

_LEVEL_BADGE = {"mandatory": "⛔ mandatory", "advisory": "⚠️ advisory", "cannot-judge": "❔ cannot judge"}


def cell(text: str) -> str:
    """Text safe inside a table cell: no row breaks, no stray pipes, no HTML the comment would render."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return "<br>".join(line.strip() for line in text.strip().splitlines()) or " "


def code(text: str) -> str:
    """Inline code that survives backticks and pipes inside the text."""
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _verdict(report: Report) -> str:
    summary = summarize(report)
    if summary.mandatory:
        return (
            f"❌ **{_plural(summary.mandatory, 'mandatory violation')}**: the policy pack would block this deployment."
        )
    notes = []
    if summary.advisory:
        notes.append(_plural(summary.advisory, "advisory", "advisories"))
    if summary.cannot_judge:
        notes.append(f"{summary.cannot_judge} cannot judge yet")
    tail = f" ({', '.join(notes)})" if notes else ""
    if nothing_judged(report):
        return f"✅ **No mandatory violations**{tail}, but no rule judged any resource: nothing was in scope."
    return f"✅ **No mandatory violations**{tail}: the policy pack would let this deployment through."


def _summary(report: Report) -> list[str]:
    summary = summarize(report)
    lines = [
        MARKER,
        f"## Preflight: `{report.project}` / `{report.stack}`",
        "",
        _verdict(report),
        "",
        *_table(
            ["resources", "components", "mandatory", "advisory", "cannot judge", "rules"],
            [
                [
                    str(summary.resources),
                    str(summary.components),
                    str(summary.mandatory),
                    str(summary.advisory),
                    str(summary.cannot_judge),
                    str(summary.policies),
                ]
            ],
        ),
        "",
    ]
    facts = []
    if report.policy_pack:
        facts.append(f"policy pack {code(report.policy_pack)}")
    if report.policy_config:
        facts.append(f"config {code(report.policy_config)}")
    facts.append(
        "provider outputs unknown, as in a first `pulumi preview`"
        if report.unknowns
        else "provider outputs mocked, so values built from them are judged"
    )
    if report.elapsed_seconds:
        facts.append(f"{report.elapsed_seconds:.1f} s")
    lines += ["<sub>" + " · ".join(facts) + "</sub>", ""]
    return lines + _coverage(report)


def _coverage(report: Report) -> list[str]:
    """Coverage and what could not be judged offline: in the head, so it is never cut for length."""
    lines = []
    covered = coverage_summary(report)
    if covered:
        lines.append(f"**Coverage:** {covered}.")
    remote = not_judged_offline_summary(report)
    if remote:
        names = ", ".join(f"{code(r.name)} ({code(r.type)})" for r in report.not_judged_offline)
        lines.append(f"**{remote[0].upper()}{remote[1:]}:** {names}.")
    if report.unanswered_data_sources:
        sources = ", ".join(code(token) for token in report.unanswered_data_sources)
        lines.append(f"**No offline answer** (outputs unknown, what depends on them cannot be judged yet): {sources}.")
    return [line for entry in lines for line in (entry, "")]


def _diff_section(diff: PlanDiff, index: ResourceIndex) -> list[str]:
    lines = [f"### Changes since the baseline ({code(diff.baseline)})", ""]
    lines += [f"> ⚠️ {cell(warning)}" for warning in diff.warnings]
    lines += [""] if diff.warnings else []
    if diff.empty:
        return [*lines, "No resources added, removed or changed, and no verdict changed.", ""]
    lines += [
        " · ".join(
            [
                f"🟢 {len(diff.added)} to create",
                f"🔴 {len(diff.removed)} to delete",
                f"🟡 {len(diff.updated)} to update",
                f"🟠 {len(diff.replaced)} to replace",
                f"🆕 {_plural(len(diff.new_violations), 'new violation')}",
                f"✔️ {len(diff.fixed_violations)} fixed",
            ]
        ),
        "",
    ]
    rows = [["`+` create", code(ref.name), code(short_type(ref.type)), " "] for ref in diff.added]
    rows += [["`-` delete", code(ref.name), code(short_type(ref.type)), " "] for ref in diff.removed]
    rows += [
        [
            "`+-` replace" if change.replace else "`~` update",
            code(change.name),
            code(short_type(change.type)),
            ", ".join(code(key) for key in change.keys),
        ]
        for change in diff.changed
    ]
    if rows:
        lines += [*_table(["change", "resource", "type", "inputs that differ"], rows), ""]
    verdicts = [
        ["🆕 new", _LEVEL_BADGE.get(v.level, v.level), code(v.policy), cell(index.label(v.urn)), cell(v.message)]
        for v in diff.new_violations
    ]
    verdicts += [
        ["✔️ fixed", _LEVEL_BADGE.get(v.level, v.level), code(v.policy), cell(index.label(v.urn)), cell(v.message)]
        for v in diff.fixed_violations
    ]
    if verdicts:
        lines += [*_table(["verdict", "level", "rule", "resource", "message"], verdicts), ""]
    return lines


_FINDING_HEADER = ("level", "rule", "resource", "finding", "fix")


def _resource_cell(urn: str, index: ResourceIndex) -> str:
    """The resource's name and type, and where the program constructed it."""
    where = index.source(urn)
    return cell(index.label(urn)) + (f"<br>{code(str(where))}" if where else "")


def _diagnostic_rows(diagnostics: Iterable[Diagnostic], report: Report, index: ResourceIndex) -> list[list[str]]:
    fixes = remediations(report)
    return [
        [
            _LEVEL_BADGE[diagnostic_kind(diagnostic)],
            code(diagnostic.policy),
            _resource_cell(diagnostic.urn, index),
            cell(finding_reason(diagnostic)),
            cell(finding_fix(diagnostic, fixes)) or " ",
        ]
        for diagnostic in sorted_diagnostics(diagnostics)
    ]


def _violations(report: Report, index: ResourceIndex) -> list[str]:
    lines = ["### Violations", ""]
    if not report.mandatory:
        return [*lines, "None: no mandatory rule is violated.", ""]
    return [*lines, *_table(_FINDING_HEADER, _diagnostic_rows(report.mandatory, report, index)), ""]


def _verdict_marks(report: Report) -> dict[str, str]:
    counts: dict[str, list[int]] = {}
    for diagnostic in report.diagnostics:
        tally = counts.setdefault(diagnostic.urn, [0, 0, 0])
        tally[("mandatory", "advisory", "cannot-judge").index(diagnostic_kind(diagnostic))] += 1
    marks = {}
    for urn, (mandatory, advisory, unknown) in counts.items():
        parts = [f"{symbol}{count}" for symbol, count in (("⛔", mandatory), ("⚠️", advisory), ("❔", unknown)) if count]
        marks[urn] = "  " + " ".join(parts)
    return marks


def plan_tree(report: Report, diff: PlanDiff | None = None) -> list[str]:
    """The plan by component with Pulumi's markers, one line per resource: name, type, where the program
    made it, and verdict counts at the end; then, with a baseline, what it deletes."""
    operations = plan_operations(report, diff)
    marks = _verdict_marks(report)

    def line(resource: RecordedResource) -> str:
        where = f"  {resource.source}" if resource.source else ""
        return f"{resource.name}  {resource.type}{where}{marks.get(resource.urn, '')}"

    lines = tree_lines(report, line, lambda resource: f"{PLAN_MARKERS[operations[resource.urn]]} ")
    if diff is not None:
        lines += [f"{PLAN_MARKERS[DELETE]} {ref.name}  {ref.type}" for ref in diff.removed]
    return lines


def _plan(report: Report, diff: PlanDiff | None) -> list[str]:
    picture = render_mermaid(report).rstrip("\n").splitlines()
    return [
        "### Plan by component",
        "",
        "```text",
        *plan_tree(report, diff),
        "",
        *plan_summary_lines(plan_counts(report, diff)),
        "```",
        "",
        *_details("Architecture picture (from the recorded dependencies)", ["```mermaid", *picture, "```"]),
    ]


def _collapsed(report: Report, index: ResourceIndex) -> list[str]:
    lines: list[str] = []
    if report.advisory:
        lines += _details(
            f"Advisories ({len(report.advisory)})",
            _table(_FINDING_HEADER, _diagnostic_rows(report.advisory, report, index)),
        )
    if report.cannot_judge:
        lines += _details(
            f"Cannot judge yet ({len(report.cannot_judge)}): values unknown until deployment",
            _table(_FINDING_HEADER, _diagnostic_rows(report.cannot_judge, report, index)),
        )
    return lines


def _outputs(report: Report) -> list[str]:
    if not report.outputs:
        return []
    rows = [[code(key), code(display_value(report.outputs[key]))] for key in sorted(report.outputs)]
    return _details(f"Stack outputs ({len(report.outputs)})", _table(["output", "value"], rows))


def _resource_list(report: Report) -> list[str]:
    summary = summarize(report)
    managed = sorted((r for r in report.resources if is_managed(r)), key=lambda r: (r.type, r.name, r.urn))
    body = _table(["type", "count"], [[code(t), str(n)] for t, n in summary.resources_by_type.items()])
    body += ["", *_table(["resource", "type", "urn"], [[code(r.name), code(r.type), code(r.urn)] for r in managed])]
    return _details(f"All resources ({summary.resources})", body)


def render_markdown(report: Report, diff: PlanDiff | None = None) -> str:
    index = ResourceIndex(report)
    head = _summary(report)
    if diff is not None:
        head += _diff_section(diff, index)
    head += _violations(report, index)
    plan = _plan(report, diff)
    collapsed = _collapsed(report, index) + _outputs(report)
    resources = _resource_list(report)
    too_long_note = "<sub>{} left out to fit a pull-request comment; the full report is in the workflow artifact.</sub>"

    def join(*sections: list[str]) -> str:
        return "\n".join(line for section in sections for line in section).rstrip("\n") + "\n"

    text = join(head, plan, collapsed, resources)
    if len(text) > COMMENT_LIMIT:
        text = join(head, plan, collapsed, [too_long_note.format("The resource list was"), ""])
    if len(text) > COMMENT_LIMIT:
        text = join(
            head, collapsed, [too_long_note.format("The plan tree, the picture and the resource list were"), ""]
        )
    if len(text) > COMMENT_LIMIT:
        text = join(head, [too_long_note.format("Advisories, the plan, the picture and the resource list were"), ""])
    if len(text) > COMMENT_LIMIT:
        cut = text.rfind("\n", 0, COMMENT_LIMIT - 200)
        text = text[:cut] + "\n\n" + too_long_note.format("The rest of this report was") + "\n"
    return text
