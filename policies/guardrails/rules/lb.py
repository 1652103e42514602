"""Load balancers: HTTPS with modern TLS, strict header parsing, protected and logged."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pulumi_policy import Severity

from guardrails.checks import Expect, Expectations, is_true, one_of
from guardrails.framework import Findings, Resource, RuleInfo, Stack, resource_rule, stack_rule
from guardrails.values import as_bool, as_int, as_list, dig, shown

LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
# awsx's ApplicationLoadBalancer passes its other inputs to aws.lb.LoadBalancer unchanged
# (pulumi-awsx awsx/lb/applicationLoadBalancer.ts), so the load balancer attribute rules read them as they are.
AWSX_ALB = "awsx:lb:ApplicationLoadBalancer"
AWSX_LIMIT = (
    "awsx components are judged by their own inputs; in a real run the awsx provider's children are judged "
    "too, so one cause can be reported on both."
)
# TLS 1.2+ policies: ELBSecurityPolicy-TLS13-1-2-2021-06, -TLS-1-2-2017-01, -FS-1-2-Res-2020-10, ...
MODERN_TLS_POLICY = re.compile(r"-(?:TLS13|TLS|FS)-1-[23]-")


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _judge_https(listener: Any, findings: Findings, where: str) -> None:
    protocol = _upper(dig(listener, "protocol"))
    if findings.unknown(protocol) or protocol not in (None, "HTTP"):
        return
    actions = dig(listener, "defaultActions")
    if findings.unknown(actions):
        return
    for index, action in enumerate(as_list(actions) or [None]):
        kind, target = dig(action, "type"), dig(action, "redirect", "protocol")
        if findings.unknown_any(kind, target):
            continue
        if kind != "redirect" or not isinstance(target, str) or target.upper() != "HTTPS":
            findings.violation(
                f"HTTP {where}defaultActions[{index}] is {shown(kind) if kind else 'missing'}, not a redirect to "
                "HTTPS; traffic would travel in clear text."
            )


def _judge_modern_tls(listener: Any, findings: Findings, where: str) -> None:
    protocol = _upper(dig(listener, "protocol"))
    if findings.unknown(protocol) or protocol not in ("HTTPS", "TLS"):
        return
    policy = dig(listener, "sslPolicy")
    if findings.unknown(policy):
        return
    if not isinstance(policy, str) or not MODERN_TLS_POLICY.search(policy):
        shown_policy = shown(policy) if policy else "not set (ELBSecurityPolicy-2016-08, which allows TLS 1.0)"
        findings.violation(f"{where}sslPolicy is {shown_policy}; use ELBSecurityPolicy-TLS13-1-2-2021-06.")


def awsx_listeners(resource: Resource, findings: Findings) -> list[tuple[str, dict[str, Any]]]:
    """The listeners an awsx ApplicationLoadBalancer creates, as (label, aws.lb.Listener inputs).

    pulumi-awsx awsx/lb/applicationLoadBalancer.ts: `listener` or `listeners` (not both); with neither,
    one listener on port 80 over HTTP. A listener without protocol takes HTTPS on port 443 and HTTP on any
    other port; without port, 443 for HTTPS and 80 otherwise. Its default action forwards to the default
    target group unless the listener gives defaultActions.
    """
    listener, listeners = resource.props.get("listener"), resource.props.get("listeners")
    if findings.unknown_any(listener, listeners):
        return []
    if isinstance(listener, dict):
        entries = [("listener ", listener)]
    elif isinstance(listeners, list) and listeners:
        entries = [(f"listeners[{index}] ", entry) for index, entry in enumerate(listeners)]
    else:
        entries = [("default listener ", {})]
    result = []
    for label, entry in entries:
        if findings.unknown(entry) or not isinstance(entry, dict):
            continue
        port, protocol = entry.get("port"), _upper(entry.get("protocol"))
        if findings.unknown_any(port, protocol):
            continue
        if protocol is None:
            protocol = "HTTPS" if as_int(port) == 443 else "HTTP"
        actions = entry.get("defaultActions") or [{"type": "forward"}]
        result.append((label, {**entry, "protocol": protocol, "defaultActions": actions}))
    return result


def _per_listener(judge: Callable[[Any, Findings, str], None]) -> Callable[[Resource, Findings], None]:
    def check(resource: Resource, findings: Findings) -> None:
        if resource.type == AWSX_ALB:
            for label, listener in awsx_listeners(resource, findings):
                judge(listener, findings, label)
        else:
            judge(resource.props, findings, "listener ")

    return check


LISTENER_HTTPS = resource_rule(
    RuleInfo(
        name="aws-lb-listener-https",
        description=(
            "HTTP listeners, including those an awsx ApplicationLoadBalancer creates, do nothing but redirect to HTTPS."
        ),
        limits=AWSX_LIMIT,
        severity=Severity.MEDIUM,
        remediation_steps=(
            'Give the port-80 listener one default action {"type": "redirect", "redirect": {"protocol": '
            '"HTTPS", "port": "443", "status_code": "HTTP_301"}} and serve the app on an HTTPS listener.'
        ),
        frameworks=("fsbp:ELB.1", "checkov:CKV_AWS_2"),
    ),
    dict.fromkeys((*LISTENERS, AWSX_ALB), _per_listener(_judge_https)),
)


# --- aws-lb-listener-modern-tls ---------------------------------------------------------------------


LISTENER_MODERN_TLS = resource_rule(
    RuleInfo(
        name="aws-lb-listener-modern-tls",
        description="HTTPS and TLS listeners use a security policy that requires TLS 1.2 or newer.",
        limits=AWSX_LIMIT,
        severity=Severity.MEDIUM,
        remediation_steps='Set ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06".',
        frameworks=("checkov:CKV_AWS_103",),
    ),
    dict.fromkeys((*LISTENERS, AWSX_ALB), _per_listener(_judge_modern_tls)),
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
    dict.fromkeys((*LOAD_BALANCERS, AWSX_ALB), DROP_INVALID_HEADERS_SETTING),
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
    dict.fromkeys((*LOAD_BALANCERS, AWSX_ALB), DELETION_PROTECTION_SETTING),
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
        limits="awsx load balancers are judged by their own accessLogs input.",
    ),
    dict.fromkeys((*LOAD_BALANCERS, AWSX_ALB), _check_access_logs),
)


# --- aws-lb-access-logs-after-bucket-policy (stack) ------------------------------------------------------

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
# What the log delivery's first test write relies on: the bucket policy that lets the region's ELB
# account (or logdelivery.elasticloadbalancing.amazonaws.com) write, and the bucket's ownership and
# encryption settings (ALB access logs support SSE-S3 only). AWS checks them when the attribute is set:
# "Access Denied for bucket: ... Please check S3bucket permission".
BUCKET_SETTINGS = (
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)


def _depends_on(stack: Stack, resource: Resource) -> set[str]:
    """Every URN the resource waits for: its dependencies and property dependencies, transitively."""
    by_urn = stack.by_urn()
    seen: set[str] = set()
    pending = [resource]
    while pending:
        current = pending.pop()
        direct = set(current.dependencies).union(*current.property_dependencies.values())
        for urn in direct - seen:
            seen.add(urn)
            if urn in by_urn:
                pending.append(by_urn[urn])
    return seen


def _check_access_log_order(stack: Stack, findings: Findings) -> None:
    buckets = stack.of_type(*BUCKETS)
    settings_of: dict[str, list[Resource]] = {}
    for setting in stack.of_type(*BUCKET_SETTINGS):
        for key in setting.references("bucket"):
            settings_of.setdefault(key, []).append(setting)
    for balancer in stack.of_type(*LOAD_BALANCERS):
        logs = balancer.props.get("accessLogs")
        enabled, bucket_name = dig(logs, "enabled"), dig(logs, "bucket")
        if findings.unknown(enabled, balancer.urn) or as_bool(enabled) is not True:
            continue
        named = {bucket_name} if isinstance(bucket_name, str) else set()
        targets = named | set(balancer.property_dependencies.get("accessLogs", ()))
        log_buckets = [bucket for bucket in buckets if bucket.keys("bucket", "id") & targets]
        if not log_buckets and findings.unknown(bucket_name, balancer.urn):
            continue
        waited_for = _depends_on(stack, balancer)
        for bucket in log_buckets:
            settings = {
                setting.urn: setting for key in bucket.keys("bucket", "id") for setting in settings_of.get(key, ())
            }
            missing = [setting for urn, setting in settings.items() if urn not in waited_for]
            if missing:
                names = ", ".join(f"{setting.type.rsplit(':', 1)[-1]} {shown(setting.name)}" for setting in missing[:4])
                more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
                findings.violation(
                    f"Load balancer {shown(balancer.name)} writes access logs to bucket {shown(bucket.name)} but "
                    f"does not depend on its {names}{more}; on a first `pulumi up` the load balancer can be "
                    "created first and AWS refuses the log configuration (Access Denied). Add them to depends_on.",
                    balancer.urn,
                )


ACCESS_LOGS_AFTER_BUCKET_POLICY = stack_rule(
    RuleInfo(
        name="aws-lb-access-logs-after-bucket-policy",
        description=(
            "A load balancer that writes access logs to a bucket of the stack depends on that bucket's policy, "
            "ownership and encryption settings."
        ),
        severity=Severity.MEDIUM,
        remediation_steps=(
            "Pass opts=pulumi.ResourceOptions(depends_on=[bucket_policy, ownership_controls, encryption]) to "
            "the load balancer (directly, or through a resource it already depends on)."
        ),
        frameworks=("shipshape",),
        limits=(
            "Buckets and settings are matched by bucket name or by the engine's property dependencies; "
            "dependencies are those the engine sends in AnalyzeStack (a dependency on a component counts "
            "through the children the SDK expands it to). awsx load balancers are not judged here."
        ),
    ),
    _check_access_log_order,
    reads=(*LOAD_BALANCERS, *BUCKETS, *BUCKET_SETTINGS),
)
