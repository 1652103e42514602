"""IAM: no privilege-escalation path on named resources (aws-iam-no-privilege-escalation).

Per document: policy-version rewrites and policy changes to the holder itself (guardrails.escalation).
Across the stack: iam:PassRole from one role to a more privileged one, with the documents each role holds
inline, through role policies and through attached policies. Property names as in guardrails.rules.iam.
"""

from __future__ import annotations

from dataclasses import dataclass

from pulumi_policy import Severity

from guardrails import escalation, managed_policies, permissions
from guardrails.documents import PolicyDocument, parse_policy_document
from guardrails.escalation import Grantee
from guardrails.framework import Findings, Resource, Rule, RuleInfo, Stack, StackCheck
from guardrails.rules.iam import (
    HOLDER_PROPERTIES,
    PERMISSION_POLICY_TYPES,
    POLICY,
    POLICY_ATTACHMENT,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
    managed_document,
    permission_documents,
    readable,
)
from guardrails.values import as_list, shown


def _grantee(resource: Resource) -> Grantee | None:
    if resource.type == ROLE:
        name = resource.props.get("name")
        return Grantee("role", name) if isinstance(name, str) and name else None
    if resource.type in HOLDER_PROPERTIES:
        kind, key = HOLDER_PROPERTIES[resource.type]
        name = escalation.identity_name(resource.props.get(key))
        return Grantee(kind, name) if name else None
    return None


def _iam_name(resource: Resource) -> str:
    """An IAM role or policy's name: its `name` input (set by autonaming before the pack sees it), else its own."""
    name = resource.props.get("name")
    return name if isinstance(name, str) and name else resource.name


@dataclass(frozen=True)
class _Held:
    """One permission document a role holds, and the resource that grants it."""

    source: Resource
    document: PolicyDocument
    # A customer policy attached by ARN: judged here for changes to its holder. Inline and role policies are
    # judged where they are defined, AWS managed ones by aws-iam-no-privileged-managed-policies.
    attached: bool


def _role_documents(stack: Stack) -> dict[str, list[_Held]]:
    """Every permission document in the stack by the role that holds it (inline, role policy, attached)."""
    roles = {_iam_name(role): role for role in stack.of_type(ROLE)}
    customer = {_iam_name(policy): policy for policy in stack.of_type(POLICY)}
    held: dict[str, list[_Held]] = {name: [] for name in roles}
    ignore = Findings()
    for name, role in roles.items():
        held[name] += [_Held(role, document, False) for _, document in permission_documents(role, ignore)]
        held[name] += [_Held(role, *found) for found in _attached(role.props.get("managedPolicyArns"), customer)]
    for resource in stack.of_type(ROLE_POLICY):
        name = escalation.identity_name(resource.props.get("role"))
        if name in held:
            held[name].append(_Held(resource, parse_policy_document(resource.props.get("policy")), False))
    for resource in stack.of_type(ROLE_POLICY_ATTACHMENT, ROLE_POLICY_ATTACHMENTS_EXCLUSIVE, POLICY_ATTACHMENT):
        targets = [*as_list(resource.props.get("roles")), resource.props.get("role"), resource.props.get("roleName")]
        arns = [*as_list(resource.props.get("policyArn")), *as_list(resource.props.get("policyArns"))]
        for target in {escalation.identity_name(value) for value in targets} & set(held):
            held[target] += [_Held(resource, *found) for found in _attached(arns, customer)]
    return held


def _attached(arns: object, customer: dict[str, Resource]) -> list[tuple[PolicyDocument, bool]]:
    """Attached policies' documents (AWS managed from the data, customer from the stack), and which are customer."""
    documents = []
    for arn in as_list(arns):
        if not isinstance(arn, str):
            continue
        name = managed_policies.managed_policy_name(arn)
        if name and managed_policies.lookup(name):
            documents.append((managed_document(name), False))
        elif (policy := customer.get(arn.rsplit("/", 1)[-1])) is not None and ":policy/" in arn:
            documents.append((parse_policy_document(policy.props.get("policy")), True))
    return documents


PASS = frozenset({escalation.PASS_ROLE})


def _trusted_services(role: Resource) -> set[str]:
    document = parse_policy_document(role.props.get("assumeRolePolicy"))
    return {
        principal.value.lower()
        for statement in document.allow_statements
        for principal in statement.principals or ()
        if principal.kind == "Service"
    }


def _check_pass_role(stack: Stack, findings: Findings) -> None:
    held = _role_documents(stack)
    roles = {_iam_name(role): role for role in stack.of_type(ROLE)}
    power = {name: escalation.privileged_actions(entry.document for entry in entries) for name, entries in held.items()}
    for holder, entries in held.items():
        for entry in entries:
            document = entry.document
            if document.unknowns and any(escalation.granted(s, PASS) for s in document.allow_statements):
                findings.unknown_any(*document.unknowns, urn=entry.source.urn)
            if entry.attached:
                label = f"a policy attached to role {shown(holder)}"
                for message in escalation.document_paths(label, document, Grantee("role", holder)):
                    findings.violation(message, entry.source.urn)
            for statement, resource, target in escalation.passed_roles(document, [r for r in held if r != holder]):
                if not escalation.may_pass_to(statement, _trusted_services(roles[target])):
                    continue
                gained = sorted(power[target] - power[holder])
                if gained:
                    findings.violation(
                        f"role {shown(holder)} may pass role {shown(target)} ({statement.label} allows "
                        f"iam:PassRole on {shown(resource)}); {shown(target)} holds {permissions.examples(gained)}, "
                        f"which {shown(holder)} lacks: escalation path PassRole, a workload started as "
                        f"{shown(target)} acts with them. Fix: pass only roles no more privileged than the "
                        "holder, and add an iam:PassedToService condition.",
                        entry.source.urn,
                    )


def _check_escalation(resource: Resource, findings: Findings) -> None:
    grantee = _grantee(resource)
    for label, document in permission_documents(resource, findings):
        for message in escalation.document_paths(label, readable(label, document, findings), grantee):
            findings.violation(message)


NO_PRIVILEGE_ESCALATION = Rule(
    RuleInfo(
        name="aws-iam-no-privilege-escalation",
        description=(
            "IAM policies open no privilege-escalation path on named resources: no policy version rewrites, "
            "no policy changes to their own role, user or group, no PassRole to a more privileged role."
        ),
        severity=Severity.CRITICAL,
        remediation_steps=(
            "Leave iam:CreatePolicyVersion and Attach/Put*Policy on the holder itself to the deployment "
            "pipeline; pass only roles no more privileged than the holder, with an iam:PassedToService condition."
        ),
        frameworks=("cloudsplaining:privilege-escalation",),
        mandatory=True,
        limits=(
            "PassRole is judged between roles of the same stack (a role's inline and role policies, attached "
            "AWS managed policies and the stack's own policies attached by ARN), honouring an "
            "iam:PassedToService condition against the target's trusted services; 'more privileged' means "
            "holding permissions-management or escalation actions (policy_sentry) the holder lacks. Users and "
            "groups are judged for changes to themselves only through their inline policies."
        ),
    ),
    checks={resource_type: _check_escalation for resource_type in PERMISSION_POLICY_TYPES},
    stack_check=StackCheck(
        _check_pass_role,
        (ROLE, ROLE_POLICY, POLICY, ROLE_POLICY_ATTACHMENT, ROLE_POLICY_ATTACHMENTS_EXCLUSIVE, POLICY_ATTACHMENT),
    ),
)
