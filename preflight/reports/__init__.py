"""Preflight's reports: text (the terminal), Markdown (PR comment), JSON (record and baseline), SARIF (code
scanning), Mermaid.

render(report, fmt, diff=None) -> str          one format
write_all(report, out_dir, diff=None) -> paths every format into out_dir
compare(baseline_json, report) -> PlanDiff      what changed since a baseline JSON report
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from preflight.model import PlanDiff, Report
from preflight.reports.diff import compare
from preflight.reports.json_report import render_json
from preflight.reports.markdown import render_markdown
from preflight.reports.mermaid import render_mermaid
from preflight.reports.sarif import render_sarif
from preflight.reports.text import render_text

__all__ = ["FILE_NAMES", "FORMATS", "PlanDiff", "compare", "render", "write_all"]

_RENDERERS: dict[str, Callable[[Report, PlanDiff | None], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
    "sarif": lambda report, _diff: render_sarif(report),
    "mermaid": lambda report, _diff: render_mermaid(report),
}
FORMATS = tuple(_RENDERERS)
FILE_NAMES = {
    "text": "report.txt",
    "markdown": "report.md",
    "json": "report.json",
    "sarif": "report.sarif",
    "mermaid": "architecture.mmd",
}


def render(report: Report, fmt: str, diff: PlanDiff | None = None) -> str:
    """The report in one format: `text`, `markdown`, `json`, `sarif` or `mermaid` (the diff shows in the
    first three)."""
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown report format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return renderer(report, diff)


def write_all(report: Report, out_dir: Path, diff: PlanDiff | None = None) -> list[Path]:
    """Write every format into `out_dir` (created if missing); the paths in FORMATS order."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"output directory {out_dir} exists and is not a directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in FORMATS:
        path = out_dir / FILE_NAMES[fmt]
        path.write_text(render(report, fmt, diff), encoding="utf-8", newline="\n")
        written.append(path)
    return written
