"""Each pulumi-policy internal the pack relies on (guardrails/sdk.py), checked against the installed library."""

from __future__ import annotations

import inspect

import pulumi_policy.policy as policy_module
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    Severity,
    StackValidationPolicy,
)
from pulumi_policy import proxy as proxy_module

from guardrails import sdk
from tests.policies.harness import options, urn_for


def _servicer(*policies) -> sdk.LibraryServicer:
    return sdk.LibraryServicer("pack", "1.0.0", list(policies), EnforcementLevel.ADVISORY)


def _request(props: dict) -> proto.AnalyzeRequest:
    return proto.AnalyzeRequest(
        type="t:m:T", properties=json_format.ParseDict(props, struct_pb2.Struct()), urn=urn_for("t:m:T", "n"), name="n"
    )


# 1. proxy.py: sentinels and UnknownValueError ----------------------------------------------------------


def test_the_sentinels_are_exactly_what_the_proxy_treats_as_unknown() -> None:
    for sentinel in sdk.UNKNOWN_SENTINELS:
        assert proxy_module._is_unknown(sentinel)
    constants = {value for name, value in vars(proxy_module).items() if name.startswith("UNKNOWN_")}
    assert constants == sdk.UNKNOWN_SENTINELS


def test_the_proxy_raises_unknown_value_error_with_sentinel_and_path() -> None:
    proxied = sdk.unknown_checking_proxy({"a": [{"b": sdk.UNKNOWN_STRING_VALUE}]})
    with pytest.raises(sdk.UnknownValueError) as raised:
        proxied["a"][0]["b"]
    assert raised.value.unknown_type_sentinel == sdk.UNKNOWN_STRING_VALUE
    assert raised.value.props == ["a", "0", "b"]
    assert isinstance(raised.value.message, str)


def test_the_servicer_prints_our_cannot_judge_message_at_advisory_level() -> None:
    def validate(args, report) -> None:
        raise sdk.cannot_judge_error("cannot judge yet: x unknown during preview", ["x"])

    policy = ResourceValidationPolicy("p", "P.", validate, enforcement_level=EnforcementLevel.MANDATORY)
    [diagnostic] = _servicer(policy).Analyze(_request({}), None).diagnostics
    assert diagnostic.enforcementLevel == proto.ADVISORY
    assert diagnostic.message == (
        "can't run policy 'p' from policy pack 'pack@v1.0.0' during preview: cannot judge yet: x unknown during preview"
    )


# 2. _NotApplicableError ----------------------------------------------------------------------------------


def test_not_applicable_is_what_args_raise_and_the_servicer_reports() -> None:
    args = ResourceValidationArgs("t", {}, "urn", "n", options(), None, None)
    with pytest.raises(sdk.NotApplicable) as raised:
        args.not_applicable("because")
    assert raised.value.reason == "because"

    def validate(args, report) -> None:
        raise sdk.NotApplicable("exempt")

    response = _servicer(ResourceValidationPolicy("p", "P.", validate)).Analyze(_request({}), None)
    assert [(entry.policy_name, entry.reason) for entry in response.not_applicable] == [("p", "exempt")]


# 3. Policy.__init__ with keyword metadata ----------------------------------------------------------------


def test_policy_init_takes_our_metadata_keywords() -> None:
    class Both(ResourceValidationPolicy, StackValidationPolicy):
        pass

    policy = Both.__new__(Both)
    sdk.init_policy(
        policy,
        name="p",
        description="P.",
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(properties={}),
        severity=Severity.HIGH,
        tags=["t"],
        remediation_steps="Fix it.",
    )
    assert (policy.name, policy.severity, policy.tags, policy.remediation_steps) == (
        "p",
        Severity.HIGH,
        ["t"],
        "Fix it.",
    )


def test_subclass_init_passes_arguments_positionally_so_both_cannot_run() -> None:
    # Why init_policy exists: ResourceValidationPolicy.__init__ calls super().__init__ positionally, which on
    # a class that is also a StackValidationPolicy lands in StackValidationPolicy.__init__ with shifted
    # arguments.
    source = inspect.getsource(ResourceValidationPolicy.__init__)
    assert "super().__init__(name, description, enforcement_level" in source


# 4. deserialize_properties -------------------------------------------------------------------------------


def test_engine_properties_keep_sentinels_and_unwrap_secrets() -> None:
    # Analyze calls deserialize_properties without proxy_secrets: a secret arrives as its plain value.
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "hunter2"}
    props = {"a": sdk.UNKNOWN_STRING_VALUE, "n": 1.0, "s": secret, "l": [True]}
    converted = sdk.engine_properties(json_format.ParseDict(props, struct_pb2.Struct()))
    assert converted["a"] == sdk.UNKNOWN_STRING_VALUE
    assert converted["l"] == [True] and converted["n"] == 1.0
    assert converted["s"] == "hunter2" and not isinstance(converted["s"], Secret)


# 5. the servicer's helpers and PolicyPack's lookup ---------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "_configure_runtime_settings",
        "_get_enforcement_level",
        "_create_report_violation",
        "_get_policy_config",
        "_map_enforcement_level",
    ],
)
def test_the_servicer_helpers_pack_servicer_calls_exist(name: str) -> None:
    assert callable(getattr(sdk.LibraryServicer, name))


def test_the_servicer_keeps_the_pack_name_and_version_where_pack_servicer_reads_them() -> None:
    servicer = _servicer(ResourceValidationPolicy("p", "P.", lambda args, report: None))
    assert servicer._PolicyAnalyzerServicer__policy_pack_name == "pack"
    assert servicer._PolicyAnalyzerServicer__policy_pack_version == "1.0.0"


def test_report_violation_helper_signature() -> None:
    parameters = list(inspect.signature(sdk.LibraryServicer._create_report_violation).parameters)
    assert parameters == ["self", "response", "policy_name", "policy_description", "enforcement_level", "severity"]


def test_policy_pack_builds_its_servicer_by_the_module_level_name(monkeypatch) -> None:
    built = []

    class Stop(Exception):
        pass

    def fake_servicer(*args, **kwargs):
        built.append(args)
        raise Stop

    monkeypatch.setattr(policy_module, "_PolicyAnalyzerServicer", fake_servicer)
    with pytest.raises(Stop):
        policy_module.PolicyPack("pack", [ResourceValidationPolicy("p", "P.", lambda args, report: None)])
    assert built and built[0][0] == "pack"


def test_serve_restores_the_library_servicer_afterwards(monkeypatch) -> None:
    class Stop(Exception):
        pass

    def stop(self, *args, **kwargs):
        raise Stop

    monkeypatch.setattr(sdk.PackServicer, "__init__", stop)
    with pytest.raises(Stop):
        policy = ResourceValidationPolicy("p", "P.", lambda args, report: None)
        sdk.serve("pack", [policy], EnforcementLevel.ADVISORY, convert=lambda value: value)
    assert policy_module._PolicyAnalyzerServicer is sdk.LibraryServicer


def test_json_format_refuses_nan_so_engine_properties_reads_the_struct_itself() -> None:
    struct = struct_pb2.Struct()
    struct.update({"port": float("nan"), "nested": {"limit": float("inf")}, "list": [1.0, None, "x"]})
    with pytest.raises(ValueError, match=r"NaN|Infinity"):
        json_format.MessageToDict(struct)
    converted = sdk.engine_properties(struct)
    assert converted["port"] != converted["port"]  # NaN
    assert converted["nested"] == {"limit": float("inf")} and converted["list"] == [1.0, None, "x"]
