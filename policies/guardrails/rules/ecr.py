"""ECR: private, scanned, immutable, encrypted repositories that are never public and are cleaned up."""

from __future__ import annotations

from pulumi_policy import Severity

from guardrails.checks import Expect, Expectations, is_true, one_of
from guardrails.documents import parse_policy_document
from guardrails.framework import Findings, Resource, Rule, RuleInfo, Stack, StackCheck, resource_rule, stack_rule
from guardrails.values import Unknown, as_bool, as_list, dig

REPOSITORY = "aws:ecr/repository:Repository"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
PUBLIC_REPOSITORY = "aws:ecrpublic/repository:Repository"

IMMUTABLE_SETTINGS = ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION")
KMS_ENCRYPTION_TYPES = ("KMS", "KMS_DSSE")
SCANNING_FREQUENCIES = ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")


# --- aws-ecr-repository-scan-on-push -------------------------------------------------------------


def _registry_coverage(config: Resource, findings: Findings) -> bool | None:
    """True when a rule scans every repository on push or continuously; None when not known yet."""
    rules = config.props.get("rules")
    if findings.unknown(rules, config.urn):
        return None
    for rule in as_list(rules):
        frequency = dig(rule, "scanFrequency")
        filters = dig(rule, "repositoryFilters")
        if findings.unknown(frequency, config.urn) or findings.unknown(filters, config.urn):
            continue
        if frequency not in SCANNING_FREQUENCIES:
            continue
        for repository_filter in as_list(filters):
            if findings.unknown_any(
                dig(repository_filter, "filter"), dig(repository_filter, "filterType"), urn=config.urn
            ):
                continue
            if dig(repository_filter, "filter") == "*" and dig(repository_filter, "filterType") == "WILDCARD":
                return True
    return False


def _check_registry_scanning(resource: Resource, findings: Findings) -> None:
    if _registry_coverage(resource, findings) is False:
        findings.violation(
            "The registry scanning configuration has no rule that scans every repository: add a rule with "
            'repositoryFilters [{"filter": "*", "filterType": "WILDCARD"}] and scanFrequency SCAN_ON_PUSH '
            "or CONTINUOUS_SCAN; repositories outside its filters are not scanned."
        )


def _check_scan_on_push_stack(stack: Stack, findings: Findings) -> None:
    configurations = stack.of_type(REGISTRY_SCANNING)
    coverage = [_registry_coverage(configuration, Findings()) for configuration in configurations]
    for repository in stack.of_type(REPOSITORY):
        scan = dig(repository.props, "imageScanningConfiguration", "scanOnPush")
        if findings.unknown(scan, repository.urn):
            continue
        if as_bool(scan) is True or True in coverage:
            continue
        if None in coverage:
            # The repository relies on a registry configuration whose rules are not known yet.
            for configuration in configurations:
                _registry_coverage(configuration, findings)
            continue
        findings.violation(
            f"Repository {repository.name!r} does not scan images on push "
            "(imageScanningConfiguration.scanOnPush is not true) and no registry scanning configuration "
            "in the stack covers every repository.",
            repository.urn,
        )


SCAN_ON_PUSH_SETTING = Expectations(
    Expect("imageScanningConfiguration.scanOnPush", is_true, "images are not scanned when pushed", fix=True)
)


SCAN_ON_PUSH = Rule(
    RuleInfo(
        name="aws-ecr-repository-scan-on-push",
        description=(
            "ECR repositories scan images on push, or a registry scanning configuration scans every repository."
        ),
        severity=Severity.HIGH,
        remediation_steps=(
            "Set image_scanning_configuration.scan_on_push=True on the repository, or add an "
            "aws.ecr.RegistryScanningConfiguration rule with a '*' WILDCARD filter and SCAN_ON_PUSH frequency."
        ),
        frameworks=("fsbp:ECR.1", "checkov:CKV_AWS_163"),
        mandatory=True,
    ),
    checks={REGISTRY_SCANNING: _check_registry_scanning},
    stack_check=StackCheck(_check_scan_on_push_stack, reads=(REPOSITORY, REGISTRY_SCANNING)),
    remediations={REPOSITORY: SCAN_ON_PUSH_SETTING.remediate},
)


# --- aws-ecr-no-public-repositories ----------------------------------------------------------------


def _check_public_repository(resource: Resource, findings: Findings) -> None:
    findings.violation(
        f"ECR Public repository {resource.name!r} would publish images to everyone; use a private aws.ecr.Repository."
    )


NO_PUBLIC_REPOSITORIES = resource_rule(
    RuleInfo(
        name="aws-ecr-no-public-repositories",
        description="No ECR Public repository is created, so no image is published to the world.",
        severity=Severity.CRITICAL,
        remediation_steps="Replace aws.ecrpublic.Repository with a private aws.ecr.Repository.",
        frameworks=("cdk-nag:ECR1",),
        mandatory=True,
    ),
    {PUBLIC_REPOSITORY: _check_public_repository},
)


# --- aws-ecr-repository-policy-not-public --------------------------------------------------------------


