"""A load balancer writing access logs to a bucket of the stack waits for the bucket's policy and settings.

The fixtures are shaped like our program's prod stack (components/web_service.py): an access-log bucket
with a public access block, ownership controls, encryption and a policy, all siblings of the load balancer,
which names the bucket in accessLogs.bucket (an output, so the engine sends a property dependency).
"""

from __future__ import annotations

import pytest

from tests.policies.fixtures import (
    BUCKET,
    BUCKET_ENCRYPTION,
    BUCKET_POLICY,
    COMPLIANT,
    LOAD_BALANCER,
    OWNERSHIP_CONTROLS,
    PUBLIC_ACCESS_BLOCK,
)
from tests.policies.harness import UNKNOWN, Spec, changed, judge_stack

ORDER = "aws-lb-access-logs-after-bucket-policy"
SETTINGS = ("logs-policy", "logs-ownership", "logs-encryption")


def log_stack(*, alb_dependencies: tuple[str, ...] = SETTINGS, alb_props: dict | None = None, extra=()) -> list[Spec]:
    on_bucket = {"bucket": ("logs",)}
    return [
        Spec(BUCKET, "logs", COMPLIANT[BUCKET]),
        Spec(PUBLIC_ACCESS_BLOCK, "logs-block", COMPLIANT[PUBLIC_ACCESS_BLOCK], on_bucket, ("logs",)),
        Spec(OWNERSHIP_CONTROLS, "logs-ownership", COMPLIANT[OWNERSHIP_CONTROLS], on_bucket, ("logs",)),
        Spec(BUCKET_ENCRYPTION, "logs-encryption", COMPLIANT[BUCKET_ENCRYPTION], on_bucket, ("logs",)),
        Spec(BUCKET_POLICY, "logs-policy", COMPLIANT[BUCKET_POLICY], on_bucket, ("logs",)),
        Spec(
            LOAD_BALANCER,
            "alb",
            alb_props if alb_props is not None else COMPLIANT[LOAD_BALANCER],
            {"accessLogs": ("logs",), "securityGroups": ()},
            ("logs", *alb_dependencies),
        ),
        *extra,
    ]


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        pytest.param(log_stack(), set(), id="depends-on-policy-ownership-and-encryption"),
        pytest.param(log_stack(alb_dependencies=()), {ORDER}, id="sibling-of-the-bucket-policy-as-today"),
        pytest.param(log_stack(alb_dependencies=("logs-ownership", "logs-encryption")), {ORDER}, id="policy-missing"),
        pytest.param(log_stack(alb_dependencies=("logs-policy",)), {ORDER}, id="settings-missing"),
        pytest.param(
            log_stack(
                alb_dependencies=("logs-ready",),
                extra=[Spec("pulumi:pulumi:Stack", "logs-ready", {}, {}, SETTINGS)],
            ),
            set(),
            id="transitively-through-another-resource",
        ),
        pytest.param(
            log_stack(
                alb_dependencies=(), alb_props=changed(COMPLIANT[LOAD_BALANCER], ("accessLogs", "enabled"), False)
            ),
            set(),
            id="access-logs-off",
        ),
        pytest.param(
            log_stack(alb_dependencies=(), alb_props=changed(COMPLIANT[LOAD_BALANCER], ("accessLogs",), None)),
            set(),
            id="no-access-logs",
        ),
        pytest.param(
            log_stack(
                alb_dependencies=(), alb_props=changed(COMPLIANT[LOAD_BALANCER], ("accessLogs", "bucket"), UNKNOWN)
            ),
            {ORDER},
            id="bucket-name-unknown-matched-by-property-dependency",
        ),
        pytest.param(
            [
                *log_stack()[:-1],
                Spec(LOAD_BALANCER, "alb", changed(COMPLIANT[LOAD_BALANCER], ("accessLogs", "bucket"), "other-logs")),
            ],
            set(),
            id="bucket-of-another-stack",
        ),
    ],
)
def test_access_log_order_fires_exactly(specs: list[Spec], expected: set[str]) -> None:
    assert judge_stack(specs).fired & {ORDER} == expected


def test_the_finding_names_the_load_balancer_and_what_it_must_wait_for() -> None:
    verdict = judge_stack(log_stack(alb_dependencies=("logs-ownership", "logs-encryption")))
    [(message, urn)] = verdict.messages[ORDER]
    assert urn.endswith("::alb")
    assert "BucketPolicy 'logs-policy'" in message and "depends_on" in message


def test_dependency_cycles_end() -> None:
    specs = log_stack(
        alb_dependencies=("a",),
        extra=[Spec("test:index:A", "a", {}, {}, ("b",)), Spec("test:index:B", "b", {}, {}, ("a", "alb"))],
    )
    assert ORDER in judge_stack(specs).fired
