"""Privilege escalation on named resources: the paths a grant opens even when it names its resources.

The paths (after Rhino Security Labs' AWS IAM privilege-escalation methods, which policy_sentry's
privilege-escalation list also follows):
- CreatePolicyVersion / SetDefaultPolicyVersion on a managed policy: the holder writes a new default
  version of that policy, granting anything to every principal it is attached to, the holder included.
- Attach*Policy / Put*Policy / permissions-boundary changes on the holder itself: the holder grants itself
  AdministratorAccess or any inline policy.
- PassRole to a role holding permissions the holder lacks: the holder starts a workload (an instance, a
  function, a task) as that role and acts with its permissions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from guardrails import arns, iam_knowledge
from guardrails.conditions import Operator
from guardrails.documents import PolicyDocument, Statement
from guardrails.permissions import examples
from guardrails.values import shown

POLICY_VERSION_ACTIONS = frozenset({"iam:createpolicyversion", "iam:setdefaultpolicyversion"})
SELF_MODIFYING_ACTIONS = {
    "role": frozenset(
        {
            "iam:attachrolepolicy",
            "iam:putrolepolicy",
            "iam:putrolepermissionsboundary",
            "iam:deleterolepermissionsboundary",
        }
    ),
    "user": frozenset(
        {
            "iam:attachuserpolicy",
            "iam:putuserpolicy",
            "iam:putuserpermissionsboundary",
            "iam:deleteuserpermissionsboundary",
        }
    ),
    "group": frozenset({"iam:attachgrouppolicy", "iam:putgrouppolicy"}),
}
PASS_ROLE = "iam:passrole"
_ARN_NAME = re.compile(r"^arn:[^:]*:iam::[^:]*:(?:role|user|group)/(?:.*/)?(?P<name>[^/]+)$")


@dataclass(frozen=True)
class Grantee:
    """Who holds a permission policy: kind ("role", "user", "group") and name."""

    kind: str
    name: str


def identity_name(value: object) -> str | None:
    """A role/user/group name from a name or an ARN (the provider accepts both in `role`, `user`, `group`)."""
    if not isinstance(value, str) or not value:
        return None
    match = _ARN_NAME.match(value)
    return match.group("name") if match else value


def granted(statement: Statement, wanted: frozenset[str]) -> list[str]:
    """The wanted actions (lower case) the statement allows, canonical names, through any spelling."""
    found = []
    for pattern in statement.actions or ():
        for facts in iam_knowledge.expand(pattern):
            if facts.name.lower() in wanted and facts.name not in found:
                found.append(facts.name)
    return found


def names_identity(resource: str, kind: str, name: str) -> bool:
    """Whether a Resource pattern reaches the role/user/group called `name` (any path, any account)."""
    if arns.is_everything(resource):
        return True
    fields = resource.split(":", 5)
    if len(fields) < 6 or not arns.glob(fields[2], ignore_case=True).fullmatch("iam"):
        return False
    part = fields[5]
    if arns.glob(part).fullmatch(f"{kind}/{name}"):
        return True
    # The same identity under a path (role/service/app): its name is the last segment.
    return part.startswith(f"{kind}/") and arns.glob(part.rsplit("/", 1)[-1]).fullmatch(name) is not None


def document_paths(label: str, document: PolicyDocument, grantee: Grantee | None) -> list[str]:
    """Escalation paths a document opens on its own: policy versions, and changes to its own holder."""
    findings = []
    for statement in document.allow_statements:
        where = f"{label} {statement.label}".strip()
        resources = statement.resources or ()
        versions = granted(statement, POLICY_VERSION_ACTIONS)
        policy_version = iam_knowledge.lookup("iam:CreatePolicyVersion")
        policies = [r for r in resources if policy_version is None or arns.may_reach(r, policy_version)]
        if versions and policies:
            findings.append(
                f"{where} allows {examples(versions)} on {examples([shown(r) for r in policies], 2)}: escalation "
                "path CreatePolicyVersion, a new default version granting anything to whoever the policy is "
                "attached to. Fix: leave policy versions to the deployment pipeline, not to a workload."
            )
        if grantee is None:
            continue
        changes = granted(statement, SELF_MODIFYING_ACTIONS[grantee.kind])
        own = [resource for resource in resources if names_identity(resource, grantee.kind, grantee.name)]
        if changes and own:
            findings.append(
                f"{where} allows {examples(changes)} on {shown(own[0])}, the {grantee.kind} {shown(grantee.name)} "
                f"itself: escalation path {changes[0].split(':')[1]} on itself, attaching AdministratorAccess or "
                f"any inline policy to its own {grantee.kind}. Fix: remove these actions, or name other "
                f"{grantee.kind}s only."
            )
    return findings


def privileged_actions(documents: Iterable[PolicyDocument]) -> set[str]:
    """Permissions-management and escalation actions (canonical names) the documents allow on any resource."""
    held: set[str] = set()
    for document in documents:
        for statement in document.allow_statements:
            for pattern in statement.actions or ():
                held.update(facts.name for facts in iam_knowledge.expand(pattern) if iam_knowledge.is_privileged(facts))
            if statement.not_actions is not None:
                held.update(
                    facts.name
                    for facts in iam_knowledge.expand("*")
                    if iam_knowledge.is_privileged(facts)
                    and not any(_matches(pattern, facts.name) for pattern in statement.not_actions)
                )
    return held


def _matches(pattern: str, action: str) -> bool:
    return bool(arns.glob(pattern.lower()).fullmatch(action.lower()))


def passed_roles(document: PolicyDocument, roles: Iterable[str]) -> list[tuple[Statement, str, str]]:
    """(statement, resource pattern, role name) for every role of `roles` the document may pass."""
    found = []
    for statement in document.allow_statements:
        if not granted(statement, frozenset({PASS_ROLE})):
            continue
        for role in roles:
            resource = next((r for r in statement.resources or () if names_identity(r, "role", role)), None)
            if resource is not None:
                found.append((statement, resource, role))
    return found


def may_pass_to(statement: Statement, services: set[str]) -> bool:
    """Whether an iam:PassedToService condition (if any) admits one of the target role's trusted services.

    A role can only be passed to a service it trusts, so a condition naming none of them passes nothing.
    """
    for text, keys in statement.conditions.items():
        operator = Operator.parse(text)
        for key, values in keys.items():
            if key.lower() != "iam:passedtoservice" or operator.why_not_restricting() or not values:
                continue
            if not any(arns.glob(value.lower()).fullmatch(service) for value in values for service in services):
                return False
    return True
