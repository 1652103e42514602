"""The JSON report: the machine-readable record of one run, and the baseline a later run compares with.

The shape is pinned by report.schema.json next to this file (see docs/preflight-report-schema.md).
Keys are sorted and lists ordered by URN / severity, so the same report always serialises byte for byte
the same; the only run-dependent values are `elapsedSeconds` and `peakRssBytes`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from preflight.model import Diagnostic, PlanDiff, PolicyInfo, RecordedResource, Report
from preflight.reports.common import (
    TOOL_NAME,
    diagnostic_kind,
    is_component,
    is_provider,
    plan_counts,
    sorted_diagnostics,
    sorted_resources,
    summarize,
)
from preflight.reports.values import resource_inputs, to_json

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


def resource_kind(resource: RecordedResource) -> str:
    if is_provider(resource):
        return "provider"
    if resource.custom:
        return "resource"
    return "component" if is_component(resource) else "stack"


def resource_to_json(resource: RecordedResource) -> dict[str, Any]:
    document: dict[str, Any] = {
        "urn": resource.urn,
        "type": resource.type,
        "name": resource.name,
        "parent": resource.parent,
        "custom": resource.custom,
        "kind": resource_kind(resource),
        "provider": resource.provider,
        "dependencies": sorted(set(resource.dependencies)),
        "propertyDependencies": {
            key: sorted(set(urns)) for key, urns in sorted(resource.property_dependencies.items())
        },
        "inputs": resource_inputs(resource.inputs_struct, resource.inputs),
    }
    if resource.source is not None:
        document["source"] = {"file": resource.source.file, "line": resource.source.line}
    return document


def diagnostic_to_json(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        "policy": diagnostic.policy,
        "level": diagnostic.level,
        "kind": diagnostic_kind(diagnostic),
        "urn": diagnostic.urn,
        "message": diagnostic.message,
        "severity": diagnostic.severity,
        "description": diagnostic.description,
        "pack": diagnostic.pack,
        "cannotJudge": diagnostic.cannot_judge,
    }


def policy_to_json(policy: PolicyInfo) -> dict[str, Any]:
    return {
        "name": policy.name,
        "description": policy.description,
        "level": policy.level,
        "severity": policy.severity,
        "remediationSteps": policy.remediation_steps,
        "tags": list(policy.tags),
        "framework": policy.framework,
        "url": policy.url,
        "kind": policy.kind,
        "configSchema": to_json(policy.config_schema),
    }


def summary_to_json(report: Report, diff: PlanDiff | None = None) -> dict[str, Any]:
    summary = summarize(report)
    return {
        "verdict": summary.verdict,
        "exitCode": summary.exit_code,
        "resources": summary.resources,
        "components": summary.components,
        "providers": summary.providers,
        "mandatory": summary.mandatory,
        "advisory": summary.advisory,
        "cannotJudge": summary.cannot_judge,
        "policies": summary.policies,
        "resourcesByType": summary.resources_by_type,
        "plan": plan_counts(report, diff),
    }


def report_to_json(report: Report, diff: PlanDiff | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "tool": TOOL_NAME,
        "project": report.project,
        "stack": report.stack,
        "policyPack": report.policy_pack,
        "policyConfig": report.policy_config,
        "unknowns": report.unknowns,
        "elapsedSeconds": round(report.elapsed_seconds, 3),
        "summary": summary_to_json(report, diff),
        "resources": [resource_to_json(resource) for resource in sorted_resources(report.resources)],
        "diagnostics": [diagnostic_to_json(diagnostic) for diagnostic in sorted_diagnostics(report.diagnostics)],
        "policies": [policy_to_json(policy) for policy in sorted(report.policies, key=lambda policy: policy.name)],
        "outputs": to_json(report.outputs),
    }
    if report.peak_rss_bytes:
        document["peakRssBytes"] = report.peak_rss_bytes
    if report.coverage is not None:
        document["coverage"] = {
            "judged": sorted(report.coverage.judged),
            "unjudged": sorted(report.coverage.unjudged),
            "total": report.coverage.total,
        }
    document["notJudgedOffline"] = sorted(resource.urn for resource in report.not_judged_offline)
    document["unansweredDataSources"] = sorted(report.unanswered_data_sources)
    if diff is not None:
        document["diff"] = diff.to_json()
    return document


def dumps(document: Any) -> str:
    """Stable text: sorted keys, two-space indent, strict JSON (no NaN), one trailing newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_json(report: Report, diff: PlanDiff | None = None) -> str:
    return dumps(report_to_json(report, diff))


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