def _check_policy_not_public(resource: Resource, findings: Findings) -> None:
    document = parse_policy_document(resource.props.get("policy"), "policy")
    for problem in document.problems:
        findings.violation(f"The policy cannot be judged, so it does not pass: {problem}.")
    for statement in document.allow_statements:
        if statement.grants_public_access:
            who = "NotPrincipal (everyone but a few)" if statement.not_principals is not None else "a public principal"
            findings.violation(
                f"{statement.label} allows {who} with no Condition on aws:PrincipalOrgID, "
                "aws:PrincipalAccount or aws:SourceAccount; name the accounts that may pull."
            )
    findings.unknown_any(*document.unknowns)


REPOSITORY_POLICY_NOT_PUBLIC = resource_rule(
    RuleInfo(
        name="aws-ecr-repository-policy-not-public",
        description="ECR repository and registry policies grant nothing to a public principal.",
        severity=Severity.CRITICAL,
        remediation_steps=(
            "Name specific account ARNs as Principal, or restrict the statement with a Condition on "
            "aws:PrincipalOrgID, aws:PrincipalAccount or aws:SourceAccount."
        ),
        frameworks=("checkov:CKV_AWS_32", "cdk-nag:ECR1"),
        mandatory=True,
    ),
    {REPOSITORY_POLICY: _check_policy_not_public, REGISTRY_POLICY: _check_policy_not_public},
)


# --- aws-ecr-repository-immutable-tags ---------------------------------------------------------------


IMMUTABLE_TAG_SETTING = Expectations(
    Expect(
        "imageTagMutability",
        one_of(*IMMUTABLE_SETTINGS),
        "a pushed tag can be overwritten",
        unset="not set (MUTABLE)",
        fix="IMMUTABLE",
    )
)


IMMUTABLE_TAGS = resource_rule(
    RuleInfo(
        name="aws-ecr-repository-immutable-tags",
        description="ECR repositories make image tags immutable.",
        severity=Severity.MEDIUM,
        remediation_steps='Set image_tag_mutability="IMMUTABLE" (or IMMUTABLE_WITH_EXCLUSION).',
        frameworks=("fsbp:ECR.2", "checkov:CKV_AWS_51"),
    ),
    {REPOSITORY: IMMUTABLE_TAG_SETTING},
    {REPOSITORY: IMMUTABLE_TAG_SETTING.remediate},
)


# --- aws-ecr-repository-kms-encryption --------------------------------------------------------------


def _check_kms_encryption(resource: Resource, findings: Findings) -> None:
    configurations = resource.props.get("encryptionConfigurations")
    if findings.unknown(configurations):
        return
    types = [dig(configuration, "encryptionType") for configuration in as_list(configurations)]
    if any(findings.unknown(value) for value in types):
        return
    if not types or any(value not in KMS_ENCRYPTION_TYPES for value in types):
        shown = ", ".join(str(value) for value in types) or "not set (AES256)"
        findings.violation(f"encryptionConfigurations encryptionType is {shown}; use KMS.")


KMS_ENCRYPTION = resource_rule(
    RuleInfo(
        name="aws-ecr-repository-kms-encryption",
        description="ECR repositories encrypt images with a KMS key.",
        severity=Severity.MEDIUM,
        remediation_steps='Set encryption_configurations=[{"encryption_type": "KMS", "kms_key": <key arn>}].',
        frameworks=("checkov:CKV_AWS_136",),
    ),
    {REPOSITORY: _check_kms_encryption},
)


# --- aws-ecr-repository-lifecycle-policy (stack) -------------------------------------------------------


def _check_lifecycle_policies(stack: Stack, findings: Findings) -> None:
    policies = stack.of_type(LIFECYCLE_POLICY)
    named = {name for policy in policies if isinstance(name := policy.props.get("repository"), str)}
    referenced = {urn for policy in policies for urn in policy.property_dependencies.get("repository", ())}
    waiting = [policy for policy in policies if isinstance(policy.props.get("repository"), Unknown)]
    for repository in stack.of_type(REPOSITORY):
        if repository.urn in referenced:
            continue
        name = repository.props.get("name")
        if isinstance(name, str) and name in named:
            continue
        if waiting or isinstance(name, Unknown):
            findings.unknown_any(name, *(policy.props.get("repository") for policy in waiting), urn=repository.urn)
            continue
        findings.violation(
            f"Repository {repository.name!r} has no aws.ecr.LifecyclePolicy; old images pile up forever.",
            repository.urn,
        )


LIFECYCLE = stack_rule(
    RuleInfo(
        name="aws-ecr-repository-lifecycle-policy",
        description="Every ECR repository in the stack has a lifecycle policy.",
        severity=Severity.LOW,
        remediation_steps="Add an aws.ecr.LifecyclePolicy for the repository that expires untagged and old images.",
        frameworks=("fsbp:ECR.3",),
    ),
    _check_lifecycle_policies,
    reads=(REPOSITORY, LIFECYCLE_POLICY),
)
