"""Warm caches for `preflight --watch`: what a preview looked up once per class or type token, made again in
the parent so every later fork inherits the answers.

The forked child wraps the cached lookups (`recording_lookups`), names those it made in library modules
(`lookup_refs`), and the parent makes them (`make_lookups`). A lookup that cannot be made in the parent is
skipped: the child answers it as before, so warming changes how fast a preview is, never what it finds.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

# Lookups a preview makes once per class or type token and keeps (functools.cache'd): the SDK's property types
# of each class (pulumi/_types.py; they resolve type hints, a fifth of a warm preview's time) and preflight's
# own per-token answers for placeholders. A fork inherits what the parent computed, so the child names the
# lookups it made and the parent makes them once.
CACHED_LOOKUPS = {
    "pulumi._types": ("_py_properties", "_raw_return_hints", "_required_property_names", "_types_from_py_properties"),
    "preflight.sdk_types": ("computed_outputs", "result_fields"),
}
MARK = "--lookups--"


def recording_lookups() -> set[tuple[str, Any]]:
    """Record every (lookup, argument) made from now on in this process (the forked child's)."""
    seen: set[tuple[str, Any]] = set()
    for owner, names in CACHED_LOOKUPS.items():
        module = importlib.import_module(owner)
        for name in names:
            original = getattr(module, name)

            def recording(argument: Any, _where: str = f"{owner}.{name}", _original: Any = original) -> Any:
                seen.add((_where, argument))
                return _original(argument)

            setattr(module, name, recording)
    return seen


def lookup_refs(seen: set[tuple[str, Any]], library: set[str]) -> list[str]:
    """`<lookup> class <module> <qualname>` for classes of library modules (the parent imports only those),
    `<lookup> token <token>` for type tokens."""
    refs = set()
    for where, argument in seen:
        if isinstance(argument, type):
            if argument.__module__ in library and "<locals>" not in argument.__qualname__:
                refs.add(f"{where} class {argument.__module__} {argument.__qualname__}")
        elif isinstance(argument, str) and " " not in argument and "\n" not in argument:
            refs.add(f"{where} token {argument}")
    return sorted(refs)


def make_lookups(refs: list[str], failed: set[str]) -> None:
    """Make, in the parent, the cached lookups a preview made, so every later fork starts with their answers
    (a ref names what was importable and answered in the child); refs that cannot be made here go to `failed`
    and are not tried again."""
    for ref in refs:
        if ref in failed:
            continue
        where, kind, rest = [*ref.split(" ", 2), "", ""][:3]
        owner, _, name = where.rpartition(".")
        function = getattr(sys.modules.get(owner), name, None)
        argument: Any = rest
        if kind == "class":
            module_name, _, qualname = rest.partition(" ")
            argument = sys.modules.get(module_name)
            for part in qualname.split("."):
                argument = getattr(argument, part, None)
        known = name in CACHED_LOOKUPS.get(owner, ()) and kind in ("class", "token")
        if not known or function is None or (kind == "class" and not isinstance(argument, type)):
            failed.add(ref)  # not loaded here (the program's own environment), or renamed
            continue
        try:
            function(argument)
        except (NameError, TypeError, AttributeError, KeyError, ValueError):
            failed.add(ref)  # answerable only in the child's context; the child answers it
