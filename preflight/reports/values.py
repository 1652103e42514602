"""Turn recorded inputs and outputs into plain JSON values, deliberately.

Inputs arrive two ways: the protobuf Struct the engine would receive (with the SDK's signature maps for
secrets, resource references, assets and output values, and the unknown sentinel string), and the
deserialized Python dict, which can hold Resources, Outputs, assets and bytes. Both end up as the same
JSON: secrets masked, unknowns marked, numbers that are whole written as integers (protobuf carries every
number as a double, so `80` arrives as `80.0`). The markers are documented in
docs/preflight-report-schema.md.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc

SECRET = "[secret]"
UNKNOWN = "[unknown]"
UNRESOLVED_OUTPUT = "[output]"

_SIG_KEY = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig
_RESOURCE_SIG = rpc._special_resource_sig
_ASSET_SIG = rpc._special_asset_sig
_ARCHIVE_SIG = rpc._special_archive_sig
_OUTPUT_SIG = rpc._special_output_value_sig
# JSON numbers beyond 2**53 lose precision in most readers; keep those as floats rather than lie.
_MAX_EXACT_INT = 2**53


def _number(value: float) -> int | float | str:
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value.is_integer() and abs(value) <= _MAX_EXACT_INT:
        return int(value)
    return value


# --- the engine's view: protobuf Struct / Value --------------------------------------------------


def struct_to_json(struct: struct_pb2.Struct) -> Any:
    """A Struct as the engine would see it, in JSON terms (a top-level signature map is honoured too)."""
    return _struct_fields_to_json(struct.fields)


def _struct_fields_to_json(fields: Mapping[str, struct_pb2.Value]) -> Any:
    if _SIG_KEY in fields:
        return _signature_to_json(fields)
    return {key: value_to_json(fields[key]) for key in sorted(fields)}


def _signature_to_json(fields: Mapping[str, struct_pb2.Value]) -> Any:
    signature = fields[_SIG_KEY].string_value
    if signature == _SECRET_SIG:
        return SECRET
    if signature == _RESOURCE_SIG:
        reference: dict[str, Any] = {"urn": fields["urn"].string_value if "urn" in fields else ""}
        if "id" in fields:
            identifier = value_to_json(fields["id"])
            reference["id"] = UNKNOWN if identifier == "" else identifier
        return {"resourceRef": reference}
    if signature == _OUTPUT_SIG:
        if "secret" in fields and fields["secret"].bool_value:
            return SECRET
        if "value" not in fields:
            return UNKNOWN
        return value_to_json(fields["value"])
    if signature == _ASSET_SIG:
        return {"asset": {key: value_to_json(fields[key]) for key in sorted(fields) if key != _SIG_KEY}}
    if signature == _ARCHIVE_SIG:
        return {"archive": {key: value_to_json(fields[key]) for key in sorted(fields) if key != _SIG_KEY}}
    return {"unrecognizedSignature": signature}


def value_to_json(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return UNKNOWN if value.string_value == rpc.UNKNOWN else value.string_value
    if kind == "number_value":
        return _number(value.number_value)
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [value_to_json(item) for item in value.list_value.values]
    if kind == "struct_value":
        return _struct_fields_to_json(value.struct_value.fields)
    return None


# --- the program's view: deserialized Python values ----------------------------------------------


def _asset_to_json(value: pulumi.Asset | pulumi.Archive) -> dict[str, Any]:
    kind = "asset" if isinstance(value, pulumi.Asset) else "archive"
    body: dict[str, Any] = {}
    for attribute in ("path", "text", "uri"):
        if isinstance(getattr(value, attribute, None), str):
            body[attribute] = getattr(value, attribute)
    if isinstance(value, pulumi.AssetArchive):
        body["assets"] = to_json(value.assets)
    return {kind: body}


def to_json(value: Any) -> Any:
    """Any value the recorder or the program produced, as JSON; what has no JSON form says what it was."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, str):
        return UNKNOWN if value == rpc.UNKNOWN else value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, struct_pb2.Struct):
        return struct_to_json(value)
    if isinstance(value, struct_pb2.Value):
        return value_to_json(value)
    if isinstance(value, Mapping):
        if rpc.is_rpc_secret(value):
            return SECRET
        return {str(key): to_json(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, set | frozenset):
        items = [to_json(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, bytes | bytearray):
        return {"bytesBase64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return _asset_to_json(value)
    if isinstance(value, pulumi.Output):
        # An Output cannot be awaited from a report; saying so beats blocking or guessing.
        return UNRESOLVED_OUTPUT
    if isinstance(value, pulumi.Resource):
        return {"resourceRef": {"class": type(value).__qualname__}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json({field.name: getattr(value, field.name) for field in dataclasses.fields(value)})
    return f"[{type(value).__qualname__}]"


def resource_inputs(inputs_struct: struct_pb2.Struct, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The engine's Struct when the recorder kept one (the truth), the deserialized dict otherwise."""
    converted = struct_to_json(inputs_struct) if inputs_struct.fields else to_json(dict(inputs))
    if not isinstance(converted, dict):
        # A whole-object secret or reference: keep the shape (a map of inputs) and say what it was.
        return {"$value": converted}
    return converted


def display_value(value: Any) -> str:
    """A value the way `pulumi preview` lists a stack output: strings quoted, secrets and unknowns marked."""
    converted = to_json(value)
    if converted == SECRET:
        return SECRET
    if converted == UNKNOWN:
        return "output<unknown>"
    return json.dumps(converted, sort_keys=True, ensure_ascii=False)
