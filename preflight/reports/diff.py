"""What a pull request changes: this run's report against a baseline JSON report (usually from main).

Resources are matched by URN, inputs compared by top-level key after the same JSON conversion the
report itself uses (so a secret compares as `[secret]` on both sides), and verdicts are matched by
(policy, URN). Cannot-judge notes are not violations, so they are neither new nor fixed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from preflight.model import PlanDiff, RecordedResource, Report, ResourceChange, ResourceRef, ViolationRef
from preflight.reports.common import ResourceIndex, parse_urn
from preflight.reports.json_report import SCHEMA_VERSION, report_to_json


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise ValueError(f"baseline report: {problem}")


def _baseline_resources(baseline: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    resources = baseline.get("resources")
    _require(isinstance(resources, list), "`resources` must be a list")
    by_urn: dict[str, Mapping[str, Any]] = {}
    for position, resource in enumerate(resources):
        _require(
            isinstance(resource, Mapping) and isinstance(resource.get("urn"), str),
            f"resources[{position}] needs a string `urn`",
        )
        _require(isinstance(resource.get("inputs", {}), Mapping), f"resources[{position}].inputs must be an object")
        by_urn[resource["urn"]] = resource
    return by_urn


def _violations(diagnostics: Any, where: str) -> dict[tuple[str, str], ViolationRef]:
    _require(isinstance(diagnostics, list), f"{where}: `diagnostics` must be a list")
    found: dict[tuple[str, str], ViolationRef] = {}
    for position, diagnostic in enumerate(diagnostics):
        _require(
            isinstance(diagnostic, Mapping) and isinstance(diagnostic.get("policy"), str),
            f"{where}: diagnostics[{position}] needs a string `policy`",
        )
        if diagnostic.get("cannotJudge"):
            continue
        key = (diagnostic["policy"], str(diagnostic.get("urn", "")))
        # One rule can fire twice on a resource; the first message (worst-first order) stands for both.
        found.setdefault(
            key,
            ViolationRef(
                policy=key[0],
                urn=key[1],
                level=str(diagnostic.get("level", "")),
                message=str(diagnostic.get("message", "")),
            ),
        )
    return found


def _ref(urn: str, resource: Mapping[str, Any]) -> ResourceRef:
    parsed = parse_urn(urn)
    return ResourceRef(
        urn=urn,
        type=str(resource.get("type") or (parsed.type if parsed else "")),
        name=str(resource.get("name") or (parsed.name if parsed else urn)),
    )


def _changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key)))


def _replaces(resource: RecordedResource | None, keys: Iterable[str]) -> bool:
    """Whether changing `keys` replaces the resource: the engine replaces when a changed property matches
    one of the resource's `replaceOnChanges` paths (`*` for any), pulumi/pulumi
    pkg/resource/deploy/step_generator.go. A replacement the provider itself forces (a property its schema
    marks forceNew) cannot be known offline, so it shows as an update."""
    paths = resource.options.get("replaceOnChanges", ()) if resource is not None else ()
    heads = {re.split(r"[.\[]", path, maxsplit=1)[0] for path in paths}
    return "*" in heads or bool(heads & set(keys))


def compare(baseline: Mapping[str, Any], report: Report) -> PlanDiff:
    """Resources added, removed and changed, and violations new and fixed, since `baseline`.

    `baseline` is a JSON report as `render(report, "json")` wrote it, parsed. A document that is not
    one raises ValueError naming what is wrong, so the CLI can report it instead of a traceback.
    """
    _require(isinstance(baseline, Mapping), f"expected a JSON object, got {type(baseline).__name__}")
    version = baseline.get("schemaVersion")
    _require(
        version == SCHEMA_VERSION,
        f"schemaVersion is {version!r}; this preflight reads version {SCHEMA_VERSION} "
        "(regenerate the baseline with this version)",
    )
    before = _baseline_resources(baseline)
    current = report_to_json(report)
    after = {resource["urn"]: resource for resource in current["resources"]}
    index = ResourceIndex(report)

    added = tuple(_ref(urn, after[urn]) for urn in sorted(set(after) - set(before)))
    removed = tuple(_ref(urn, before[urn]) for urn in sorted(set(before) - set(after)))
    changed = []
    for urn in sorted(set(before) & set(after)):
        keys = _changed_keys(before[urn].get("inputs", {}), after[urn]["inputs"])
        if keys:
            replace = _replaces(index.by_urn.get(urn), keys)
            changed.append(
                ResourceChange(urn=urn, type=index.type(urn), name=index.name(urn), keys=keys, replace=replace)
            )

    old_violations = _violations(baseline.get("diagnostics", []), "baseline")
    new_violations = _violations(current["diagnostics"], "report")
    project = baseline.get("project", "?")
    stack = baseline.get("stack", "?")
    warnings = []
    if (project, stack) != (report.project, report.stack):
        warnings.append(f"the baseline is {project}/{stack}, this run {report.project}/{report.stack}")
    if bool(baseline.get("unknowns")) != report.unknowns:
        modes = ("unknown", "mocked") if baseline.get("unknowns") else ("mocked", "unknown")
        warnings.append(
            f"the baseline ran with {modes[0]} provider outputs and this run with {modes[1]} ones, "
            "so inputs built from outputs differ for that reason alone"
        )
    return PlanDiff(
        baseline=f"{project}/{stack}",
        added=added,
        removed=removed,
        changed=tuple(changed),
        new_violations=tuple(new_violations[key] for key in sorted(set(new_violations) - set(old_violations))),
        fixed_violations=tuple(old_violations[key] for key in sorted(set(old_violations) - set(new_violations))),
        warnings=tuple(warnings),
    )
