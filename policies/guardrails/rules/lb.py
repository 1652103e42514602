"""Load balancers: HTTPS with modern TLS, strict header parsing, protected and logged."""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import Severity

from guardrails.checks import Expect, Expectations, is_true, one_of
from guardrails.framework import Findings, Resource, RuleInfo, resource_rule
from guardrails.values import as_bool, as_list, dig

LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
# TLS 1.2+ policies: ELBSecurityPolicy-TLS13-1-2-2021-06, -TLS-1-2-2017-01, -FS-1-2-Res-2020-10, ...
MODERN_TLS_POLICY = re.compile(r"-(?:TLS13|TLS|FS)-1-[23]-")


def _protocol(resource: Resource) -> Any:
    protocol = resource.props.get("protocol")
    return protocol.upper() if isinstance(protocol, str) else protocol


# --- aws-lb-listener-https --------------------------------------------------------------------------


def _check_https(resource: Resource, findings: Findings) -> None:
    protocol = _protocol(resource)
    if findings.unknown(protocol):
        return
    if protocol not in (None, "HTTP"):
        return
    actions = resource.props.get("defaultActions")
    if findings.unknown(actions):
        return
    for index, action in enumerate(as_list(actions) or [None]):
        kind, target = dig(action, "type"), dig(action, "redirect", "protocol")
        if findings.unknown_any(kind, target):
            continue
        if kind != "redirect" or not isinstance(target, str) or target.upper() != "HTTPS":
            findings.violation(
                f"HTTP listener defaultActions[{index}] is {kind or 'missing'}, not a redirect to HTTPS; "
                "traffic would travel in clear text."
            )


LISTENER_HTTPS = resource_rule(
    RuleInfo(
        name="aws-lb-listener-https",
        description="HTTP listeners do nothing but redirect to HTTPS.",
        severity=Severity.MEDIUM,
        remediation_steps=(
            'Give the port-80 listener one default action {"type": "redirect", "redirect": {"protocol": '
            '"HTTPS", "port": "443", "status_code": "HTTP_301"}} and serve the app on an HTTPS listener.'
        ),
        frameworks=("fsbp:ELB.1", "checkov:CKV_AWS_2"),
    ),
    dict.fromkeys(LISTENERS, _check_https),
)


# --- aws-lb-listener-modern-tls ---------------------------------------------------------------------


def _check_modern_tls(resource: Resource, findings: Findings) -> None:
    protocol = _protocol(resource)
    if findings.unknown(protocol) or protocol not in ("HTTPS", "TLS"):
        return
    policy = resource.props.get("sslPolicy")
    if findings.unknown(policy):
        return
    if not isinstance(policy, str) or not MODERN_TLS_POLICY.search(policy):
        findings.violation(
            f"sslPolicy is {policy or 'not set (ELBSecurityPolicy-2016-08, which allows TLS 1.0)'}; "
            "use ELBSecurityPolicy-TLS13-1-2-2021-06."
        )


LISTENER_MODERN_TLS = resource_rule(
    RuleInfo(
        name="aws-lb-listener-modern-tls",
        description="HTTPS and TLS listeners use a security policy that requires TLS 1.2 or newer.",
        severity=Severity.MEDIUM,
        remediation_steps='Set ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06".',
        frameworks=("checkov:CKV_AWS_103",),
    ),
    dict.fromkeys(LISTENERS, _check_modern_tls),
)


# --- load balancer attributes -----------------------------------------------------------------------


APPLICATION = Expect("loadBalancerType", one_of(None, "application"))
DROP_INVALID_HEADERS_SETTING = Expectations(
    Expect(
        "dropInvalidHeaderFields",
        is_true,
        "malformed headers reach the app (request smuggling)",
        unset="not set (false)",
        fix=True,
    ),
    when=APPLICATION,
)


DROP_INVALID_HEADERS = resource_rule(
    RuleInfo(
        name="aws-lb-drop-invalid-headers",
        description="Application load balancers drop HTTP headers that are not valid.",
        severity=Severity.MEDIUM,
        remediation_steps="Set drop_invalid_header_fields=True on the load balancer.",
        frameworks=("fsbp:ELB.4", "checkov:CKV_AWS_131"),
    ),
    dict.fromkeys(LOAD_BALANCERS, DROP_INVALID_HEADERS_SETTING),
    dict.fromkeys(LOAD_BALANCERS, DROP_INVALID_HEADERS_SETTING.remediate),
)


DELETION_PROTECTION_SETTING = Expectations(
    Expect(
        "enableDeletionProtection",
        is_true,
        "one mistaken change could delete the entry point",
        unset="not set (false)",
    )
)


DELETION_PROTECTION = resource_rule(
    RuleInfo(
        name="aws-lb-deletion-protection",
        description="Load balancers have deletion protection turned on.",
        severity=Severity.LOW,
        remediation_steps="Set enable_deletion_protection=True (prod config turns this into a requirement).",
        frameworks=("fsbp:ELB.6", "checkov:CKV_AWS_150"),
    ),
    dict.fromkeys(LOAD_BALANCERS, DELETION_PROTECTION_SETTING),
)


def _check_access_logs(resource: Resource, findings: Findings) -> None:
    logs = resource.props.get("accessLogs")
    if findings.unknown(logs):
        return
    enabled, bucket = dig(logs, "enabled"), dig(logs, "bucket")
    if findings.unknown_any(enabled, bucket):
        return
    # `enabled` defaults to false even when a bucket is given.
    if not isinstance(bucket, str) or not bucket or as_bool(enabled) is not True:
        findings.violation("accessLogs are not enabled with a bucket; requests leave no trace.")


ACCESS_LOGS = resource_rule(
    RuleInfo(
        name="aws-lb-access-logs",
        description="Load balancers write access logs to an S3 bucket.",
        severity=Severity.LOW,
        remediation_steps=(
            'Set access_logs={"bucket": <bucket>, "enabled": True} with a bucket policy that lets the '
            "region's ELB log delivery write."
        ),
        frameworks=("fsbp:ELB.5", "checkov:CKV_AWS_91"),
    ),
    dict.fromkeys(LOAD_BALANCERS, _check_access_logs),
)
