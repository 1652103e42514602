"""Stack configuration loaded the way the Pulumi CLI loads it: Pulumi.yaml's declarations, defaults and values,
then Pulumi.<stack>.yaml's values, handed to the program as the strings the CLI would pass.

What the CLI does (pulumi/pulumi, sdk/go/common/workspace/):
- Pulumi.yaml (loaders.go): read with yaml.v2, checked against the JSON schema project.json (a config entry is a
  string, integer, boolean or list short-hand, or a declaration with only `type`, `items`, `description`,
  `secret`, `default`, `value`), short-hand rewritten (RewriteShorthandConfigValues: a project key's short-hand
  is its `default`, another namespace's is its `value`), then `Project.Validate` (project.go): no `default`
  with `value`; an `array` needs `items`; a typed default must match its type (ValidateConfigValue); a key of
  another namespace takes only `value`. `type` is optional: an untyped declaration is never type-checked.
  A `config:` that is a string is the old spelling of `stackConfigDir`, where the stack files live.
- Pulumi.<stack>.yaml: keys are `<namespace>:<name>` (or `<namespace>:config:<name>`, resource/config/key.go);
  a scalar is kept as its text, `{secure: ...}` is a secret, lists and maps become JSON
  (resource/config/value.go). Keys Pulumi.yaml does not declare pass through unchecked, as the CLI passes
  them (most projects declare none).
- Merging (config.go, ValidateStackConfigAndMergeProjectConfig): a declared key the stack does not set takes
  its default or value (Go's `%v` of a scalar, JSON of anything else); a project key with neither is missing;
  a typed key the stack sets must match its type, and be `secure:` when declared secret.

Where the CLI stops at the first problem, this lists every problem at once. Beyond the CLI, the file bounds of
preflight/config_types.py apply, keys given twice are refused, and a plain scalar that YAML 1.1 and 1.2 read
differently is refused with advice where a typed declaration checks it. A misspelt key of a project is the
program's to report (this project's components/settings.py checks its own namespace), as it is under the CLI.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from preflight.config_types import (
    MAX_CONFIG_CHARS,
    MAX_VALUE_CHARS,
    SECRET_PLACEHOLDER,
    TYPES,
    YamlError,
    ambiguities,
    go_json,
    go_text,
    mapping,
    read_yaml,
    scalar_text,
    to_cli_string,
    type_matches,
    type_name,
    v2_value,
    value_matches,
)

__all__ = ["SECRET_PLACEHOLDER", "ConfigError", "ConfigValueError", "StackConfig", "load_stack_config", "type_matches"]
DEFAULT_REGION = "us-east-1"
ATTRIBUTES = ("type", "items", "description", "secret", "default", "value")
"""What a declaration may hold (configTypeDeclaration in project.json, additionalProperties false)."""


class ConfigError(Exception):
    """The project or stack file is missing, unreadable, or declares config the CLI refuses."""


class ConfigValueError(ConfigError):
    """Values of the stack file are refused; `config` still holds them (as the program would receive them), so
    the program's own settings check can run on them and every problem can be reported in one run."""

    def __init__(self, stack_file: str, problems: list[str], config: StackConfig) -> None:
        self.stack_file, self.problems, self.config = stack_file, list(problems), config
        super().__init__(_report(stack_file, self.problems))

    def merged_with(self, program_message: str) -> str:
        """This report plus the program's own problems about keys not named here already."""
        named = {problem.split(" ", 1)[0].rstrip(":") for problem in self.problems}
        extra = [
            line.strip().removeprefix("- ")
            for line in program_message.splitlines()
            if line.startswith("  ") and line.strip().removeprefix("- ").split(" ", 1)[0].rstrip(":") not in named
        ]
        return _report(self.stack_file, [*self.problems, *extra])


def _report(stack_file: str, problems: list[str]) -> str:
    return f"{stack_file}: {len(problems)} config problem(s):\n  " + "\n  ".join(problems)


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    values: dict[str, str]
    """Namespaced key -> the string the program receives."""
    secret_keys: frozenset[str] = field(default_factory=frozenset)
    environments: tuple[str, ...] = ()
    """Pulumi ESC environments the stack file imports (`environment:`); their values are not known offline."""

    @property
    def region(self) -> str:
        return self.values.get("aws:region", DEFAULT_REGION)


