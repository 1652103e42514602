"""Load balancer, listener and log group rules, including the aws:alb aliases."""

from __future__ import annotations

import pytest

from tests.policies.fixtures import (
    ALB_LISTENER,
    ALB_LOAD_BALANCER,
    COMPLIANT,
    HTTPS_LISTENER,
    LISTENER,
    LOAD_BALANCER,
    LOG_GROUP,
)
from tests.policies.harness import DELETE, changed, judge

HTTPS = "aws-lb-listener-https"
TLS = "aws-lb-listener-modern-tls"
HEADERS = "aws-lb-drop-invalid-headers"
PROTECTION = "aws-lb-deletion-protection"
ACCESS_LOGS = "aws-lb-access-logs"
RETENTION = "aws-cloudwatch-log-group-retention"
FORWARD = [{"type": "forward", "targetGroupArn": "arn:tg"}]


@pytest.mark.parametrize("listener_type", [LISTENER, ALB_LISTENER])
@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(changed(COMPLIANT[LISTENER], ("defaultActions",), FORWARD), {HTTPS}, id="plain-http-forward"),
        pytest.param(
            changed(COMPLIANT[LISTENER], ("protocol",), DELETE) | {"defaultActions": FORWARD},
            {HTTPS},
            id="protocol-unset-means-http",
        ),
        pytest.param(
            changed(COMPLIANT[LISTENER], ("defaultActions", 0, "redirect", "protocol"), "HTTP"),
            {HTTPS},
            id="redirect-to-http",
        ),
        pytest.param(changed(COMPLIANT[LISTENER], ("defaultActions",), []), {HTTPS}, id="no-actions"),
        pytest.param(HTTPS_LISTENER, set(), id="https-modern"),
        pytest.param(changed(HTTPS_LISTENER, ("sslPolicy",), DELETE), {TLS}, id="https-policy-unset-is-old"),
        pytest.param(changed(HTTPS_LISTENER, ("sslPolicy",), "ELBSecurityPolicy-2016-08"), {TLS}, id="https-2016"),
        pytest.param(
            changed(HTTPS_LISTENER, ("sslPolicy",), "ELBSecurityPolicy-TLS13-1-0-2021-06"), {TLS}, id="tls13-1-0"
        ),
        pytest.param(
            changed(HTTPS_LISTENER, ("sslPolicy",), "ELBSecurityPolicy-FS-1-2-Res-2020-10"), set(), id="fs-1-2"
        ),
        pytest.param(
            changed(HTTPS_LISTENER, ("protocol",), "TLS") | {"sslPolicy": "ELBSecurityPolicy-TLS-1-1-2017-01"},
            {TLS},
            id="nlb-tls-1-1",
        ),
    ],
)
def test_listener_rules(listener_type: str, props: dict, expected: set[str]) -> None:
    assert judge(listener_type, props).fired == expected


@pytest.mark.parametrize("balancer_type", [LOAD_BALANCER, ALB_LOAD_BALANCER])
@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(
            changed(COMPLIANT[LOAD_BALANCER], ("dropInvalidHeaderFields",), False), {HEADERS}, id="keeps-bad-headers"
        ),
        pytest.param(
            changed(COMPLIANT[LOAD_BALANCER], ("dropInvalidHeaderFields",), DELETE), {HEADERS}, id="headers-unset"
        ),
        pytest.param(
            changed(COMPLIANT[LOAD_BALANCER], ("dropInvalidHeaderFields",), DELETE) | {"loadBalancerType": "network"},
            set(),
            id="network-lb-has-no-headers",
        ),
        pytest.param(
            changed(COMPLIANT[LOAD_BALANCER], ("enableDeletionProtection",), False), {PROTECTION}, id="unprotected"
        ),
        pytest.param(changed(COMPLIANT[LOAD_BALANCER], ("accessLogs",), DELETE), {ACCESS_LOGS}, id="no-access-logs"),
        pytest.param(
            changed(COMPLIANT[LOAD_BALANCER], ("accessLogs", "enabled"), DELETE),
            {ACCESS_LOGS},
            id="bucket-without-enabled",
        ),
    ],
)
def test_load_balancer_rules(balancer_type: str, props: dict, expected: set[str]) -> None:
    assert judge(balancer_type, props).fired == expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param({"name": "/x"}, {RETENTION}, id="unset"),
        pytest.param({"retentionInDays": 0}, {RETENTION}, id="zero-means-forever"),
        pytest.param({"retentionInDays": 10}, {RETENTION}, id="value-cloudwatch-rejects"),
        pytest.param({"retentionInDays": 14.0}, set(), id="float-from-protobuf"),
    ],
)
def test_log_group_retention(props: dict, expected: set[str]) -> None:
    assert judge(LOG_GROUP, props).fired == expected
