"""Pulumi's project config types (`string`, `integer`, `boolean`, `array`) as the CLI checks and passes them.

Shared by preflight's stack loader (values as YAML parsed them) and a program's settings (values as the
strings the CLI hands to the program), so both agree on one rule per type. A leaf: the standard library
only, so a program can import it without pulling in the rest of preflight.

The rules are the CLI's: `ValidateConfigValue` in pulumi's sdk/go/common/workspace/project.go reads a stack
file's scalars as strings, so `integer` takes `512` and `"512"`, `boolean` takes `true` and `"true"`,
`string` takes any scalar and `array` needs a list whose items match `items`. The program then receives
every value as a string: scalars as Go's `%v` prints them, lists and maps as JSON (PULUMI_CONFIG).
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Mapping
from typing import Any

import yaml

TYPES = ("string", "integer", "boolean", "array")
SECRET_PLACEHOLDER = "preflight-secret-placeholder"
"""What preflight hands the program for a `secure:` value: it has no key to decrypt it, and the plan must not
hold it. A program's settings check accepts it unjudged, as it cannot know the real value."""
EXPECTED = {"string": "a string", "integer": "an integer", "boolean": "true or false", "array": "a list"}


class ConfigTypeError(ValueError):
    """A value is not of its declared type; the message says what was expected."""


def type_name(kind: str, items: Mapping[str, Any] | None = None) -> str:
    """`array<string>` style names, as the CLI prints them."""
    if kind == "array" and isinstance(items, Mapping):
        return f"array<{type_name(str(items.get('type')), items.get('items'))}>"
    return kind


def expected(kind: str, items: Mapping[str, Any] | None = None) -> str:
    """What a value of this type looks like, for messages: `a list of strings`."""
    if kind == "array" and isinstance(items, Mapping):
        inner = EXPECTED.get(str(items.get("type")), "values")
        return "a list of " + {"a string": "strings", "an integer": "integers", "true or false": "booleans"}.get(
            inner, "lists"
        )
    return EXPECTED.get(kind, kind)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _integer_text(text: str) -> int | None:
    # Go's strconv.Atoi: an optional sign and ASCII digits, no spaces, no underscores.
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    return int(text, 10)


def type_matches(kind: str, items: Mapping[str, Any] | None, value: Any) -> bool:
    """Whether `value` (as YAML parsed it) passes the CLI's check for a key declared `kind`."""
    if kind == "string":
        return _is_scalar(value)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, str) and _integer_text(value) is not None
    if kind == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if kind == "array":
        if not isinstance(value, list) or not isinstance(items, Mapping):
            return False
        return all(type_matches(str(items.get("type")), items.get("items"), item) for item in value)
    return False


def to_cli_string(value: Any) -> str:
    """A YAML value as the string the program receives."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def from_cli_string(kind: str, items: Mapping[str, Any] | None, text: str) -> Any:
    """The string a program receives for a key declared `kind`, as a typed value; ConfigTypeError if not."""
    try:
        if kind == "integer":
            value = _integer_text(text)
            if value is None:
                raise ValueError(text)
            return value
        if kind == "boolean":
            if text not in ("true", "false"):
                raise ValueError(text)
            return text == "true"
        if kind == "array":
            value = json.loads(text)
            if not type_matches("array", items, value):
                raise ValueError(text)
            return value
    except ValueError:
        raise ConfigTypeError(f"expected {expected(kind, items)}") from None
    return text


# --- reading Pulumi.yaml and Pulumi.<stack>.yaml -----------------------------------------------------------
#
# The CLI reads both files with gopkg.in/yaml.v2 (sdk/go/common/encoding/marshal.go) and turns each config value
# into a string or a JSON object (sdk/go/common/resource/config/value.go, object.go). YAML 1.1 and YAML 1.2
# readers disagree on some plain scalars: `on`, `yes`, `n` are booleans to the first and text to the second,
# `017` is 15 or 17. A stack file must mean one thing to every reader, so such values are refused with the
# advice to write true/false or quote them. A mapping key given twice is refused too (yaml.v3 refuses it,
# yaml.v2 silently keeps the last). The config also travels to the program in one environment variable
# (PULUMI_CONFIG), which Linux caps at 128 KiB: sizes, nesting and alias expansion are bounded before anything
# is built, so no file can exhaust memory, recursion or the environment.

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_NODES = 20_000
MAX_VALUE_CHARS = 16 * 1024
MAX_CONFIG_CHARS = 64 * 1024

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_CORE_RESOLVERS = (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
)


class _CoreLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 core tag resolution and duplicate keys recorded."""

    yaml_implicit_resolvers: dict = {}  # noqa: RUF012 (PyYAML's class-level registry, replaced per class)

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                self.duplicates.append(f"{key} (line {key_node.start_mark.line + 1})")
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text, 10)


