"""What a provider's own generated Python SDK says about a type token: the outputs of a resource and the
fields of a data source's result, with their declared types.

The SDK is the source, not a hand list: every generated resource module registers itself with
`pulumi.runtime.register_resource_module` (pulumi_aws/_utilities.py `register`, fed by the JSON in
pulumi_aws/__init__.py), so `aws:rds/instance:Instance` leads to `pulumi_aws.rds.Instance`. Each output
is a property decorated with `pulumi.getter` (pulumi/_types.py keeps the engine's name on the getter as
`_pulumi_name`) and annotated `pulumi.Output[<type>]`. Outputs the `*Args` class does not declare are the
ones only the provider computes (`_internal_init` sets them to None). A data source `aws:ec2/getAmi:getAmi`
lives in the same Python package as the module's resources, as `GetAmiResult`.
"""

from __future__ import annotations

import collections.abc
import functools
import importlib
import inspect
import re
import sys
import typing
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import rpc

_GETTER_NAME = "_pulumi_name"  # pulumi/_types.py: the attribute `pulumi.getter` sets


@dataclass(frozen=True)
class Field:
    """One output (engine name), its annotation as written in the SDK, and the module that resolves it."""

    name: str
    annotation: Any
    module: str


def _modules_of(package: str) -> list[tuple[str, dict[str, Any]]]:
    """(module token, mod_info) for every registered resource module of a package (`aws`)."""
    found = []
    for key, modules in list(rpc._RESOURCE_MODULES.items()):
        pkg, _, mod = key.partition(":")
        if pkg != package:
            continue
        for module in modules:
            info = getattr(module, "mod_info", None)
            if isinstance(info, dict) and "fqn" in info:
                found.append((mod, info))
    return found


def _import(fqn: str) -> Any:
    try:
        return importlib.import_module(fqn)
    except ImportError:
        return None


@functools.cache
def resource_class(token: str) -> type | None:
    """The SDK class registered for a resource type token, or None when no loaded SDK declares it."""
    package, _, rest = token.partition(":")
    mod = rest.rsplit(":", 1)[0]
    for module_token, info in _modules_of(package):
        if module_token == mod:
            class_name = info.get("classes", {}).get(token)
            module = _import(info["fqn"]) if class_name else None
            if module is not None:
                return getattr(module, class_name, None)
    return None


@functools.cache
def function_result_class(token: str) -> type | None:
    """The `Get...Result` class of a data source token (`aws:ec2/getAmi:getAmi`), or None."""
    package, _, rest = token.partition(":")
    if rest.count(":") != 1:
        return None
    mod, function = rest.split(":")
    directory = mod.split("/", 1)[0]
    result_name = function[:1].upper() + function[1:] + "Result"
    roots = set()
    for module_token, info in _modules_of(package):
        root = info["fqn"].split(".", 1)[0]
        roots.add(root)
        if directory != "index" and module_token.split("/", 1)[0] == directory:
            module = _import(info["fqn"])
            if module is not None and hasattr(module, result_name):
                return getattr(module, result_name)
    if directory == "index":
        for root in sorted(roots):
            module = _import(root)
            if module is not None and hasattr(module, result_name):
                return getattr(module, result_name)
    return None


def _getter_fields(cls: type, *, python_names: bool = False) -> dict[str, Field]:
    """Engine name (or Python name) -> Field for every `pulumi.getter` property of a class."""
    fields: dict[str, Field] = {}
    for klass in reversed(cls.__mro__):
        for member in vars(klass).values():
            getter = member.fget if isinstance(member, property) else None
            name = getattr(getter, _GETTER_NAME, None)
            if name is None:
                continue
            annotation = inspect.get_annotations(getter).get("return", "")
            fields[getter.__name__ if python_names else name] = Field(name, annotation, klass.__module__)
    return fields


