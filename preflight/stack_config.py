"""Stack configuration loaded the way the Pulumi CLI loads it: Pulumi.yaml declarations and defaults,
then Pulumi.<stack>.yaml values, passed to the program as strings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SECRET_PLACEHOLDER = "preflight-secret-placeholder"
TYPES = {"string": str, "integer": int, "boolean": bool, "array": list}


class ConfigError(Exception):
    """The project or stack file is missing, unreadable or has values of the wrong type."""


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    values: dict[str, str]
    """Namespaced key -> the string the program receives."""
    secret_keys: frozenset[str] = field(default_factory=frozenset)

    @property
    def region(self) -> str:
        return self.values.get("aws:region", "us-east-1")


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path.name}: no such file in {path.parent}")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path.name}: not valid YAML: {error}".replace("\n", " ")) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path.name}: expected a mapping at the top level")
    return document


def _as_cli_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def load_stack_config(project_dir: Path, stack: str, overrides: Mapping[str, Any] | None = None) -> StackConfig:
    project = _read_yaml(project_dir / "Pulumi.yaml")
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError("Pulumi.yaml: `name` is missing")
    declared: dict[str, dict[str, Any]] = {}
    values: dict[str, Any] = {}
    for key, spec in (project.get("config") or {}).items():
        if ":" in key:
            # Another namespace (aws:region): a plain value or {value: ...} for every stack.
            values[key] = spec.get("value") if isinstance(spec, dict) else spec
            continue
        if not isinstance(spec, dict) or spec.get("type") not in TYPES:
            raise ConfigError(f"Pulumi.yaml: config key {key!r} needs a type of string, integer, boolean or array")
        declared[f"{name}:{key}"] = spec
        if "default" in spec:
            values[f"{name}:{key}"] = spec["default"]

    stack_file = _read_yaml(project_dir / f"Pulumi.{stack}.yaml")
    secret_keys: set[str] = set()
    problems: list[str] = []
    given = dict(stack_file.get("config") or {})
    given.update(overrides or {})
    for key, value in given.items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(full)
            values[full] = SECRET_PLACEHOLDER
            continue
        spec = declared.get(full)
        if full.startswith(f"{name}:") and spec is None:
            problems.append(f"{full}: not declared in Pulumi.yaml")
            continue
        if spec is not None and not _type_ok(spec["type"], value):
            problems.append(f"{full} = {json.dumps(value)}: expected {spec['type']}")
            continue
        values[full] = value
    if problems:
        raise ConfigError(f"Pulumi.{stack}.yaml: " + "; ".join(problems))
    return StackConfig(
        project=name,
        stack=stack,
        values={key: _as_cli_string(value) for key, value in values.items() if value is not None},
        secret_keys=frozenset(secret_keys),
    )
