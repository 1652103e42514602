"""ECR: private, scanned, immutable, encrypted repositories that are never public and are cleaned up."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pulumi_policy import Severity

from guardrails.checks import Expect, Expectations, is_true, one_of
from guardrails.documents import parse_policy_document
from guardrails.framework import Findings, Resource, Rule, RuleInfo, Stack, StackCheck, resource_rule, stack_rule
from guardrails.values import Unknown, as_bool, as_list, dig, shown

REPOSITORY = "aws:ecr/repository:Repository"
# pulumi-awsx awsx/ecr/repository.ts passes every input but lifecyclePolicy to aws.ecr.Repository, and
# creates a lifecycle policy unless lifecyclePolicy.skip is true.
AWSX_REPOSITORY = "awsx:ecr:Repository"
REPOSITORIES = (REPOSITORY, AWSX_REPOSITORY)
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
PUBLIC_REPOSITORY = "aws:ecrpublic/repository:Repository"
PUBLIC_REPOSITORY_POLICY = "aws:ecrpublic/repositoryPolicy:RepositoryPolicy"
CREATION_TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"

IMMUTABLE_SETTINGS = ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION")
KMS_ENCRYPTION_TYPES = ("KMS", "KMS_DSSE")
SCANNING_FREQUENCIES = ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")


# --- aws-ecr-repository-scan-on-push -------------------------------------------------------------


@dataclass
class _Scanning:
    """What the stack's registry scanning configurations scan on push or continuously."""

    filters: list[str] = field(default_factory=list)
    pending: Findings = field(default_factory=Findings)

    @property
    def everything(self) -> bool:
        return "*" in self.filters

    def covers_name(self, name: str) -> bool:
        return any(_wildcard(pattern).fullmatch(name) for pattern in self.filters)

    def covers_prefix(self, prefix: str) -> bool:
        """Every repository a creation template makes ("<prefix>/<name>"; ROOT: any name) is scanned."""
        if self.everything:
            return True
        return prefix != "ROOT" and any(
            pattern.endswith("*") and "*" not in pattern[:-1] and f"{prefix}/".startswith(pattern[:-1])
            for pattern in self.filters
        )

    def wait(self, findings: Findings) -> None:
        """Note, as not judged yet, the scanning rules that are not known yet."""
        for path in self.pending.unknown_paths:
            if path not in findings.unknown_paths:
                findings.unknown_paths.append(path)


def _wildcard(pattern: str) -> re.Pattern[str]:
    """ECR's WILDCARD filter: `*` matches any characters, everything else itself."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def _scanning(stack: Stack) -> _Scanning:
    scanning = _Scanning()
    for configuration in stack.of_type(REGISTRY_SCANNING):
        rules = configuration.props.get("rules")
        if scanning.pending.unknown(rules, configuration.urn):
            continue
        for rule in as_list(rules):
            frequency, filters = dig(rule, "scanFrequency"), dig(rule, "repositoryFilters")
            if scanning.pending.unknown_any(frequency, filters, urn=configuration.urn):
                continue
            if frequency not in SCANNING_FREQUENCIES:
                continue  # MANUAL scans nothing by itself.
            for repository_filter in as_list(filters):
                pattern, kind = dig(repository_filter, "filter"), dig(repository_filter, "filterType")
                if scanning.pending.unknown_any(pattern, kind, urn=configuration.urn):
                    continue
                if kind == "WILDCARD" and isinstance(pattern, str) and pattern:
                    scanning.filters.append(pattern)
    return scanning


def _check_scan_on_push_stack(stack: Stack, findings: Findings) -> None:
    scanning = _scanning(stack)
    for repository in stack.of_type(*REPOSITORIES):
        scan = dig(repository.props, "imageScanningConfiguration", "scanOnPush")
        if findings.unknown(scan, repository.urn) or as_bool(scan) is True or scanning.everything:
            continue
        name = repository.props.get("name")
        if isinstance(name, Unknown) and scanning.filters:
            findings.unknown(name, repository.urn)
            continue
        if isinstance(name, str) and scanning.covers_name(name):
            continue
        if scanning.pending.unknown_paths:
            scanning.wait(findings)
            continue
        findings.violation(
            f"Repository {shown(repository.name)} does not scan images on push "
            "(imageScanningConfiguration.scanOnPush is not true) and no registry scanning rule in the stack "
            "scans it on push or continuously.",
            repository.urn,
        )
    for template in stack.of_type(CREATION_TEMPLATE):
        prefix = template.props.get("prefix")
        if scanning.everything or findings.unknown(prefix, template.urn):
            continue
        if isinstance(prefix, str) and scanning.covers_prefix(prefix):
            continue
        if scanning.pending.unknown_paths:
            scanning.wait(findings)
            continue
        findings.violation(
            f"Repository creation template {shown(template.name)} (prefix {shown(prefix)}) creates repositories "
            "that nothing scans: templates carry no scan setting, so add a registry scanning rule (SCAN_ON_PUSH "
            f"or CONTINUOUS_SCAN) whose WILDCARD filter matches {shown(f'{prefix}/*')}.",
            template.urn,
        )


SCAN_ON_PUSH_SETTING = Expectations(
    Expect("imageScanningConfiguration.scanOnPush", is_true, "images are not scanned when pushed", fix=True)
)


SCAN_ON_PUSH = Rule(
    RuleInfo(
        name="aws-ecr-repository-scan-on-push",
        description=(
            "ECR repositories, and the repositories creation templates make, are scanned on push or continuously "
            "by their own setting or by a registry scanning rule."
        ),
        severity=Severity.HIGH,
        remediation_steps=(
            "Set image_scanning_configuration.scan_on_push=True on the repository, or add an "
            "aws.ecr.RegistryScanningConfiguration rule with a '*' WILDCARD filter and SCAN_ON_PUSH frequency."
        ),
        frameworks=("fsbp:ECR.1", "checkov:CKV_AWS_163"),
        limits=(
            "Registry scanning is matched by its WILDCARD filters against repository names and template prefixes;"
            " a registry configuration made outside the stack is not seen, and a repository whose name is not "
            "known yet is covered only by a '*' filter."
        ),
        mandatory=True,
    ),
    stack_check=StackCheck(_check_scan_on_push_stack, reads=(*REPOSITORIES, REGISTRY_SCANNING, CREATION_TEMPLATE)),
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


def _check_policy_not_public(resource: Resource, findings: Findings, key: str = "policy") -> None:
    document = parse_policy_document(resource.props.get(key), key)
    for problem in document.problems:
        findings.violation(f"The policy cannot be judged, so it does not pass: {problem}.")
    for statement in document.allow_statements:
        gap = statement.public_access_gap
        if gap:
            findings.violation(
                f"{statement.label} opens the registry to {gap}. Fix: name the accounts that may pull, or pin "
                "aws:PrincipalOrgID, aws:PrincipalOrgPaths or aws:PrincipalArn in a Condition."
            )
    findings.unknown_any(*document.unknowns)


def _check_template_policy_not_public(resource: Resource, findings: Findings) -> None:
    """A creation template's repositoryPolicy is optional: without one, created repositories have none."""
    if resource.props.get("repositoryPolicy") not in (None, ""):
        _check_policy_not_public(resource, findings, "repositoryPolicy")


