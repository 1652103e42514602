"""The EC2 host component, recorded under preflight's mocks from tests/components/programs/host_only.py."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from components.container_host import ContainerHostArgs
from components.iam import SESSION_MANAGER_ACTIONS
from components.settings import parse_settings
from components.user_data import render_user_data
from preflight.mocks import StackMocks
from preflight.model import RecordedResource
from preflight.recorder import ProgramError, Recording, record
from tests.conftest import ROOT

PROGRAM = Path(__file__).resolve().parent / "programs" / "host_only.py"
ACCOUNT = "123456789012"
REPOSITORY_URL = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/shipshape/web"
IMAGE = f"{REPOSITORY_URL}@sha256:{'ab' * 32}"
REPOSITORY_ARN = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/shipshape/web"
TABLE_ARN = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/visits-table-1a2b3c4"
ALB_GROUP = "sg-0aaaaaaaaaaaaaaaa"
PULL_ACTIONS = {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}

TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


@cache
def host(**variant: Any) -> Recording:
    """The host program recorded for the dev stack, with `hosttest:` config for the variant."""
    overrides = {f"hosttest:{key}": value for key, value in variant.items()}
    return record(ROOT, "dev", program=PROGRAM, config_overrides=overrides)


def one(recording: Recording, type_: str) -> RecordedResource:
    return recording.one(type_)


def statements(document: str) -> list[dict[str, Any]]:
    parsed = json.loads(document)
    assert parsed["Version"] == "2012-10-17"
    return parsed["Statement"]


# --- the component ----------------------------------------------------------------------------


def test_every_child_belongs_to_the_host_component() -> None:
    recording = host()
    component = one(recording, "shipshape:container_host:ContainerHost")
    children = [r for r in recording.resources if r is not component]
    assert {r.type for r in children} == {TEMPLATE, ASG, ROLE, ROLE_POLICY, PROFILE, GROUP, INGRESS, EGRESS}
    assert all(r.parent == component.urn for r in children)
    assert all(r.name.startswith("host-") for r in children)
    assert recording.by_type("aws:ec2/instance:Instance") == []


def test_outputs_name_the_group_its_template_role_and_security_group() -> None:
    outputs = host().outputs
    assert set(outputs) == {"autoScalingGroupName", "launchTemplateId", "roleName", "roleArn", "securityGroupId"}
    assert all(isinstance(value, str) and value for value in outputs.values())
    assert outputs["roleArn"].endswith(f":role/{outputs['roleName']}")


def depends_on(resource: RecordedResource, key: str, other: RecordedResource) -> bool:
    return other.urn in resource.property_dependencies.get(key, ())


def user_data_of(recording: Recording) -> str:
    return base64.b64decode(one(recording, TEMPLATE).inputs["userData"]).decode("utf-8")


# --- the launch template ----------------------------------------------------------------------


def test_template_answers_imdsv2_only_with_a_hop_limit_of_two() -> None:
    options = one(host(), TEMPLATE).inputs["metadataOptions"]
    assert options["httpTokens"] == "required"
    assert options["httpEndpoint"] == "enabled"
    assert options["httpPutResponseHopLimit"] == 2


def test_template_has_no_public_ip_no_key_pair_and_detailed_monitoring() -> None:
    recording = host()
    inputs = one(recording, TEMPLATE).inputs
    (interface,) = inputs["networkInterfaces"]
    assert interface["associatePublicIpAddress"] == "false"
    assert interface["deviceIndex"] == 0
    assert interface["securityGroups"] == [recording.outputs["securityGroupId"]]
    assert "keyName" not in inputs
    assert inputs["monitoring"] == {"enabled": True}
    assert inputs["instanceType"] == "t3.micro"
    assert inputs["updateDefaultVersion"] is True


def test_root_volume_is_encrypted_gp3_sized_from_settings_and_deleted_with_the_host() -> None:
    (mapping,) = one(host(), TEMPLATE).inputs["blockDeviceMappings"]
    assert mapping["deviceName"] == "/dev/xvda"
    assert mapping["ebs"] == {"volumeType": "gp3", "volumeSize": 20, "encrypted": "true", "deleteOnTermination": "true"}


def test_template_uses_the_hosts_own_profile() -> None:
    recording = host()
    template = one(recording, TEMPLATE)
    assert depends_on(template, "iamInstanceProfile", one(recording, PROFILE))
    assert depends_on(template, "networkInterfaces", one(recording, GROUP))


def test_instances_and_volumes_carry_the_extra_tags_and_a_name() -> None:
    specifications = one(host(), TEMPLATE).inputs["tagSpecifications"]
    assert specifications == [
        {"resourceType": "instance", "tags": {"Name": "host", "role": "host"}},
        {"resourceType": "volume", "tags": {"Name": "host", "role": "host"}},
    ]


# --- the Auto Scaling group -------------------------------------------------------------------


def test_group_of_one_in_the_private_subnet_from_the_latest_template_version() -> None:
    recording = host()
    group = one(recording, ASG)
    inputs = group.inputs
    assert (inputs["minSize"], inputs["maxSize"], inputs["desiredCapacity"]) == (1, 1, 1)
    assert inputs["vpcZoneIdentifiers"] == ["subnet-0123456789abcdef0"]
    assert inputs["launchTemplate"]["id"] == recording.outputs["launchTemplateId"]
    assert inputs["launchTemplate"]["version"] not in (None, "", "$Latest", "$Default")
    assert depends_on(group, "launchTemplate", one(recording, TEMPLATE))
    assert "targetGroupArns" not in inputs and "loadBalancers" not in inputs


def test_group_checks_health_after_a_grace_period_and_rolls_by_instance_refresh() -> None:
    inputs = one(host(), ASG).inputs
    assert inputs["healthCheckType"] == "EC2"
    assert inputs["healthCheckGracePeriod"] == 600
    refresh = inputs["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    assert refresh["preferences"]["minHealthyPercentage"] == 0


def test_group_launches_only_after_its_role_may_pull_and_register() -> None:
    recording = host()
    waits_for = set(one(recording, ASG).dependencies)
    (grants,) = [r for r in recording.by_type(ROLE_POLICY) if r.name == "host-policy"]
    assert grants.urn in waits_for


def test_the_role_may_mark_only_its_own_groups_instances_unhealthy() -> None:
    recording = host()
    (heal,) = [r for r in recording.by_type(ROLE_POLICY) if r.name == "host-heal"]
    (statement,) = statements(heal.inputs["policy"])
    assert statement["Action"] == "autoscaling:SetInstanceHealth"
    assert statement["Resource"].startswith("arn:aws:autoscaling:")
    assert depends_on(heal, "policy", one(recording, ASG))
    assert "autoscaling" not in one(recording, "aws:iam/role:Role").inputs["assumeRolePolicy"]


@pytest.mark.parametrize(
    ("architecture", "parameter", "instance_type"),
    [
        ("x86_64", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", "t3.micro"),
        ("arm64", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64", "t4g.micro"),
    ],
)
def test_ami_is_the_latest_al2023_for_the_architecture(
    monkeypatch: pytest.MonkeyPatch, architecture: str, parameter: str, instance_type: str
) -> None:
    answers: dict[str, str] = {}
    answer = StackMocks.call

    def spy(self: StackMocks, args: Any) -> dict[str, Any]:
        result = answer(self, args)
        if args.token == "aws:ssm/getParameter:getParameter":
            answers[args.args["name"]] = result["insecureValue"]
        return result

    monkeypatch.setattr(StackMocks, "call", spy)
    recording = record(ROOT, "dev", program=PROGRAM, config_overrides={"hosttest:architecture": architecture})
    assert list(answers) == [parameter]
    inputs = one(recording, TEMPLATE).inputs
    assert inputs["imageId"] == answers[parameter]
    assert inputs["instanceType"] == instance_type


def test_user_data_is_the_rendered_bootstrap_for_the_pinned_image() -> None:
    assert user_data_of(host()) == render_user_data(
        region="eu-west-1",
        registry=f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com",
        image_reference=IMAGE,
        port=8000,
        counter_table="visits-table-1a2b3c4",
        app_version="9f8e7d6c5b4a",
    )


def test_a_new_image_digest_changes_the_user_data() -> None:
    other = f"{REPOSITORY_URL}@sha256:{'cd' * 32}"
    before = user_data_of(host())
    after = user_data_of(host(image=other))
    assert before != after
    assert other in after


def test_a_tagged_image_stops_the_program_naming_the_input() -> None:
    with pytest.raises(ProgramError) as raised:
        record(ROOT, "dev", program=PROGRAM, config_overrides={"hosttest:image": f"{REPOSITORY_URL}:latest"})
    assert "ContainerHost 'host': user data: image_reference" in raised.value.message
    assert "must be pinned by digest" in raised.value.message
    _mark_failed_futures_handled()


def _mark_failed_futures_handled() -> None:
    # A failed registration rejects every output future of the resource with the same error, and Pulumi's
    # runtime keeps them referenced until exit, when asyncio would log each one ("Future exception was never
    # retrieved", ~120 tracebacks). The test has already checked the error; mark those futures as seen.
    for candidate in gc.get_objects():
        if isinstance(candidate, asyncio.Future) and candidate.done() and not candidate.cancelled():
            candidate.exception()


# --- the role ---------------------------------------------------------------------------------


def test_role_is_trusted_by_ec2_only() -> None:
    role = one(host(), ROLE).inputs
    (trust,) = statements(role["assumeRolePolicy"])
    assert trust["Effect"] == "Allow"
    assert trust["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert "inlinePolicies" not in role
    assert "managedPolicyArns" not in role


def grants(recording: Recording) -> RecordedResource:
    (policy,) = [r for r in recording.by_type(ROLE_POLICY) if r.name == "host-policy"]
    return policy


def test_inline_policy_allows_pulling_this_repository_session_manager_and_the_counter_table_only() -> None:
    recording = host()
    assert depends_on(grants(recording), "role", one(recording, ROLE))
    policy = grants(recording).inputs
    granted = {}
    for statement in statements(policy["policy"]):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            granted[action] = statement["Resource"]
    assert granted == {
        "ecr:GetAuthorizationToken": "*",
        **dict.fromkeys(PULL_ACTIONS, REPOSITORY_ARN),
        **dict.fromkeys(SESSION_MANAGER_ACTIONS, "*"),
        "dynamodb:GetItem": TABLE_ARN,
        "dynamodb:UpdateItem": TABLE_ARN,
    }


def test_without_a_table_the_role_gets_no_dynamodb_access() -> None:
    policy = grants(host(table=False)).inputs["policy"]
    actions = {
        action
        for statement in statements(policy)
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    }
    assert actions == {"ecr:GetAuthorizationToken", *PULL_ACTIONS, *SESSION_MANAGER_ACTIONS}
    assert "readonly COUNTER_TABLE=''" in user_data_of(host(table=False))


SECRET_ARN = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:shipshape/api-key-AbCdEf"
PARAMETER_ARN = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/shipshape/db-password"
SETTINGS = {
    "environment": json.dumps({"FEATURE_FLAG": "on"}),
    "secrets": json.dumps({"API_KEY": SECRET_ARN, "DB_PASSWORD": PARAMETER_ARN}),
}


def test_the_role_may_read_exactly_the_named_secrets_with_the_actions_the_host_uses() -> None:
    recording = host(**SETTINGS)
    granted = {
        statement["Sid"]: (statement["Action"], statement["Resource"])
        for statement in statements(grants(recording).inputs["policy"])
    }
    assert granted["ReadNamedSecrets"] == ("secretsmanager:GetSecretValue", [SECRET_ARN])
    assert granted["ReadNamedParameters"] == ("ssm:GetParameter", [PARAMETER_ARN])
    assert "ReadNamedSecrets" not in {s["Sid"] for s in statements(grants(host()).inputs["policy"])}


def test_environment_and_secret_arns_reach_the_user_data_and_secret_values_never_do() -> None:
    script = user_data_of(host(**SETTINGS))
    assert "FEATURE_FLAG=on" in script
    assert f"API_KEY {SECRET_ARN}" in script
    assert f"DB_PASSWORD {PARAMETER_ARN}" in script


def test_settings_pass_environment_and_secrets_to_the_host() -> None:
    settings = parse_settings(
        {
            "hostEnabled": "true",
            "allowHttpWithoutCertificate": "true",
            "environment": '["FEATURE_FLAG=on"]',
            "secrets": json.dumps([f"API_KEY={SECRET_ARN}"]),
        },
        project="shipshape",
        stack="dev",
        region="eu-west-1",
    )
    wiring = {
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_id": "subnet-0123456789abcdef0",
        "repository_arn": REPOSITORY_ARN,
        "repository_url": REPOSITORY_URL,
        "image_reference": IMAGE,
    }
    args = settings.to_container_host_args(**wiring)
    assert dict(args.environment) == {"FEATURE_FLAG": "on"}
    assert dict(args.secrets) == {"API_KEY": SECRET_ARN}


def test_session_manager_is_granted_inline_without_any_managed_policy() -> None:
    recording = host()
    assert recording.by_type(ATTACHMENT) == []
    (session,) = [s for s in statements(grants(recording).inputs["policy"]) if s["Sid"] == "SessionManager"]
    assert set(session["Action"]) == set(SESSION_MANAGER_ACTIONS)
    assert "ssm:GetParameter" not in str(session)


def test_instance_profile_wraps_the_role() -> None:
    recording = host()
    assert one(recording, PROFILE).inputs["role"] == recording.outputs["roleName"]


# --- the security group -----------------------------------------------------------------------


def test_security_group_has_no_inline_rules_and_lives_in_the_vpc() -> None:
    group = one(host(), GROUP).inputs
    assert group["vpcId"] == "vpc-0123456789abcdef0"
    assert "ingress" not in group and "egress" not in group
    assert group["revokeRulesOnDelete"] is True


def test_app_port_is_open_to_the_load_balancer_group_and_the_named_cidrs_only() -> None:
    recording = host()
    group_id = recording.outputs["securityGroupId"]
    rules = {
        (r.inputs.get("referencedSecurityGroupId") or r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6")): r.inputs
        for r in recording.by_type(INGRESS)
    }
    assert set(rules) == {ALB_GROUP, "10.20.0.0/16"}
    for rule in rules.values():
        assert rule["securityGroupId"] == group_id
        assert (rule["ipProtocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 8000, 8000)


def test_without_a_load_balancer_or_cidrs_nothing_may_connect() -> None:
    assert host(alb=False, cidrs="[]").by_type(INGRESS) == []


def test_an_ipv6_range_becomes_an_ipv6_rule() -> None:
    (rule,) = host(alb=False, cidrs='["fd00:10::/64"]').by_type(INGRESS)
    assert rule.inputs["cidrIpv6"] == "fd00:10::/64"
    assert "cidrIpv4" not in rule.inputs
    assert rule.name == "host-in-fd00-10-64"


def test_without_endpoints_egress_is_https_to_anywhere_through_nat() -> None:
    (rule,) = host().by_type(EGRESS)
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)
    assert rule.inputs["cidrIpv4"] == "0.0.0.0/0"


def test_with_endpoints_egress_is_https_to_the_endpoints_only() -> None:
    recording = host(endpoints=True)
    group_id = recording.outputs["securityGroupId"]
    targets = {}
    for rule in recording.by_type(EGRESS):
        inputs = rule.inputs
        assert inputs["securityGroupId"] == group_id
        assert (inputs["ipProtocol"], inputs["fromPort"], inputs["toPort"]) == ("tcp", 443, 443)
        assert "cidrIpv4" not in inputs and "cidrIpv6" not in inputs, rule.name
        targets[rule.name] = inputs.get("referencedSecurityGroupId") or inputs.get("prefixListId")
    assert targets == {
        "host-out-endpoints": "sg-0eeeeeeeeeeeeeeee",
        "host-out-s3": "pl-6da54004",
        "host-out-dynamodb": "pl-6fa54006",
    }


def test_a_host_that_fails_and_powers_off_is_terminated_for_its_group_to_replace() -> None:
    # The bootstrap's fallback when it cannot call SetInstanceHealth (no Auto Scaling endpoint).
    assert one(host(), TEMPLATE).inputs["instanceInitiatedShutdownBehavior"] == "terminate"


# --- argument validation ----------------------------------------------------------------------


def args(**overrides: Any) -> ContainerHostArgs:
    values: dict[str, Any] = {
        "architecture": "x86_64",
        "region": "eu-west-1",
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_id": "subnet-0123456789abcdef0",
        "repository_arn": REPOSITORY_ARN,
        "repository_url": REPOSITORY_URL,
        "image_reference": IMAGE,
        "container_port": 8000,
    }
    values.update(overrides)
    return ContainerHostArgs(**values)


def test_valid_arguments_are_accepted() -> None:
    assert args().container_port == 8000


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"architecture": "amd64"}, "ContainerHostArgs.architecture = 'amd64': must be one of x86_64, arm64"),
        ({"instance_type": "t4g.micro"}, "ContainerHostArgs.instance_type = 't4g.micro': architecture is x86_64"),
        (
            {"allowed_cidrs": ("8.8.8.0/24",)},
            "ContainerHostArgs.allowed_cidrs = ('8.8.8.0/24',): '8.8.8.0/24': only private",
        ),
        ({"root_volume_gib": 4}, "ContainerHostArgs.root_volume_gib = 4"),
        ({"region": "Europe"}, "ContainerHostArgs.region = 'Europe'"),
        ({"container_port": 80}, "ContainerHostArgs.container_port = 80"),
        ({"image_reference": f"{REPOSITORY_URL}:latest"}, "ContainerHostArgs.image_reference = "),
        ({"counter_table_name": "visits"}, "counter_table_name and counter_table_arn go together"),
        ({"health_check_path": "health"}, "ContainerHostArgs.health_check_path = 'health'"),
        ({"environment": {"PORT": "9"}}, "ContainerHostArgs.environment = "),
        ({"environment": {"DB_PASSWORD": "hunter2"}}, "DB_PASSWORD looks like a secret: pass it through secrets"),
        ({"secrets": {"KEY": "not-an-arn"}}, "the value must be a Secrets Manager secret ARN or an SSM parameter ARN"),
        ({"environment": {"KEY": "x"}, "secrets": {"KEY": PARAMETER_ARN}}, "KEY also in environment"),
        (
            {"endpoint_prefix_list_ids": {"s3": "pl-6da54004"}},
            "ContainerHostArgs.endpoint_prefix_list_ids = {'s3': 'pl-6da54004'}: goes with endpoint_security_group_id",
        ),
        (
            {"endpoint_security_group_id": "sg-0eeeeeeeeeeeeeeee", "endpoint_prefix_list_ids": {"dynamodb": "pl-1"}},
            "needs the s3 gateway endpoint's prefix list",
        ),
    ],
)
def test_invalid_arguments_are_refused_naming_the_field(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        args(**overrides)
    assert message in str(raised.value)
