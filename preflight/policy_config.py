"""The pack's rules and a policy-pack-config file, resolved as the Pulumi CLI resolves them (levels, options
with the rules' configSchema defaults, validation), before and apart from any analysis."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2

from preflight.model import ADVISORY, DISABLED, MANDATORY, REMEDIATE, PolicyInfo

LEVELS = {
    analyzer_pb2.ADVISORY: ADVISORY,
    analyzer_pb2.MANDATORY: MANDATORY,
    analyzer_pb2.DISABLED: DISABLED,
    analyzer_pb2.REMEDIATE: REMEDIATE,
}
LEVEL_VALUES = {name: value for value, name in LEVELS.items()}
SEVERITIES = {
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


class PolicyConfigError(Exception):
    """The policy-pack-config file names an unknown rule or gives options its schema refuses."""


def policies_of(info: analyzer_pb2.AnalyzerInfo, levels: Mapping[str, str] | None = None) -> list[PolicyInfo]:
    """The pack's rules as `PolicyInfo`, at the levels the policy config resolved (or the pack's own)."""
    found = []
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema) if policy.HasField("configSchema") else {}
        found.append(
            PolicyInfo(
                name=policy.name,
                description=policy.description,
                level=(levels or {}).get(policy.name, LEVELS.get(policy.enforcementLevel, ADVISORY)),
                severity=SEVERITIES.get(policy.severity, ""),
                remediation_steps=policy.remediation_steps,
                tags=tuple(policy.tags),
                framework=policy.framework.name if policy.HasField("framework") else "",
                url=policy.url,
                kind="stack" if policy.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
                config_schema=schema,
            )
        )
    return found


def resolve_policy_config(
    info: analyzer_pb2.AnalyzerInfo, document: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Levels and options per rule, as the CLI resolves a policy-pack-config file: the rule's own level,
    the pack's initial config, then `all`, then the rule's entry (a level, or an object with an optional
    `enforcementLevel` and options). Options get the configSchema's defaults and are validated against
    it. Every unknown rule, bad level and bad option is reported in one PolicyConfigError."""
    names = {policy.name: policy for policy in info.policies}
    problems: list[str] = []
    problems.extend(
        f"{name}: no such rule in policy pack {info.name}" for name in sorted(set(document) - set(names) - {"all"})
    )

    def level_of(key: str, value: Any) -> str | None:
        if isinstance(value, Mapping):
            if "enforcementLevel" not in value:
                return None
            value = value["enforcementLevel"]
        if value not in LEVEL_VALUES:
            problems.append(f"{key}: enforcement level {value!r} is not one of {', '.join(LEVEL_VALUES)}")
            return None
        return value

    if isinstance(document.get("all"), Mapping):
        problems.append("all: must be an enforcement level, not an object")
    all_level = level_of("all", document["all"]) if "all" in document else None
    levels: dict[str, str] = {}
    properties: dict[str, dict[str, Any]] = {}
    checks: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for name, policy in names.items():
        level = LEVELS.get(policy.enforcementLevel, ADVISORY)
        options: dict[str, Any] = {}
        if name in info.initialConfig:
            initial = info.initialConfig[name]
            level = LEVELS.get(initial.enforcementLevel, level)
            options.update(json_format.MessageToDict(initial.properties))
        if all_level is not None:
            level = all_level
        entry = document.get(name)
        if entry is not None:
            if not isinstance(entry, str | Mapping):
                problems.append(f"{name}: expected an enforcement level or an object, got {json.dumps(entry)}")
            else:
                level = level_of(name, entry) or level
                if isinstance(entry, Mapping):
                    options.update({key: value for key, value in entry.items() if key != "enforcementLevel"})
        schema = json_format.MessageToDict(policy.configSchema) if policy.HasField("configSchema") else {}
        for key, spec in (schema.get("properties") or {}).items():
            if key not in options and isinstance(spec, Mapping) and "default" in spec:
                options[key] = spec["default"]
        if schema.get("properties"):
            checks.append((name, {"type": "object", **schema}, options))
        elif options:
            problems.append(f"{name}: takes no options, got {', '.join(sorted(options))}")
        levels[name] = level
        properties[name] = options
    problems.extend(schema_problems(checks))
    if problems:
        raise PolicyConfigError("policy config problems:\n  " + "\n  ".join(problems))
    return levels, properties


# Digests of (rule, schema, options) sets found valid, by this process and earlier runs (marker files in
# preflight's cache directory): the answer is a pure function of them and jsonschema's code, and importing
# jsonschema alone costs about a tenth of a second a run.
_VALID: set[str] = set()


@functools.cache
def _jsonschema_stamp() -> tuple[str, int]:
    """Which jsonschema would validate (its file and modification time), without importing it."""
    spec = importlib.util.find_spec("jsonschema")
    origin = spec.origin if spec is not None and spec.origin else ""
    return origin, os.stat(origin).st_mtime_ns if origin else 0


def _checks_digest(checks: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> str:
    material = json.dumps([_jsonschema_stamp(), checks], sort_keys=True, default=repr)
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def schema_problems(checks: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> list[str]:
    """Each rule's options validated against its configSchema (JSON Schema draft 7), as the CLI does."""
    if not checks:
        return []
    from preflight import pack_info

    digest = _checks_digest(checks)
    marker = pack_info.cache_dir() / f"config-valid-{digest}"
    if digest in _VALID or marker.is_file():
        _VALID.add(digest)
        return []
    import jsonschema  # only when this set of options was not validated before

    problems = []
    for name, schema, options in checks:
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(options), key=lambda e: list(e.absolute_path)):
            where = ".".join(str(part) for part in error.absolute_path) or "(options)"
            problems.append(f"{name}: {where}: {error.message}")
    if not problems:
        _VALID.add(digest)
        pack_info.mark(marker)
    return problems
