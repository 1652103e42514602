"""A tiny policy pack for preflight's analyzer tests: each rule reports what the engine handed it, so a
test can check that preflight speaks the protocol as the engine does (config, options, parents,
providers, unknowns). Run by preflight exactly as the CLI runs a pack: `python -u __main__.py`."""

import json

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)


def required_tags(args, report_violation):
    if args.resource_type != "aws:s3/bucket:Bucket":
        return
    tags = args.props.get("tags") or {}
    missing = [tag for tag in args.get_config()["tags"] if tag not in tags]
    if missing:
        report_violation(f"missing tags: {', '.join(missing)}")


def no_wildcard_policy(args, report_violation):
    if args.resource_type != "aws:iam/rolePolicy:RolePolicy":
        return
    # Reading an unknown value raises pulumi-policy's UnknownValueError: its "can't run policy" path.
    document = json.loads(args.props["policy"])
    for statement in document["Statement"]:
        if "*" in statement["Resource"]:
            report_violation("a statement allows every resource")


def protected_tables(args, report_violation):
    if args.resource_type == "aws:dynamodb/table:Table" and not args.opts.protect:
        report_violation("the table is not protected")


def what_the_engine_sent(args, report_violation):
    """Advisory, on every custom resource: its options and provider, as the pack sees them."""
    if args.resource_type.startswith("pulumi:") or args.resource_type.startswith("tiny:"):
        return
    seen = {
        "parent": args.opts.parent,
        "protect": args.opts.protect,
        "ignoreChanges": list(args.opts.ignore_changes),
        "provider": args.provider.urn if args.provider else None,
        "providerRegion": args.provider.props.get("region") if args.provider else None,
    }
    report_violation("seen " + json.dumps(seen, sort_keys=True))


def stack_shape(args, report_violation):
    shape = {
        "resources": sorted(f"{r.resource_type}::{r.name}" for r in args.resources),
        "parents": sorted(
            f"{r.name}<{r.parent.name}" for r in args.resources if r.parent is not None and r.parent.name != "tiny-test"
        ),
        "dependencies": sorted(f"{r.name}>{d.name}" for r in args.resources for d in r.dependencies),
        "maxResources": args.get_config()["maxResources"],
    }
    if len(args.resources) > args.get_config()["maxResources"]:
        report_violation("too many resources " + json.dumps(shape, sort_keys=True))
    else:
        report_violation("shape " + json.dumps(shape, sort_keys=True))


PolicyPack(
    name="tiny-pack",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(
            name="tiny-required-tags",
            description="Buckets carry the required tags.",
            validate=required_tags,
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={"tags": {"type": "array", "items": {"type": "string"}, "default": ["team"]}}
            ),
        ),
        ResourceValidationPolicy(
            name="tiny-no-wildcard-policy",
            description="Role policies name their resources.",
            validate=no_wildcard_policy,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
        ResourceValidationPolicy(
            name="tiny-protected-tables",
            description="Tables are protected from deletion.",
            validate=protected_tables,
        ),
        ResourceValidationPolicy(
            name="tiny-what-the-engine-sent",
            description="Reports what the engine sent.",
            validate=what_the_engine_sent,
        ),
        StackValidationPolicy(
            name="tiny-stack-shape",
            description="Reports the stack's shape.",
            validate=stack_shape,
            config_schema=PolicyConfigSchema(
                properties={"maxResources": {"type": "integer", "minimum": 1, "default": 100}}
            ),
        ),
    ],
)
