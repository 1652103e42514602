"""CloudWatch Logs: log groups keep logs for a bounded, valid time."""

from __future__ import annotations

from pulumi_policy import Severity

from guardrails.framework import Findings, Resource, RuleInfo, resource_rule
from guardrails.values import as_int

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
# The only values CloudWatch Logs accepts for retentionInDays.
RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)


def _check_retention(resource: Resource, findings: Findings) -> None:
    retention = resource.props.get("retentionInDays")
    if findings.unknown(retention):
        return
    days = as_int(retention)
    if not days:
        findings.violation("retentionInDays is not set; logs would be kept (and paid for) forever.")
    elif days not in RETENTION_DAYS:
        findings.violation(f"retentionInDays is {days}, which CloudWatch Logs does not accept.")


LOG_GROUP_RETENTION = resource_rule(
    RuleInfo(
        name="aws-cloudwatch-log-group-retention",
        description="CloudWatch log groups set a retention period.",
        severity=Severity.LOW,
        remediation_steps="Set retention_in_days to one of the values CloudWatch accepts (for example 30).",
        frameworks=("checkov:CKV_AWS_66",),
    ),
    {LOG_GROUP: _check_retention},
)
