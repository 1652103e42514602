"""Pulumi's project config types (`string`, `integer`, `boolean`, `array`) as the CLI checks and passes them.

Shared by preflight's stack loader and a program's settings (values as the strings the CLI hands to the
program), so both agree on one rule per type. A leaf: the standard library and PyYAML only, so a program can
import it without pulling in the rest of preflight.

The rules are the CLI's, `ValidateConfigValue` in pulumi's sdk/go/common/workspace/project.go: `string` takes a
Go string, `integer` an int, a whole float or a string `strconv.Atoi` reads, `boolean` a bool or the strings
`true`/`false`, `array` a list whose every item matches `items`. A stack file's top-level scalar reaches that
check as its text (config.Value unmarshals it as a string, sdk/go/common/resource/config/value.go), so
`integer` takes `512` and `"512"` but not `3.0`, and `boolean` takes `true` but not `True`. Lists and maps
are checked as yaml.v2 resolved them. The program then receives every value as a string: a stack scalar's
text, a Pulumi.yaml default as Go's `%v` prints it, lists and maps as Go's encoding/json writes them
(PULUMI_CONFIG).
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Mapping
from decimal import Decimal
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
    # Go's strconv.Atoi: an optional sign and ASCII digits, no spaces, no underscores, within int64.
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    value = int(text, 10)
    return value if -(2**63) <= value < 2**63 else None


def value_matches(kind: str, items: Mapping[str, Any] | None, value: Any) -> bool:
    """Go's `ValidateConfigValue` on a value as the CLI holds it: a stack scalar's text, or a Pulumi.yaml
    default, or a list as yaml.v2 resolved it (pulumi sdk/go/common/workspace/project.go)."""
    if kind == "string":
        return isinstance(value, str)
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
        return all(value_matches(str(items.get("type")), items.get("items"), item) for item in value)
    return False


def type_matches(kind: str, items: Mapping[str, Any] | None, value: Any) -> bool:
    """Whether a stack file's value passes the CLI's check for a key declared `kind`: a scalar is checked as
    the text the CLI reads (here, as Go prints a parsed value), a list or map as it is."""
    return value_matches(kind, items, to_cli_string(value) if _is_scalar(value) else value)


def to_cli_string(value: Any) -> str:
    """A parsed value as the string the program receives: scalars as Go's `%v` prints them (createConfigValue in
    sdk/go/common/workspace/config.go), floats, lists and maps as encoding/json writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return str(value)
    return go_json(value)


def go_json(value: Any) -> str:
    """`json.Marshal` of Go's encoding/json: compact, map keys sorted, `<`, `>`, `&`, U+2028 and U+2029
    escaped, floats in Go's shortest form (`3`, not `3.0`; `1e+21`; `1e-7`). ValueError for NaN and
    infinities, which Go refuses to marshal. Nesting is bounded by the reader (MAX_DEPTH)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    if isinstance(value, Mapping):
        pairs = sorted((str(key), item) for key, item in value.items())
        return "{" + ",".join(f"{_go_string(key)}:{go_json(item)}" for key, item in pairs) + "}"
    return _go_string(str(value))


def _go_string(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    for raw in "<>&\u2028\u2029":
        quoted = quoted.replace(raw, f"\\u{ord(raw):04x}")
    return quoted


def go_float(value: float) -> str:
    """encoding/json's floatEncoder: shortest digits, 'f' form unless |x| < 1e-6 or >= 1e21, else 'e' form
    with Go's exponent clean-up (1e-07 -> 1e-7)."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"json: unsupported value: {value}")
    number = Decimal(repr(float(value))).normalize()
    if value == 0 or 1e-6 <= abs(value) < 1e21:
        return format(number, "f")
    sign, digits, _ = number.as_tuple()
    exponent = number.adjusted()
    mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'+' if exponent > 0 else '-'}{abs(exponent)}"


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


# libyaml's parser through PyYAML's C binding: the CLI's reader, gopkg.in/yaml.v2, is a Go port of libyaml
# (its README), so libyaml's scanner and parser are the closer model, and they read a file about eight times
# faster than PyYAML's pure-Python ones. Resolvers and constructors stay PyYAML's Python classes, so values
# resolve as before. A PyYAML built without libyaml falls back to the pure-Python parser.
_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """A YAML document as PyYAML's safe loader reads it (libyaml's parser where PyYAML has it)."""
    return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 (a safe loader: SafeConstructor only)


def core_loader(base: type) -> type:
    """`base` (a PyYAML safe loader) with YAML 1.2 core tag resolution and the keys given twice recorded."""

    class CoreLoader(base):  # type: ignore[misc, valid-type]
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

    for tag, pattern, first in _CORE_RESOLVERS:
        CoreLoader.add_implicit_resolver(tag, re.compile(pattern), list(first))
    CoreLoader.add_constructor("tag:yaml.org,2002:int", CoreLoader.construct_yaml_int)
    return CoreLoader


_CoreLoader = core_loader(_SafeLoader)
_YAML_1_1 = yaml.resolver.Resolver()


class YamlError(ValueError):
    """A config file the CLI would read differently, or that is too large, deep or self-referential."""