for _tag, _pattern, _first in _CORE_RESOLVERS:
    _CoreLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
_CoreLoader.add_constructor("tag:yaml.org,2002:int", _CoreLoader.construct_yaml_int)
_YAML_1_1 = yaml.resolver.Resolver()


class YamlError(ValueError):
    """A config file the CLI would read differently, or that is too large, deep or self-referential."""


def read_yaml(text: str, name: str) -> tuple[Any, list[str]]:
    """Parse a Pulumi project or stack file; returns the document and the problems found in it (ambiguous
    scalars, duplicate keys). Raises YamlError for what cannot be read safely at all."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise YamlError(f"{name}: {size} bytes; a config file may have at most {MAX_FILE_BYTES}")
    _check_shape(text, name)
    loader = _CoreLoader(text)
    try:
        node = loader.get_single_node()
        problems = [f"{where}: {reason}" for where, reason in _ambiguities(node)]
        document = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        raise YamlError(f"{name}: not valid YAML: {' '.join(str(error).split())}") from None
    finally:
        loader.dispose()
    problems.extend(f"key {duplicate} is given twice; keep one" for duplicate in loader.duplicates)
    return document, problems


def _check_shape(text: str, name: str) -> None:
    """Depth and expanded size from the event stream, which PyYAML produces without recursion."""
    depth = 0
    sizes: list[int] = [0]
    anchors: dict[str, int] = {}
    open_anchors: list[str | None] = []
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlError(f"{name}: nested more than {MAX_DEPTH} levels deep")
                sizes.append(1)
                open_anchors.append(event.anchor)
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                anchor = open_anchors.pop()
                size = sizes.pop()
                sizes[-1] += size
                added = size
            elif isinstance(event, yaml.ScalarEvent):
                anchor = event.anchor
                sizes[-1] += 1
                added = 1
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor in open_anchors:
                    raise YamlError(f"{name}: the alias *{event.anchor} refers to the value that contains it")
                anchor = None
                added = anchors.get(event.anchor, 1)
                sizes[-1] += added
            else:
                continue
            if anchor:
                anchors[anchor] = added
            if sum(sizes) > MAX_NODES:
                raise YamlError(f"{name}: expands to more than {MAX_NODES} values (aliases included)")
    except yaml.YAMLError as error:
        raise YamlError(f"{name}: not valid YAML: {' '.join(str(error).split())}") from None


def _ambiguities(root: yaml.Node | None) -> list[tuple[str, str]]:
    """Plain scalars that YAML 1.1 (yaml.v2) and YAML 1.2 read as different values."""
    found: list[tuple[int, str, str]] = []
    stack: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    seen: set[int] = set()
    while stack:
        node, key = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.style is None and _readings_differ(node):
                line = node.start_mark.line + 1
                found.append((line, f"{key} (line {line})" if key else f"line {line}", _advice(node.value)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, key) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key_node, value in node.value:
                stack.extend(((key_node, key), (value, str(key_node.value))))
    return [(where, reason) for _, where, reason in sorted(found)]


def _readings_differ(node: yaml.ScalarNode) -> bool:
    # yaml.v2 also reads y and n as booleans (its resolve.go), which PyYAML's YAML 1.1 resolver does not.
    if node.value in ("y", "Y", "n", "N") or node.tag != _YAML_1_1.resolve(yaml.ScalarNode, node.value, (True, False)):
        return True
    # Both read an integer, but YAML 1.1 reads a leading zero as octal.
    body = node.value.lstrip("+-")
    return node.tag == "tag:yaml.org,2002:int" and len(body) > 1 and body.startswith("0") and body.isdigit()


def _advice(text: str) -> str:
    shown = text if len(text) <= 40 else text[:37] + "..."
    return (
        f"`{shown}` reads differently in YAML 1.1 and YAML 1.2; write true/false or a plain decimal number, "
        f'or quote it ("{shown}") if you mean the text'
    )