@dataclass(frozen=True)
class _Declaration:
    type: str | None
    """None for an untyped declaration, whose stack values the CLI does not check."""
    items: Mapping[str, Any] | None
    secret: bool

    @property
    def type_name(self) -> str:
        return type_name(str(self.type), self.items)


@dataclass(frozen=True)
class _Given:
    """A value the stack sets: what the CLI's type check sees, what the program receives, how to show it."""

    content: Any
    """The scalar's text, or the list or map as yaml.v2 read it (secrets still `{secure: ...}`)."""
    program: str
    secure: bool
    shown: str
    node: yaml.Node | None = None


@dataclass(frozen=True)
class _Project:
    name: str
    declared: dict[str, _Declaration]
    """Project keys Pulumi.yaml declares, namespaced."""
    fallbacks: dict[str, Any]
    """Namespaced key -> the default or value Pulumi.yaml gives, as yaml.v2 read it."""
    stack_dir: Path


def _read(path: Path) -> tuple[yaml.Node | None, list[str]]:
    """The file's node tree as the CLI reads it, and the keys it gives twice."""
    if not path.is_file():
        raise ConfigError(f"{path.name}: no such file in {path.parent}")
    try:
        # utf-8-sig: the CLI strips a byte-order mark (readFileStripUTF8BOM in workspace/loaders.go).
        return read_yaml(path.read_text(encoding="utf-8-sig"), path.name)
    except YamlError as error:
        raise ConfigError(str(error)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path.name}: not UTF-8 text") from None


def parse_key(key: str) -> str | None:
    """`ns:name`, or the old `ns:config:name`, as `ns:name`; None when the CLI cannot parse it (config.ParseKey)."""
    parts = key.split(":")
    if len(parts) == 2:
        return key
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    return None


def _items_problem(items: Any) -> str | None:
    """What is wrong with an `items` declaration (configItemsType in project.json), or None."""
    if not isinstance(items, Mapping) or items.get("type") not in TYPES:
        return f"`items` needs a `type` (one of {', '.join(TYPES)})"
    if items["type"] == "array":
        return _items_problem(items.get("items"))
    return None


def _declaration_problems(key: str, spec: Mapping[str, Any], own: bool) -> list[str]:
    """Project.json's configTypeDeclaration and Project.Validate's rules for one declaration."""
    problems = []
    for attribute in spec:
        if attribute not in ATTRIBUTES:
            close = difflib.get_close_matches(str(attribute), ATTRIBUTES, n=1)
            hint = f"did you mean `{close[0]}`?" if close else f"allowed: {', '.join(ATTRIBUTES)}"
            problems.append(f"{key}: `{attribute}` is not allowed in a declaration; {hint}")
    kind, default, value = spec.get("type"), spec.get("default"), spec.get("value")
    if kind is not None and kind not in TYPES:
        problems.append(f"{key}: type {_show(kind)} is not one of {', '.join(TYPES)}")
    if not isinstance(spec.get("secret", False), bool):
        problems.append(f"{key}: `secret` must be true or false")
    if default is not None and value is not None:
        problems.append(f"{key}: give `default` or `value`, not both")
    if not own:
        if kind is not None or default is not None:
            problems.append(f"{key}: a key of another namespace takes only `value` (no type or default)")
        elif value is None:
            problems.append(f"{key}: a key of another namespace must give a `value`")
    elif kind == "array" and (reason := _items_problem(spec.get("items"))) is not None:
        problems.append(f"{key}: an array's {reason}")
    elif kind in TYPES and default is not None and not value_matches(kind, spec.get("items"), default):
        problems.append(f"{key}: default {_show(default)} is not of type {type_name(kind, spec.get('items'))}")
    return problems