def read_yaml(text: str, name: str) -> tuple[yaml.Node | None, list[str]]:
    """Parse a Pulumi project or stack file into its node tree (read values with `v2_value`); returns the root
    node and the keys given twice. Raises YamlError for what cannot be read safely at all."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise YamlError(f"{name}: {size} bytes; a config file may have at most {MAX_FILE_BYTES}")
    _check_shape(text, name)
    loader = _CoreLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            loader.construct_document(node)  # records the keys given twice
    except yaml.YAMLError as error:
        raise YamlError(f"{name}: not valid YAML: {' '.join(str(error).split())}") from None
    finally:
        loader.dispose()
    return node, [f"key {duplicate} is given twice; keep one" for duplicate in loader.duplicates]


# --- values as the CLI's YAML reader (gopkg.in/yaml.v2, resolve.go and decode.go) resolves them ---------------

_V2_CONSTANTS: dict[str, Any] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), float("inf")),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), float("-inf")),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), float("nan")),
}
_V2_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _go_parse_int(text: str, *, signed: bool) -> int | None:
    """strconv.ParseInt(text, 0, 64) (or ParseUint): 0x/0o/0b prefixes, a leading 0 means octal, in range."""
    negative = text[:1] == "-"
    body = text[1:] if text[:1] in "+-" else text
    if body != text and not signed:
        return None
    base, lowered = 10, body[:2].lower()
    if lowered in ("0x", "0o", "0b"):
        base, body = {"x": 16, "o": 8, "b": 2}[lowered[1]], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, body = 8, body[1:]
    if not body or not body.isascii() or not body.isalnum():
        return None
    try:
        value = -int(body, base) if negative else int(body, base)
    except ValueError:
        return None
    low, high = (-(2**63), 2**63) if signed else (0, 2**64)
    return value if low <= value < high else None


def _v2_scalar(text: str) -> Any:
    """A plain scalar as yaml.v2 resolves it into an interface{}: bool (YAML 1.1's y/yes/on too), null, int,
    float, else the text (timestamps stay text when decoded into an interface{})."""
    if text in _V2_CONSTANTS:
        return _V2_CONSTANTS[text]
    if text[:1] == ".":
        return float(text) if _V2_FLOAT.fullmatch(text) else text
    if text[:1] not in set("+-0123456789"):
        return text
    plain = text.replace("_", "")
    for signed in (True, False):
        if (number := _go_parse_int(plain, signed=signed)) is not None:
            return number
    if _V2_FLOAT.fullmatch(plain):
        return float(plain)
    return text


def _plain(node: yaml.Node) -> bool:
    """A plain (unquoted, not block) scalar: PyYAML's parser marks it with style None, libyaml's with ''."""
    return not node.style


def v2_value(node: yaml.Node) -> Any:
    """A node's value as the CLI reads it: quoted and block scalars are text, plain ones resolved as yaml.v2
    does, mapping keys turned into strings with Go's %v (interfaceMapToStringMap in resource/config/value.go),
    `<<` merges applied. Depth is bounded by `read_yaml`."""
    if isinstance(node, yaml.ScalarNode):
        return _v2_scalar(node.value) if _plain(node) else node.value
    if isinstance(node, yaml.SequenceNode):
        return [v2_value(item) for item in node.value]
    result: dict[str, Any] = {}
    merged: list[yaml.Node] = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG or (_plain(key_node) and key_node.value == "<<"):
            merged.extend(value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node])
            continue
        result[go_text(v2_value(key_node))] = v2_value(value_node)
    for source in merged:
        if isinstance(source, yaml.MappingNode):
            for key, value in v2_value(source).items():
                result.setdefault(key, value)
    return result


def go_text(value: Any) -> str:
    """Go's fmt `%v` of a value yaml.v2 resolved: `true`, `15`, `1.5`, `1e+06`, `<nil>`."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or abs(value) == float("inf"):
            return "NaN" if value != value else ("+Inf" if value > 0 else "-Inf")
        # %v is strconv's 'g' with the shortest digits: the 'e' form when the exponent is < -4 or >= 6.
        number = Decimal(repr(value)).normalize()
        exponent = number.adjusted()
        if value == 0 or -4 <= exponent < 6:
            return format(number, "f")
        digits = "".join(map(str, number.as_tuple().digits))
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{'-' if value < 0 else ''}{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"
    return str(value)


def scalar_text(node: yaml.Node) -> str | None:
    """A scalar as the CLI's config.Value holds a top-level stack value: its text exactly as written (yaml.v2
    unmarshals any scalar into a string as its source text), "" for null; None for a list or map."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    return "" if _plain(node) and _V2_CONSTANTS.get(node.value, 0) is None else node.value


def mapping(node: yaml.Node | None) -> list[tuple[yaml.Node, yaml.Node]] | None:
    """A mapping node's (key, value) pairs; None for anything else."""
    return list(node.value) if isinstance(node, yaml.MappingNode) else None


def ambiguities(node: yaml.Node) -> list[tuple[int, str]]:
    """(line, advice) for the plain scalars under `node` that YAML 1.1 (yaml.v2) and YAML 1.2 readers read as
    different values."""
    found: list[tuple[int, str]] = []
    stack: list[yaml.Node] = [node]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            if _plain(current) and _readings_differ(current):
                found.append((current.start_mark.line + 1, _advice(current.value)))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            stack.extend(value for pair in current.value for value in pair)
    return sorted(found)


def _check_shape(text: str, name: str) -> None:
    """Depth and expanded size from the event stream, which PyYAML produces without recursion."""
    depth = 0
    sizes: list[int] = [0]
    anchors: dict[str, int] = {}
    open_anchors: list[str | None] = []
    try:
        for event in yaml.parse(text, Loader=_SafeLoader):
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
