"""Stack configuration loaded the way the Pulumi CLI loads it: Pulumi.yaml declarations and defaults,
then Pulumi.<stack>.yaml values, handed to the program as the strings the CLI would pass.

The type rules are the CLI's, kept in preflight/config_types.py (shared with the program's settings). Where the CLI
stops at the first bad key, this lists every problem at once. One deliberate difference: a project key
the stack file sets but Pulumi.yaml does not declare is an error here (a typo would otherwise be
silently ignored by the program).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from preflight.config_types import TYPES, to_cli_string, type_matches, type_name

SECRET_PLACEHOLDER = "preflight-secret-placeholder"
"""What a `secure:` value becomes: preflight has no key to decrypt it, and the plan must not hold it."""
DEFAULT_REGION = "us-east-1"


class ConfigError(Exception):
    """The project or stack file is missing, unreadable, or sets keys the project does not accept."""


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


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path.name}: no such file in {path.parent}")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path.name}: not valid YAML: {' '.join(str(error).split())}") from None
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
                problems.append(f"{full}: default {json.dumps(spec['default'])} is not of type {declaration.type_name}")
            values[full] = spec["default"]
    return declared, values, problems


def load_stack_config(project_dir: Path, stack: str, overrides: Mapping[str, Any] | None = None) -> StackConfig:
    """Pulumi.yaml + Pulumi.<stack>.yaml (+ `overrides`, namespaced or bare project keys, as if they were
    in the stack file) -> the config map the program gets. Every problem is reported in one ConfigError."""
    project_dir = Path(project_dir)
    project_file = _read_yaml(project_dir / "Pulumi.yaml")
    project = project_file.get("name")
    if not isinstance(project, str) or not project:
        raise ConfigError("Pulumi.yaml: `name` is missing")
    project_config = project_file.get("config") or {}
    if not isinstance(project_config, Mapping):
        raise ConfigError("Pulumi.yaml: `config` must be a mapping of keys to declarations")
    declared, values, problems = _declarations(project, project_config)
    if problems:
        raise ConfigError("Pulumi.yaml: invalid config declarations:\n  " + "\n  ".join(problems))

    stack_name = f"Pulumi.{stack}.yaml"
    stack_config = _read_yaml(project_dir / stack_name).get("config") or {}
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
                f"{key}: not declared in Pulumi.yaml (the Pulumi CLI only warns; preflight refuses it so a "
                "misspelt key cannot pass unnoticed)"
            )
            continue
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            secret_keys.add(key)
            values[key] = SECRET_PLACEHOLDER
            continue
        if declaration is not None and declaration.secret:
            problems.append(f"{key}: declared secret, so set it with `pulumi config set --secret`")
            continue
        if declaration is not None and not type_matches(declaration.type, declaration.items, value):
            problems.append(f"{key} = {json.dumps(value)}: expected {declaration.type_name}")
            continue
        values[key] = value

    missing = sorted(key for key in declared if key not in values)
    problems.extend(f"{key}: required (no default in Pulumi.yaml) but not set" for key in missing)
    if problems:
        raise ConfigError(f"{stack_name}: {len(problems)} config problem(s):\n  " + "\n  ".join(problems))
    return StackConfig(
        project=project,
        stack=stack,
        values={key: to_cli_string(value) for key, value in values.items() if value is not None},
        secret_keys=frozenset(secret_keys),
    )
