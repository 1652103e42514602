"""A program that imports a package installed only in the project's virtualenv (Pulumi.yaml
`runtime.options.virtualenv: venv`); the test builds that environment."""

import pulumi
import pulumi_aws as aws
import shapes_naming

# A type no rule of the pack judges: the report must not claim that every rule passed.
group = aws.resourcegroups.Group(
    "data",
    name=shapes_naming.group_name("data"),
    resource_query={"query": '{"ResourceTypeFilters": ["AWS::AllSupported"], "TagFilters": []}'},
)
pulumi.export("group", group.name)
