"""Hostile inputs through the real analyzer protocol: never a gRPC error, findings bounded and not repeated.

The pack runs as the CLI starts it (conftest.pack_server); every request below is something a program,
a reviewer or an attacker could make the engine send.
"""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto

from guardrails.framework import MAX_FINDINGS, MAX_MESSAGE
from guardrails.registry import RULES_BY_NAME
from tests.policies.fixtures import (
    BUCKET_POLICY,
    COMPLIANT,
    IAM_POLICY,
    LOAD_BALANCER,
    REPOSITORY,
    REPOSITORY_POLICY,
    ROLE,
    SECURITY_GROUP,
    TASK_DEFINITION,
)
from tests.policies.harness import UNKNOWN, urn_for

pytestmark = pytest.mark.slow

MEGABYTE = "A" * (1 << 20)
PUBLIC = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
# A diagnostic is the rule's description, a newline and the finding.
LONGEST_DIAGNOSTIC = max(len(rule.info.description) for rule in RULES_BY_NAME.values()) + 1 + MAX_MESSAGE


def _struct(props: dict) -> struct_pb2.Struct:
    return json_format.ParseDict(props, struct_pb2.Struct())


def _analyze(stub, resource_type: str, props: dict, name: str = "hostile"):
    request = proto.AnalyzeRequest(type=resource_type, properties=_struct(props), urn=urn_for(resource_type, name))
    request.name = name
    return stub.Analyze(request)


def _deep_condition_document(depth: int) -> str:
    """A public statement whose Condition nests `depth` operator/key levels, written without json's recursion."""
    condition = '{"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}'
    for _ in range(depth):
        condition = '{"ForAnyValue:StringLike": {"aws:PrincipalTag/x": ' + condition + "}}"
    statement = json.dumps(PUBLIC)[:-1] + ', "Condition": ' + condition + "}"
    return '{"Version": "2012-10-17", "Statement": [' + statement + "]}"