def _load_project(project_dir: Path) -> _Project:
    node, problems = _read(project_dir / "Pulumi.yaml")
    document = v2_value(node) if node is not None else None
    if not isinstance(document, dict):
        raise ConfigError("Pulumi.yaml: expected a mapping at the top level")
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError("Pulumi.yaml: `name` is missing")
    config, stack_dir = document.get("config"), document.get("stackConfigDir")
    if isinstance(config, str):  # the old spelling of stackConfigDir (RewriteConfigPathIntoStackConfigDir)
        if stack_dir is not None:
            raise ConfigError("Pulumi.yaml: give `stackConfigDir` only, not also a `config` path")
        config, stack_dir = None, config
    if not isinstance(config, Mapping | None) or not isinstance(stack_dir, str | None):
        raise ConfigError("Pulumi.yaml: `config` must be a mapping of keys to values or declarations")
    declared: dict[str, _Declaration] = {}
    fallbacks: dict[str, Any] = {}
    for key, spec in (config or {}).items():
        own = ":" not in key or key.startswith(f"{name}:")
        full = f"{name}:{key}" if ":" not in key else parse_key(key)
        if full is None:
            problems.append(f"{key}: not a config key (keys are `<namespace>:<name>`, or a bare name)")
            continue
        if isinstance(spec, str | int | list):
            spec = {"default": spec} if own else {"value": spec}  # short-hand (RewriteShorthandConfigValues)
        elif not isinstance(spec, Mapping):
            problems.append(f"{key}: expected a string, integer, boolean or list, or a declaration; got {_show(spec)}")
            continue
        found = _declaration_problems(full if own else key, spec, own)
        problems.extend(found)
        if found:
            continue
        if own:
            declared[full] = _Declaration(spec.get("type"), spec.get("items"), bool(spec.get("secret", False)))
        fallback = spec.get("default") if spec.get("default") is not None else spec.get("value")
        if fallback is not None:
            fallbacks[full] = fallback
    if problems:
        raise ConfigError("Pulumi.yaml: invalid config:\n  " + "\n  ".join(problems))
    return _Project(name, declared, fallbacks, project_dir / (stack_dir or ""))


def stack_files(project_dir: Path) -> list[Path]:
    """The project's stack files (`Pulumi.<stack>.yaml` or `.yml`), where Pulumi.yaml's `stackConfigDir` (or
    the old `config: <dir>`) puts them, else beside Pulumi.yaml. A Pulumi.yaml that cannot be read names no
    other place: its own error is reported when the config loads."""
    project_dir = Path(project_dir)
    try:
        directory = _load_project(project_dir).stack_dir
    except ConfigError:
        directory = project_dir
    return sorted(path for pattern in ("Pulumi.*.yaml", "Pulumi.*.yml") for path in directory.glob(pattern))


def _secure_text(value: Any) -> bool:
    """`{secure: <text>}`: a secret (isSecureValue in resource/config/value.go)."""
    return isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get("secure"), str)


def _has_secure(value: Any) -> bool:
    if _secure_text(value):
        return True
    if isinstance(value, Mapping):
        return any(_has_secure(item) for item in value.values())
    return isinstance(value, list) and any(_has_secure(item) for item in value)