REPOSITORY_POLICY_NOT_PUBLIC = resource_rule(
    RuleInfo(
        name="aws-ecr-repository-policy-not-public",
        description=(
            "ECR repository, registry, ECR Public repository and repository creation template policies grant "
            "nothing to a public principal."
        ),
        severity=Severity.CRITICAL,
        remediation_steps=(
            "Name specific account ARNs as Principal, or restrict the statement with a Condition on "
            "aws:PrincipalOrgID, aws:PrincipalAccount or aws:SourceAccount."
        ),
        frameworks=("checkov:CKV_AWS_32", "cdk-nag:ECR1"),
        limits="Which conditions restrict a public principal is the policy-document model's judgement (documents.py).",
        mandatory=True,
    ),
    {
        REPOSITORY_POLICY: _check_policy_not_public,
        REGISTRY_POLICY: _check_policy_not_public,
        PUBLIC_REPOSITORY_POLICY: _check_policy_not_public,
        CREATION_TEMPLATE: _check_template_policy_not_public,
    },
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
        description="ECR repositories and repository creation templates make image tags immutable.",
        severity=Severity.MEDIUM,
        remediation_steps='Set image_tag_mutability="IMMUTABLE" (or IMMUTABLE_WITH_EXCLUSION).',
        frameworks=("fsbp:ECR.2", "checkov:CKV_AWS_51"),
    ),
    dict.fromkeys((*REPOSITORIES, CREATION_TEMPLATE), IMMUTABLE_TAG_SETTING),
    dict.fromkeys((REPOSITORY, CREATION_TEMPLATE), IMMUTABLE_TAG_SETTING.remediate),
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
        description="ECR repositories and repository creation templates encrypt images with a KMS key.",
        severity=Severity.MEDIUM,
        remediation_steps='Set encryption_configurations=[{"encryption_type": "KMS", "kms_key": <key arn>}].',
        frameworks=("checkov:CKV_AWS_136",),
    ),
    dict.fromkeys((*REPOSITORIES, CREATION_TEMPLATE), _check_kms_encryption),
)


# --- aws-ecr-repository-lifecycle-policy (stack) -------------------------------------------------------


def _check_lifecycle_policies(stack: Stack, findings: Findings) -> None:
    policies = stack.of_type(LIFECYCLE_POLICY)
    named = {name for policy in policies if isinstance(name := policy.props.get("repository"), str)}
    referenced = {urn for policy in policies for urn in policy.property_dependencies.get("repository", ())}
    waiting = [policy for policy in policies if isinstance(policy.props.get("repository"), Unknown)]
    for repository in stack.of_type(*REPOSITORIES):
        if repository.type == AWSX_REPOSITORY:
            skip = dig(repository.props, "lifecyclePolicy", "skip")
            if findings.unknown(skip, repository.urn) or as_bool(skip) is not True:
                continue  # awsx creates one.
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
        limits=(
            "A lifecycle policy is matched to its repository by name or by the engine's property dependency; "
            "creation templates' lifecyclePolicy is not judged."
        ),
    ),
    _check_lifecycle_policies,
    reads=(*REPOSITORIES, LIFECYCLE_POLICY),
)
