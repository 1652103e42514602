"""The pack's servicer converts each request once and skips rules of other types; its verdicts stay the library's.

Every fixture, with every top-level value unknown, removed or oddly shaped, under the prod config and
under levels and exemptions that exercise every branch, is sent to pulumi-policy's own servicer and to
sdk.PackServicer; the responses must be equal, message for message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel

from guardrails import PACK_NAME, sdk
from guardrails.registry import ALL_POLICIES
from guardrails.values import plain
from tests.policies.fixtures import COMPLIANT, LOAD_BALANCER, REPOSITORY, SECURITY_GROUP, SERVICE, TARGET_GROUP
from tests.policies.harness import DELETE, UNKNOWN, changed, urn_for

POLICIES_DIR = Path(__file__).resolve().parents[2] / "policies"
ODD = [UNKNOWN, DELETE, None, "", [], {}, "x", True]


def _struct(props: dict) -> struct_pb2.Struct:
    return json_format.ParseDict(props, struct_pb2.Struct())


def _config_request(config: dict) -> proto.ConfigureAnalyzerRequest:
    request = proto.ConfigureAnalyzerRequest()
    for name, entry in config.items():
        if name == "all":
            continue
        entry = {"enforcementLevel": entry} if isinstance(entry, str) else dict(entry)
        level = getattr(proto, entry.pop("enforcementLevel", "advisory").upper())
        request.policyConfig[name].CopyFrom(proto.PolicyConfig(enforcementLevel=level, properties=_struct(entry)))
    return request


CONFIGS = {
    "none": {},
    "prod": json.loads((POLICIES_DIR / "config" / "prod.json").read_text()),
    "levels-and-exemptions": {
        "aws-ecr-repository-scan-on-push": "remediate",
        "aws-ecr-repository-immutable-tags": "disabled",
        "aws-lb-access-logs": "remediate",
        "aws-ec2-security-group-no-world-ingress": {"enforcementLevel": "mandatory", "exemptions": ["*::odd-*"]},
        "aws-ec2-app-ingress-from-load-balancer-only": {"enforcementLevel": "mandatory", "appPorts": "not a list"},
    },
}


def _servicers(config: dict) -> tuple[sdk.LibraryServicer, sdk.PackServicer]:
    library = sdk.LibraryServicer(PACK_NAME, "0.0.1", list(ALL_POLICIES), EnforcementLevel.ADVISORY)
    pack = sdk.PackServicer(PACK_NAME, "0.0.1", list(ALL_POLICIES), EnforcementLevel.ADVISORY, convert=plain)
    for servicer in (library, pack):
        servicer.Configure(_config_request(config), None)
    return library, pack


def _variants() -> Iterator[tuple[str, str, dict]]:
    for resource_type, fixture in COMPLIANT.items():
        yield resource_type, "compliant", fixture
        for key in fixture:
            for index, odd in enumerate(ODD):
                yield resource_type, f"odd-{key}-{index}", changed(fixture, (key,), odd)
    yield "aws:s3/bucket:Bucket", "untyped", {"bucket": "b"}


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_analyze_answers_exactly_like_the_library(config_name: str) -> None:
    library, pack = _servicers(CONFIGS[config_name])
    compared = 0
    for resource_type, name, props in _variants():
        request = proto.AnalyzeRequest(
            type=resource_type, properties=_struct(props), urn=urn_for(resource_type, name), name=name
        )
        expected, actual = library.Analyze(request, None), pack.Analyze(request, None)
        assert actual == expected, f"{resource_type} {name}"
        compared += len(expected.diagnostics) + len(expected.not_applicable)
    assert compared > 100, "the variants should produce plenty of verdicts to compare"


def _stack_request(
    fixtures: dict[str, tuple[str, dict]], dependencies: dict[str, list[str]]
) -> proto.AnalyzeStackRequest:
    urns = {name: urn_for(resource_type, name) for name, (resource_type, _) in fixtures.items()}
    return proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
                type=resource_type,
                properties=_struct(props),
                urn=urns[name],
                name=name,
                parent=urns.get("alb", ""),
                dependencies=[urns[other] for other in dependencies.get(name, [])] + ["urn:not:in:the:stack"],
                propertyDependencies={
                    "securityGroups": proto.AnalyzerPropertyDependencies(
                        urns=[urns[other] for other in dependencies.get(name, [])]
                    )
                },
            )
            for name, (resource_type, props) in fixtures.items()
        ]
    )


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_analyze_stack_answers_exactly_like_the_library(config_name: str) -> None:
    library, pack = _servicers(CONFIGS[config_name])
    stacks = [
        {name: (resource_type, props) for name, (resource_type, props) in enumerate_fixtures()},
        {
            "repo": (REPOSITORY, changed(COMPLIANT[REPOSITORY], ("imageScanningConfiguration",), DELETE)),
            "alb": (LOAD_BALANCER, changed(COMPLIANT[LOAD_BALANCER], ("securityGroups",), UNKNOWN)),
            "sg": (SECURITY_GROUP, {"id": "sg-app", "ingress": [{"protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}]}),
            "svc": (SERVICE, COMPLIANT[SERVICE]),
            "tg": (TARGET_GROUP, COMPLIANT[TARGET_GROUP]),
        },
    ]
    compared = 0
    for fixtures in stacks:
        request = _stack_request(fixtures, {"alb": ["sg"], "svc": ["sg"]})
        expected, actual = library.AnalyzeStack(request, None), pack.AnalyzeStack(request, None)
        assert actual == expected
        compared += len(expected.diagnostics)
    assert compared, "the second stack has violations to compare"


def enumerate_fixtures() -> Iterator[tuple[str, tuple[str, dict]]]:
    for index, (resource_type, props) in enumerate(COMPLIANT.items()):
        yield f"r{index}", (resource_type, props)


def test_pack_servicer_refuses_policies_that_are_not_rules() -> None:
    from pulumi_policy import ResourceValidationPolicy

    stranger = ResourceValidationPolicy("stranger", "A policy from elsewhere.", lambda args, report: None)
    with pytest.raises(TypeError, match="stranger"):
        sdk.PackServicer(PACK_NAME, "0.0.1", [stranger], EnforcementLevel.ADVISORY)


def test_each_request_is_converted_once_and_only_when_some_rule_judges_its_type() -> None:
    calls: list[object] = []

    def counting(properties: object) -> object:
        calls.append(properties)
        return plain(properties)

    pack = sdk.PackServicer(PACK_NAME, "0.0.1", list(ALL_POLICIES), EnforcementLevel.ADVISORY, convert=counting)
    judged_by = [policy for policy in ALL_POLICIES if policy.judges(REPOSITORY)]
    assert len(judged_by) > 1
    pack.Analyze(proto.AnalyzeRequest(type=REPOSITORY, properties=_struct(COMPLIANT[REPOSITORY])), None)
    assert len(calls) == 1
    pack.Analyze(proto.AnalyzeRequest(type="aws:sqs/queue:Queue", properties=_struct({"name": "q"})), None)
    assert len(calls) == 1
    stack = _stack_request({name: spec for name, spec in enumerate_fixtures()}, {})
    pack.AnalyzeStack(stack, None)
    assert len(calls) == 1 + len(stack.resources)