def _plain(value: Any) -> Any:
    """A structured value with each secret replaced by the placeholder (preflight cannot decrypt it)."""
    if _secure_text(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return [_plain(item) for item in value] if isinstance(value, list) else value


def _given(content: Any, shown: str, node: yaml.Node | None = None) -> _Given:
    if isinstance(content, str):
        return _Given(content, content, False, shown, node)
    if _secure_text(content):
        return _Given(content, SECRET_PLACEHOLDER, True, "[secret]", node)
    return _Given(content, go_json(_plain(content)), _has_secure(content), shown, node)


def _environments(top: list[tuple[yaml.Node, yaml.Node]], name: str, problems: list[str]) -> tuple[str, ...]:
    """The ESC environments a stack file imports: `environment: [names]`, or `environment: {imports: [names]}`
    (pulumi/sdk/go/common/workspace/project.go, ProjectStack.Environment). The CLI resolves them through
    Pulumi Cloud before the program runs; offline their values are missing, which the report says."""
    node = next((value for key, value in top if scalar_text(key) == "environment"), None)
    if node is None:
        return ()
    value = v2_value(node)
    inline: list[str] = []
    if isinstance(value, dict):
        # An inline definition beside the imports is evaluated by ESC too (values, functions, secrets).
        inline = ["its inline definition"] if set(value) - {"imports"} else []
        value = value.get("imports", [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        problems.append(f"{name}: `environment` must list ESC environment names")
        return ()
    return (*value, *inline)


def _stack_values(
    path: Path, project: str, problems: list[str], environments: list[str] | None = None
) -> dict[str, _Given]:
    node, duplicates = _read(path)
    problems.extend(duplicates)
    top = mapping(node) if node is not None else []
    if top is None:
        raise ConfigError(f"{path.name}: expected a mapping at the top level")
    if environments is not None:
        environments.extend(_environments(top, path.name, problems))
    config_node = next((value for key, value in top if scalar_text(key) == "config"), None)
    pairs = mapping(config_node) if config_node is not None and scalar_text(config_node) != "" else []
    if pairs is None:
        raise ConfigError(f"{path.name}: `config` must be a mapping of namespaced keys to values")
    given: dict[str, _Given] = {}
    for key_node, value_node in pairs:
        name = go_text(v2_value(key_node))
        key = parse_key(name)
        if key is None:
            problems.append(f"{name}: stack config keys need a namespace, e.g. {project}:{name}")
            continue
        text, value = scalar_text(value_node), v2_value(value_node)
        # Shown as written: `True` stays `True`, text in quotes.
        shown = text if text is not None and not isinstance(value, str | None) else _show(value)
        try:
            given[key] = _given(text if text is not None else value, shown, value_node)
        except ValueError as error:  # NaN or an infinity in a list or map: Go's json.Marshal refuses it
            problems.append(f"{key}: cannot be passed to the program ({error})")
    return given


def load_stack_config(project_dir: Path, stack: str, overrides: Mapping[str, Any] | None = None) -> StackConfig:
    """Pulumi.yaml + Pulumi.<stack>.yaml (+ `overrides`, namespaced or bare project keys, as if they were
    in the stack file) -> the config map the program gets. Every problem is reported in one ConfigError
    (a ConfigValueError when the files could be read and only values are refused)."""
    project = _load_project(Path(project_dir))
    stack_name = f"Pulumi.{stack}.yaml"
    problems: list[str] = []
    environments: list[str] = []
    given = _stack_values(project.stack_dir / stack_name, project.name, problems, environments)
    for key, value in (overrides or {}).items():
        full = key if ":" in key else f"{project.name}:{key}"
        given[full] = _given(value if isinstance(value, list | dict) else to_cli_string(value), _show(value))

    values = {key: to_cli_string(value) for key, value in project.fallbacks.items() if key not in given}
    values.update({key: value.program for key, value in given.items()})
    for key, declaration in project.declared.items():
        if key not in given:
            if key not in values:
                problems.append(f"{key}: required (no default in Pulumi.yaml) but not set")
        elif declaration.type is not None:
            problems.extend(_type_problems(key, declaration, given[key]))
    problems.extend(_size_problems(values))
    secret_keys = frozenset(key for key, value in given.items() if value.secure)
    config = StackConfig(
        project=project.name, stack=stack, values=values, secret_keys=secret_keys, environments=tuple(environments)
    )
    if problems:
        raise ConfigValueError(stack_name, problems, config)
    return config


def _type_problems(key: str, declaration: _Declaration, value: _Given) -> list[str]:
    """The CLI's DefaultStackConfigValidator (workspace/config.go) for a typed key the stack sets, with advice
    first where YAML readers disagree on what was written."""
    if value.secure:
        return []  # checked once decrypted, which preflight cannot do: the program's settings explain it
    if declaration.secret:
        return [f"{key}: declared secret, so set it with `pulumi config set --secret`"]
    found = ambiguities(value.node) if value.node is not None else []
    if found:
        return [f"{key} (line {line}): {advice}" for line, advice in found]
    if value_matches(str(declaration.type), declaration.items, value.content):
        return []
    hint = ""
    if declaration.type == "boolean" and isinstance(value.content, str) and value.content.lower() in ("true", "false"):
        hint = " (the CLI reads the text as written: true or false, in lower case)"
    return [f"{key} = {value.shown}: expected {declaration.type_name}{hint}"]


def _size_problems(strings: Mapping[str, str]) -> list[str]:
    """The program receives the whole config in one environment variable (PULUMI_CONFIG, as JSON), and Linux
    refuses a single environment string over 128 KiB (MAX_ARG_STRLEN): bound each value and the total."""
    problems = [
        f"{key}: the value is {len(text)} characters; at most {MAX_VALUE_CHARS} are accepted"
        for key, text in strings.items()
        if len(text) > MAX_VALUE_CHARS
    ]
    total = len(json.dumps(strings))
    if total > MAX_CONFIG_CHARS:
        problems.append(f"the whole config is {total} characters as JSON; at most {MAX_CONFIG_CHARS} are accepted")
    return problems


def _show(value: Any) -> str:
    """A value as the stack file holds it, shortened so a huge value is not echoed whole."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 120 else f"{text[:100]}... ({len(text)} characters)"