def _document(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def _requests():
    for resource_type, fixture in COMPLIANT.items():
        yield f"{resource_type} every value a megabyte", resource_type, dict.fromkeys(fixture, MEGABYTE)
        yield f"{resource_type} every value unknown", resource_type, dict.fromkeys(fixture, UNKNOWN)
        yield f"{resource_type} every value not a number", resource_type, dict.fromkeys(fixture, math.nan)
    for resource_type, key in ((REPOSITORY_POLICY, "policy"), (IAM_POLICY, "policy"), (BUCKET_POLICY, "policy")):
        base = COMPLIANT[resource_type]
        for depth in (250, 500):
            yield (
                f"{resource_type} condition {depth} deep",
                resource_type,
                base | {key: _deep_condition_document(depth)},
            )
        yield f"{resource_type} JSON 100000 deep", resource_type, base | {key: _deep_json(100_000)}
        yield f"{resource_type} 5000 public statements", resource_type, base | {key: _document([PUBLIC] * 5000)}
        yield (
            f"{resource_type} a megabyte action",
            resource_type,
            base | {key: _document([PUBLIC | {"Action": MEGABYTE, "Sid": MEGABYTE}])},
        )
    yield (
        "role with 1000 inline policies",
        ROLE,
        COMPLIANT[ROLE]
        | {"inlinePolicies": [{"name": f"p{index}", "policy": _document([PUBLIC])} for index in range(1000)]},
    )
    yield (
        "security group with 5000 world-open rules",
        SECURITY_GROUP,
        {
            "ingress": [
                {"protocol": "tcp", "fromPort": port, "toPort": port, "cidrBlocks": ["0.0.0.0/0"]}
                for port in range(1000, 6000)
            ]
        },
    )
    yield (
        "ports of infinity",
        SECURITY_GROUP,
        {"ingress": [{"protocol": "tcp", "fromPort": -math.inf, "toPort": math.inf, "cidrBlocks": ["0.0.0.0/0"]}]},
    )
    yield (
        "container definitions 100000 deep",
        TASK_DEFINITION,
        COMPLIANT[TASK_DEFINITION] | {"containerDefinitions": _deep_json(100_000)},
    )
    yield (
        "a megabyte of containers",
        TASK_DEFINITION,
        COMPLIANT[TASK_DEFINITION]
        | {"containerDefinitions": json.dumps([{"name": MEGABYTE, "image": MEGABYTE, "user": "0"}] * 3)},
    )
    nested: object = "x"
    for _ in range(400):
        nested = {"a": nested}
    yield "properties 400 objects deep", LOAD_BALANCER, COMPLIANT[LOAD_BALANCER] | {"accessLogs": nested}
    yield "an unknown type", "", {"": MEGABYTE}


def _assert_bounded(response, what: str) -> None:
    per_cause = Counter(
        (diagnostic.policyName, diagnostic.urn, diagnostic.message) for diagnostic in response.diagnostics
    )
    repeated = [cause for cause, count in per_cause.items() if count > 1]
    assert not repeated, f"{what}: repeated findings {repeated[:1]}"
    per_rule = Counter((diagnostic.policyName, diagnostic.urn) for diagnostic in response.diagnostics)
    assert max(per_rule.values(), default=0) <= MAX_FINDINGS + 1, f"{what}: {per_rule.most_common(1)}"
    for diagnostic in response.diagnostics:
        assert len(diagnostic.message) <= LONGEST_DIAGNOSTIC, f"{what}: {len(diagnostic.message)} characters"


def test_hostile_resources_get_bounded_answers_and_never_a_grpc_error(pack_server) -> None:
    stub, _ = pack_server
    answered = 0
    for what, resource_type, props in _requests():
        response = _analyze(stub, resource_type, props)
        _assert_bounded(response, what)
        answered += 1
    assert answered > 3 * len(COMPLIANT)


def test_hostile_documents_are_findings_not_passes(pack_server) -> None:
    stub, _ = pack_server
    for depth in (250, 500):
        props = COMPLIANT[REPOSITORY_POLICY] | {"policy": _deep_condition_document(depth)}
        fired = {diagnostic.policyName for diagnostic in _analyze(stub, REPOSITORY_POLICY, props).diagnostics}
        assert fired == {"aws-ecr-repository-policy-not-public"}, depth
    deep = _analyze(stub, REPOSITORY_POLICY, COMPLIANT[REPOSITORY_POLICY] | {"policy": _deep_json(100_000)})
    assert {diagnostic.policyName for diagnostic in deep.diagnostics} == {"aws-ecr-repository-policy-not-public"}
    many = _analyze(stub, REPOSITORY_POLICY, COMPLIANT[REPOSITORY_POLICY] | {"policy": _document([PUBLIC] * 5000)})
    messages = [diagnostic.message for diagnostic in many.diagnostics]
    assert len(messages) == MAX_FINDINGS + 1 and "more finding" in messages[-1]


def test_hostile_stack_gets_a_bounded_answer(pack_server) -> None:
    stub, _ = pack_server
    count = 2000
    urns = [urn_for(REPOSITORY, f"r{index}") for index in range(count)]
    resources = [
        proto.AnalyzerResource(
            type=REPOSITORY,
            properties=_struct({"name": f"r{index}" * 50}),
            urn=urns[index],
            name=f"r{index}",
            # Every resource depends on the next one and the last on the first: one long cycle.
            dependencies=[urns[(index + 1) % count]],
            parent=urns[(index + 7) % count],
        )
        for index in range(count)
    ]
    response = stub.AnalyzeStack(proto.AnalyzeStackRequest(resources=resources))
    _assert_bounded(response, "2000 repositories in a dependency cycle")
    assert {diagnostic.policyName for diagnostic in response.diagnostics} == {
        "aws-ecr-repository-scan-on-push",
        "aws-ecr-repository-lifecycle-policy",
    }


def test_configuration_of_the_wrong_shape_is_a_finding_not_an_error(pack_server) -> None:
    stub, _ = pack_server
    request = proto.ConfigureAnalyzerRequest()
    for name, properties in {
        "aws-ec2-security-group-no-world-ingress": {"allowedPorts": MEGABYTE, "exemptions": [1, {}, None]},
        "aws-iam-role-trust-restricted": {"trustedServices": 5},
    }.items():
        request.policyConfig[name].CopyFrom(
            proto.PolicyConfig(enforcementLevel=proto.ADVISORY, properties=_struct(properties))
        )
    stub.Configure(request)
    try:
        response = _analyze(stub, SECURITY_GROUP, COMPLIANT[SECURITY_GROUP])
        _assert_bounded(response, "bad configuration")
        messages = [
            d.message for d in response.diagnostics if d.policyName == "aws-ec2-security-group-no-world-ingress"
        ]
        assert any("config option 'allowedPorts'" in message for message in messages)
    finally:
        stub.Configure(proto.ConfigureAnalyzerRequest())
