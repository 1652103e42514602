"""SARIF 2.1.0 for GitHub code scanning: one rule per pack policy, one result per verdict.

Code scanning needs a file for every result, but a verdict is about a cloud resource. Each result
carries both: the resource URN as its logical location and, as its physical location, the file and line
where the program constructed the resource (recorded from the registration's call stack). When the
recording has no such frame (a stack-wide verdict, a resource the program did not construct itself), the
project file that declares it stands in, at line 1 (see `common.source_file`). Results on one file and line
would collapse into one alert, so a fingerprint of (policy, URN) keeps one alert per resource.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import Any

from preflight.model import ADVISORY, DISABLED, MANDATORY, REMEDIATE, Diagnostic, PolicyInfo, Report
from preflight.reports.common import (
    TOOL_NAME,
    ResourceIndex,
    diagnostic_kind,
    sorted_diagnostics,
    source_file,
)
from preflight.reports.json_report import dumps

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "shipshapePolicyResource/v1"

_LEVEL = {MANDATORY: "error", REMEDIATE: "warning", ADVISORY: "warning", DISABLED: "none"}
# GitHub ranks alerts by this score: >= 9 critical, 7-8.9 high, 4-6.9 medium, below that low.
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}


def result_level(diagnostic: Diagnostic) -> str:
    """mandatory -> error, advisory (or remediate) -> warning, cannot judge -> note."""
    if diagnostic.cannot_judge:
        return "note"
    return _LEVEL.get(diagnostic.level, "warning")


def _rule_name(policy_name: str) -> str:
    """`aws-ecr-repository-scan-on-push` -> `AwsEcrRepositoryScanOnPush` (SARIF wants an identifier)."""
    return "".join(part.capitalize() for part in policy_name.replace("_", "-").split("-") if part) or "Policy"


def _rule(policy: PolicyInfo) -> dict[str, Any]:
    description = policy.description.strip() or f"Policy {policy.name}."
    remediation = policy.remediation_steps.strip()
    help_text = description + (f"\n\nRemediation: {remediation}" if remediation else "")
    help_markdown = f"{description}\n\n**Remediation:** {remediation}" if remediation else description
    full = description + (f" ({policy.framework})" if policy.framework else "")
    tags = ["security", "pulumi-policy", *policy.tags]
    properties: dict[str, Any] = {
        "tags": sorted(set(tags), key=tags.index),
        "precision": "high",
        "enforcementLevel": policy.level,
        "kind": policy.kind,
    }
    severity = policy.severity.lower()
    if severity in _SECURITY_SEVERITY:
        properties["security-severity"] = _SECURITY_SEVERITY[severity]
    if policy.framework:
        properties["framework"] = policy.framework
    rule: dict[str, Any] = {
        "id": policy.name,
        "name": _rule_name(policy.name),
        "shortDescription": {"text": description},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": _LEVEL.get(policy.level, "warning"), "enabled": policy.level != DISABLED},
        "properties": properties,
    }
    if policy.url:
        rule["helpUri"] = policy.url
    return rule


def _policies_for(report: Report) -> list[PolicyInfo]:
    """The pack's policies, plus a stand-in for any verdict naming a policy the pack did not describe."""
    known = {policy.name: policy for policy in report.policies}
    for diagnostic in report.diagnostics:
        if diagnostic.policy not in known:
            known[diagnostic.policy] = PolicyInfo(
                name=diagnostic.policy,
                description=diagnostic.description,
                level=diagnostic.level,
                severity=diagnostic.severity,
            )
    return [known[name] for name in sorted(known)]


def _fingerprint(diagnostic: Diagnostic) -> str:
    return hashlib.sha256(f"{diagnostic.policy}\0{diagnostic.urn}".encode()).hexdigest()[:32]


def _result(diagnostic: Diagnostic, rule_index: int, report: Report, index: ResourceIndex) -> dict[str, Any]:
    message = diagnostic.message.strip() or diagnostic.description.strip() or diagnostic.policy
    label = index.label(diagnostic.urn)
    where = index.source(diagnostic.urn)
    uri, line = (where.file, where.line) if where else (source_file(diagnostic.urn, report), 1)
    # A program file outside the project directory has an absolute path: a file URI, not one under the root.
    artifact = {"uri": PurePosixPath(uri).as_uri()} if uri.startswith("/") else {"uri": uri, "uriBaseId": "%SRCROOT%"}
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": artifact, "region": {"startLine": line}}}
    if diagnostic.urn:
        location["logicalLocations"] = [
            {"fullyQualifiedName": diagnostic.urn, "name": index.name(diagnostic.urn), "kind": "resource"}
        ]
    return {
        "ruleId": diagnostic.policy,
        "ruleIndex": rule_index,
        "level": result_level(diagnostic),
        "message": {"text": f"{label}: {message}"},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(diagnostic)},
        "properties": {
            "urn": diagnostic.urn,
            "resourceType": index.type(diagnostic.urn),
            "enforcementLevel": diagnostic.level,
            "verdict": diagnostic_kind(diagnostic),
            "policyPack": diagnostic.pack,
        },
    }


def _coverage(report: Report) -> dict[str, Any]:
    """What the run could judge, so a clean run with nothing in scope is not read as a pass."""
    found: dict[str, Any] = {
        "notJudgedOffline": sorted(resource.urn for resource in report.not_judged_offline),
        "unansweredDataSources": sorted(report.unanswered_data_sources),
    }
    if report.coverage is not None:
        found["coverage"] = {"judged": len(report.coverage.judged), "total": report.coverage.total}
    return found


def report_to_sarif(report: Report) -> dict[str, Any]:
    index = ResourceIndex(report)
    policies = _policies_for(report)
    rule_index = {policy.name: position for position, policy in enumerate(policies)}
    results = [
        _result(diagnostic, rule_index[diagnostic.policy], report, index)
        for diagnostic in sorted_diagnostics(report.diagnostics)
    ]
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "rules": [_rule(policy) for policy in policies],
                    }
                },
                "automationDetails": {"id": f"preflight/{report.stack}/"},
                "invocations": [{"executionSuccessful": True}],
                "results": results,
                "properties": {
                    "project": report.project,
                    "stack": report.stack,
                    "policyPack": report.policy_pack,
                    "policyConfig": report.policy_config,
                    "unknowns": report.unknowns,
                    **_coverage(report),
                },
            }
        ],
    }


def render_sarif(report: Report) -> str:
    return dumps(report_to_sarif(report))
