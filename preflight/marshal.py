"""Recorded resources as the engine marshals them for an analyzer: properties (secrets and unknowns kept,
resource references as ids or URNs), AnalyzeStack state, and resource options."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2

from preflight.model import RecordedResource
from preflight.recorder import resource_reference_value


def _marshal(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_resource_sig:
            return _marshal(resource_reference_value(value))
        return {key: _marshal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_marshal(item) for item in value]
    return value


def for_analyzer(properties: struct_pb2.Struct) -> struct_pb2.Struct:
    """Properties as the engine marshals them for an analyzer: secrets and unknowns kept, resource
    references replaced by the referenced resource's id (custom) or URN (component).

    pulumi/pulumi pkg/resource/plugin/analyzer_plugin.go marshals with KeepUnknowns and KeepSecrets but
    not KeepResources, and pkg/resource/plugin/rpc.go `MarshalPropertyValue` then writes a reference as
    its ID when it has one, else its URN. pulumi-policy's deserializer does not know the reference
    signature ("Unrecognized signature ... when unmarshaling resource property"), so sending the SDK's
    Struct as recorded would crash the pack.
    """
    marshalled = struct_pb2.Struct()
    marshalled.update(_marshal(json_format.MessageToDict(properties)))
    return marshalled


def stack_properties(resource: RecordedResource) -> struct_pb2.Struct:
    """A resource's state for AnalyzeStack: its inputs as marshalled (secret and unknown where they
    were), the outputs the provider added, and `additionalSecretOutputs` marked secret as the engine
    marks them."""
    inputs = json_format.MessageToDict(resource.inputs_struct)
    state = {key: value for key, value in resource.outputs.items() if key not in inputs}
    state.update(inputs)
    for key in resource.options.get("additionalSecretOutputs", ()):
        value = state.get(key)
        if key in state and not (
            isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig
        ):
            state[key] = {rpc._special_sig_key: rpc._special_secret_sig, "value": value}
    properties = struct_pb2.Struct()
    properties.update(_marshal(state))
    return properties


def go_duration_seconds(duration: str) -> float:
    """A Go duration ("5m", "1h30m", "90s") in seconds, as the engine converts custom timeouts."""
    total, number = 0.0, ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    for char in duration.strip():
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
        else:
            return 0.0
    return total + (float(number) if number else 0.0)


def resource_options(resource: RecordedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    options = resource.options
    timeouts = options.get("customTimeouts") or {}
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(options.get("protect", False)),
        ignoreChanges=list(options.get("ignoreChanges", ())),
        deleteBeforeReplace=bool(options.get("deleteBeforeReplace", False)),
        deleteBeforeReplaceDefined="deleteBeforeReplace" in options,
        additionalSecretOutputs=list(options.get("additionalSecretOutputs", ())),
        aliases=list(options.get("aliases", ())),
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            **{key: go_duration_seconds(value) for key, value in timeouts.items()}
        )
        if timeouts
        else None,
        parent=resource.parent,
    )
