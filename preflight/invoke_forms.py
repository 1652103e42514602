"""A data source asked two ways, and what each gets when preflight cannot answer it.

Generated SDKs call a data source either plainly (`aws.rds.get_engine_version(...)`, through
`pulumi.runtime.invoke`) or in output form (`get_engine_version_output(...)`). The monitor sees only the
request, so `marking_plain_invokes` flags the plain calls while they run and `unknown_result` answers each
form as the engine would in a preview.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime.proto import resource_pb2

_PLAIN_INVOKE = contextvars.ContextVar("preflight_plain_invoke", default=False)
"""True inside a plain `pulumi.runtime.invoke` (`aws.rds.get_engine_version`), False in an output-form
invoke (`get_engine_version_output`). The SDK runs the monitor call in a copy of the calling task's
context (pulumi/runtime/_context.py `wrap_with_context`), so the monitor sees which form asked."""


@contextlib.contextmanager
def marking_plain_invokes() -> Iterator[None]:
    """Wrap the plain invoke functions generated SDKs call (`pulumi.runtime.invoke(...)`) so that
    `_PLAIN_INVOKE` is set while they run."""
    originals = {name: getattr(pulumi.runtime, name) for name in ("invoke", "invoke_single")}

    def marked(function: Any) -> Any:
        def plain_invoke(*args: Any, **kwargs: Any) -> Any:
            token = _PLAIN_INVOKE.set(True)
            try:
                return function(*args, **kwargs)
            finally:
                _PLAIN_INVOKE.reset(token)

        return plain_invoke

    for name, function in originals.items():
        setattr(pulumi.runtime, name, marked(function))
    try:
        yield
    finally:
        for name, function in originals.items():
            setattr(pulumi.runtime, name, function)


def unknown_result(token: str, *, plain: bool) -> resource_pb2.ResourceInvokeResponse:
    """The answer to a data source preflight cannot answer, so that the program carries on.

    The output form gets the response's "wholly unknown" flag, as the engine answers an invoke it cannot
    resolve during a preview: the Output is unknown and so is everything built from it. The plain form has
    no unknown value to return (the generated result class type-checks every field, and the SDK fails on
    a missing result), so it gets an empty result: every field None, which a property receives as unset.
    """
    if plain:
        return resource_pb2.ResourceInvokeResponse(**{"return": struct_pb2.Struct()})
    return resource_pb2.ResourceInvokeResponse(unknown=True)


def in_plain_invoke() -> bool:
    """Whether the invoke being answered was called in the plain form."""
    return _PLAIN_INVOKE.get()
