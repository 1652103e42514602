"""ECR rules: scan on push, no public repositories."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

REPOSITORY = "aws:ecr/repository:Repository"
PUBLIC_REPOSITORY = "aws:ecrpublic/repository:Repository"


def _scan_on_push(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != REPOSITORY:
        return
    scanning = args.props.get("imageScanningConfiguration")
    scan = scanning.get("scanOnPush") if hasattr(scanning, "get") else None
    if scan is not True and str(scan).lower() != "true":
        report_violation("imageScanningConfiguration.scanOnPush is not true: images are pushed unscanned.")


def _remediate_scan_on_push(args: ResourceValidationArgs):
    if args.resource_type != REPOSITORY:
        return None
    props = dict(args.props)
    props["imageScanningConfiguration"] = {"scanOnPush": True}
    return props


def _no_public_repository(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == PUBLIC_REPOSITORY:
        report_violation("ECR Public repositories publish images to everyone; use a private repository.")


SCAN_ON_PUSH = ResourceValidationPolicy(
    name="aws-ecr-repository-scan-on-push",
    description="ECR repositories scan every image for vulnerabilities when it is pushed.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_scan_on_push,
    remediate=_remediate_scan_on_push,
)

NO_PUBLIC_REPOSITORIES = ResourceValidationPolicy(
    name="aws-ecr-no-public-repositories",
    description="The stack creates no ECR Public repository.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_no_public_repository,
)
