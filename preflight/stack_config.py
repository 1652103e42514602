"""Stack configuration loaded the way the Pulumi CLI loads it: Pulumi.yaml declarations and defaults,
then Pulumi.<stack>.yaml values, handed to the program as the strings the CLI would pass.

The type rules are the CLI's, kept in preflight/config_types.py (shared with the program's settings). Where the CLI
stops at the first bad key, this lists every problem at once. One deliberate difference: a project key
the stack file sets but Pulumi.yaml does not declare is an error here (a typo would otherwise be
silently ignored by the program).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preflight.config_types import (
    MAX_CONFIG_CHARS,
    MAX_VALUE_CHARS,
    SECRET_PLACEHOLDER,
    TYPES,
    YamlError,
    read_yaml,
    to_cli_string,
    type_matches,
    type_name,
)

__all__ = ["SECRET_PLACEHOLDER", "ConfigError", "ConfigValueError", "StackConfig", "load_stack_config", "type_matches"]
DEFAULT_REGION = "us-east-1"


class ConfigError(Exception):
    """The project or stack file is missing, unreadable, or sets keys the project does not accept."""


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

    @property
    def region(self) -> str:
        return self.values.get("aws:region", DEFAULT_REGION)


@dataclass(frozen=True)
class _Declaration:
    type: str
    items: dict[str, Any] | None
    secret: bool

    @property
    def type_name(self) -> str:
        return type_name(self.type, self.items)


def _read_yaml(path: Path, problems: list[str]) -> dict[str, Any]:
    """The file as the CLI reads it; what it would read ambiguously is added to `problems`."""
    if not path.is_file():
        raise ConfigError(f"{path.name}: no such file in {path.parent}")
    try:
        # utf-8-sig: the CLI strips a byte-order mark (readFileStripUTF8BOM in workspace/loaders.go).
        document, found = read_yaml(path.read_text(encoding="utf-8-sig"), path.name)
    except (YamlError, UnicodeDecodeError) as error:
        raise ConfigError(str(error) if isinstance(error, YamlError) else f"{path.name}: not UTF-8 text") from None
    problems.extend(found)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path.name}: expected a mapping at the top level, found {type(document).__name__}")
    return document


def _declarations(project: str, config: Mapping[str, Any]) -> tuple[dict[str, _Declaration], dict[str, Any], list[str]]:
    """Declared project keys, the values Pulumi.yaml gives (defaults and other namespaces), problems."""
    declared: dict[str, _Declaration] = {}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, spec in config.items():
        namespace, _, bare = str(key).rpartition(":")
        if namespace and namespace != project:
            # Another namespace (aws:region): one value for every stack, plain or as {value: ...}.
            values[key] = spec.get("value") if isinstance(spec, Mapping) else spec
            continue
        full = f"{project}:{bare}"
        if not isinstance(spec, Mapping) or spec.get("type") not in TYPES:
            problems.append(f"{full}: declare a type (one of {', '.join(TYPES)})")
            continue
        if spec["type"] == "array" and not isinstance(spec.get("items"), Mapping):
            problems.append(f"{full}: an array needs `items` with a type")
            continue
        declaration = _Declaration(spec["type"], spec.get("items"), bool(spec.get("secret", False)))
        declared[full] = declaration
        if "default" in spec:
            if not type_matches(declaration.type, declaration.items, spec["default"]):
                problems.append(f"{full}: default {_show(spec['default'])} is not of type {declaration.type_name}")
            values[full] = spec["default"]
    return declared, values, problems


def load_stack_config(project_dir: Path, stack: str, overrides: Mapping[str, Any] | None = None) -> StackConfig:
    """Pulumi.yaml + Pulumi.<stack>.yaml (+ `overrides`, namespaced or bare project keys, as if they were
    in the stack file) -> the config map the program gets. Every problem is reported in one ConfigError
    (a ConfigValueError when the files could be read and only values are refused)."""
    project_dir = Path(project_dir)
    problems: list[str] = []
    project_file = _read_yaml(project_dir / "Pulumi.yaml", problems)
    project = project_file.get("name")
    if not isinstance(project, str) or not project:
        raise ConfigError("Pulumi.yaml: `name` is missing")
    project_config = project_file.get("config") or {}
    if not isinstance(project_config, Mapping):
        raise ConfigError("Pulumi.yaml: `config` must be a mapping of keys to declarations")
    declared, values, declaration_problems = _declarations(project, project_config)
    if problems or declaration_problems:
        raise ConfigError(
            "Pulumi.yaml: invalid config declarations:\n  " + "\n  ".join(problems + declaration_problems)
        )

    stack_name = f"Pulumi.{stack}.yaml"
    stack_config = _read_yaml(project_dir / stack_name, problems).get("config") or {}
    # A key whose value YAML readers disagree on is reported once, with that advice, not also as a type error.
    ambiguous = {problem.split(" (line ", 1)[0] for problem in problems if " (line " in problem}
    if not isinstance(stack_config, Mapping):
        raise ConfigError(f"{stack_name}: `config` must be a mapping of namespaced keys to values")
    given: dict[str, Any] = {}
    for key, value in stack_config.items():
        if ":" not in str(key):
            problems.append(f"{key}: stack config keys need a namespace, e.g. {project}:{key}")
            continue
        given[str(key)] = value
    for key, value in (overrides or {}).items():
        given[key if ":" in key else f"{project}:{key}"] = value

    secret_keys: set[str] = set()
    for key, value in given.items():
        declaration = declared.get(key)
        if key.startswith(f"{project}:") and declaration is None:
            problems.append(
                f"{key}: not declared in Pulumi.yaml{_did_you_mean(key, declared)} (the Pulumi CLI only warns; "
                "preflight refuses it so a misspelt key cannot pass unnoticed)"
            )
            continue
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            secret_keys.add(key)
            values[key] = SECRET_PLACEHOLDER
            continue
        if declaration is not None and declaration.secret:
            problems.append(f"{key}: declared secret, so set it with `pulumi config set --secret`")
            continue
        values[key] = value
        if (
            key not in ambiguous
            and declaration is not None
            and not type_matches(declaration.type, declaration.items, value)
        ):
            problems.append(f"{key} = {_show(value)}: expected {declaration.type_name}")

    missing = sorted(key for key in declared if key not in values)
    problems.extend(f"{key}: required (no default in Pulumi.yaml) but not set" for key in missing)
    strings = {key: to_cli_string(value) for key, value in values.items() if value is not None}
    problems.extend(_size_problems(strings))
    config = StackConfig(project=project, stack=stack, values=strings, secret_keys=frozenset(secret_keys))
    if problems:
        raise ConfigValueError(stack_name, problems, config)
    return config


def _did_you_mean(key: str, declared: Mapping[str, Any]) -> str:
    namespace, _, bare = key.rpartition(":")
    names = {name.rpartition(":")[2]: name for name in declared}
    folded = {name.lower(): name for name in names}
    close = [folded[bare.lower()]] if bare.lower() in folded else difflib.get_close_matches(bare, names, n=1)
    return f"; did you mean {namespace}:{close[0]}?" if close else ""


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
    text = json.dumps(value)
    return text if len(text) <= 120 else f"{text[:100]}... ({len(text)} characters)"