@functools.cache
def computed_outputs(token: str) -> tuple[Field, ...]:
    """The outputs of a resource type that only its provider computes (not among its `*Args`)."""
    cls = resource_class(token)
    if cls is None:
        return ()
    module = sys.modules.get(cls.__module__)
    args = getattr(module, f"{cls.__name__}Args", None)
    inputs = set(_getter_fields(args)) if isinstance(args, type) else set()
    return tuple(field for name, field in _getter_fields(cls).items() if name not in inputs and name != "id")


@functools.cache
def result_fields(token: str) -> tuple[Field, ...] | None:
    """The fields of a data source's result the provider computes (not the arguments, which it echoes),
    or None when no loaded SDK declares the data source."""
    cls = function_result_class(token)
    if cls is None:
        return None
    function_name = re.sub(r"(?<!^)(?=[A-Z])", "_", token.rsplit(":", 1)[-1]).lower()
    function = getattr(sys.modules.get(cls.__module__), function_name, None)
    arguments = set(inspect.signature(function).parameters) if callable(function) else set()
    return tuple(field for name, field in _getter_fields(cls, python_names=True).items() if name not in arguments)


# --- annotations -----------------------------------------------------------------------------
# Generated modules annotate getters with real types (`pulumi.Output[str]`,
# `pulumi.Output[Optional[Sequence['outputs.CertificateDomainValidationOption']]]`), so the annotation is
# read with `typing`; a forward reference or a string annotation is read from its text.

_SCALARS = {"str": "str", "int": "int", "float": "float", "bool": "bool"}


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if (origin is typing.Union and len(args) == 1) or (
            isinstance(origin, type) and issubclass(origin, pulumi.Output) and args
        ):
            annotation = args[0]
        else:
            return annotation


def _from_text(text: str) -> tuple[str, Any]:
    text = text.strip().strip("'\"")
    for prefix in ("pulumi.output.Output[", "pulumi.Output[", "Output[", "Optional[", "typing.Optional["):
        if text.startswith(prefix) and text.endswith("]"):
            return _from_text(text[len(prefix) : -1])
    for prefix in ("Sequence[", "List[", "list[", "typing.Sequence["):
        if text.startswith(prefix):
            return "list", text[len(prefix) : -1]
    for prefix in ("Mapping[", "Dict[", "dict[", "typing.Mapping["):
        if text.startswith(prefix):
            return "map", text[len(prefix) : -1].split(",", 1)[-1]
    scalar = text.rsplit(".", 1)[-1]
    if scalar in _SCALARS and "." not in text.replace("_builtins.", "").replace("builtins.", ""):
        return _SCALARS[scalar], None
    if text.startswith("outputs.") or (text.split(".")[-1][:1].isupper() and "." in text):
        return "object", text
    return "any", None


def shape(annotation: Any) -> tuple[str, Any]:
    """(kind, detail) of an SDK annotation: ("str"|"int"|"float"|"bool"|"any", None), ("list", element),
    ("map", value) or ("object", the output class or its dotted name)."""
    annotation = _unwrap(annotation)
    if isinstance(annotation, str):
        return _from_text(annotation)
    if isinstance(annotation, typing.ForwardRef):
        return _from_text(annotation.__forward_arg__)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, collections.abc.Sequence, tuple):
        return "list", args[0] if args else Any
    if origin in (dict, collections.abc.Mapping):
        return "map", args[-1] if args else Any
    if annotation in (str, int, float, bool):
        return annotation.__name__, None
    if isinstance(annotation, type) and annotation.__module__.startswith("pulumi_"):
        return "object", annotation
    return "any", None


def object_fields(detail: Any, module: str) -> tuple[Field, ...]:
    """The fields of a nested output type (a class, or `outputs.CertificateDomainValidationOption`)."""
    target: Any = detail
    if isinstance(detail, str):
        target = sys.modules.get(module)
        for part in detail.split("."):
            target = getattr(target, part, None)
            if target is None:
                return ()
    return tuple(_getter_fields(target).values()) if isinstance(target, type) else ()
