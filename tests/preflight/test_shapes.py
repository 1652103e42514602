"""Programs of every common shape (tests/preflight/programs/shapes/), recorded as the CLI runs them and
judged by the real pack over the analyzer protocol: verdict, findings, coverage and the list of what
was not judged offline, each exact."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format

from preflight.analyzer import PolicyPack
from preflight.marshal import for_analyzer
from preflight.mocks import UNKNOWN
from preflight.model import Report
from preflight.policy_config import policies_of
from preflight.recorder import ProgramError, Recording, record
from tests.conftest import ROOT

SHAPES = Path(__file__).parent / "programs" / "shapes"
POLICY_CONFIG = SHAPES / "policy-config.json"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pack():
    """The real pack, started once, configured with the shapes' policy config: (pack, levels)."""
    with PolicyPack(ROOT / "policies", project="shapes", stack="test", config={}) as running:
        yield running, running.configure(json.loads(POLICY_CONFIG.read_text()))


def preview(started: tuple[PolicyPack, dict[str, str]], project_dir: Path) -> tuple[Recording, Report]:
    """What `python -m preflight` computes for the project, as a Report."""
    pack, levels = started
    recording = record(project_dir, "test")
    diagnostics = pack.analyze(recording.resources)
    report = Report(
        project=recording.project,
        stack=recording.stack,
        resources=recording.resources,
        outputs=recording.outputs,
        policies=policies_of(pack.info(), levels),
        diagnostics=diagnostics,
        coverage=pack.coverage,
        unanswered_data_sources=recording.unanswered_data_sources,
    )
    return recording, report


def short(urn: str) -> str:
    parts = urn.split("::")
    return f"{parts[-2].split('$')[-1]}::{parts[-1]}"


def findings(report: Report) -> set[tuple[str, str, str]]:
    return {(d.level, d.policy, short(d.urn)) for d in report.diagnostics if not d.cannot_judge}


def coverage(report: Report) -> tuple[int, int, set[str]]:
    assert report.coverage is not None
    return len(report.coverage.judged), report.coverage.total, {short(urn) for urn in report.coverage.unjudged}


def test_resource_references_reach_the_pack_as_ids_and_urns(pack) -> None:
    recording, report = preview(pack, SHAPES / "references")
    ids = recording.outputs["ids"]  # what the program saw as each resource's id and the component's URN
    assert ids["vpc"].startswith("vpc-") and ids["site"] == recording.one("shapes:site:StaticSite").urn
    assert recording.one("aws:ec2/securityGroup:SecurityGroup").inputs["vpcId"] == ids["vpc"]
    assert recording.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs["role"] == ids["role"]
    access = recording.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert access.inputs["bucket"] == ids["bucket"]
    assert recording.one("aws:ec2/subnet:Subnet").inputs["tags"] == {"site": ids["site"]}
    # The SDK sent references; what the pack receives holds none.
    for resource in recording.resources:
        assert "5cf8f73096256a8f31e491e813e4eb8e" not in json.dumps(
            json_format.MessageToDict(for_analyzer(resource.inputs_struct))
        )
    assert report.exit_code == 1
    assert findings(report) == {
        ("mandatory", "aws-ec2-security-group-no-world-ingress", "aws:ec2/securityGroup:SecurityGroup::ssh"),
        # AmazonECSTaskExecutionRolePolicy grants ECR pulls on "*": judged by its document like an inline policy.
        (
            "advisory",
            "aws-iam-no-privileged-managed-policies",
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment::ecs-task-logs",
        ),
    }
    assert coverage(report) == (5, 7, {"aws:ec2/vpc:Vpc::main", "aws:ec2/subnet:Subnet::app"})
    assert report.not_judged_offline == []


def test_main_in_a_subfolder_runs_there_with_its_own_modules(pack) -> None:
    recording, report = preview(pack, SHAPES / "main_subfolder")
    assert [r.name for r in recording.resources] == ["subfolder-logs"]
    assert recording.outputs == {"logGroup": recording.resources[0].outputs["name"]}
    assert report.exit_code == 0 and findings(report) == set()
    assert coverage(report) == (1, 1, set())


POLICY_JSON = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadLogs",
      "Effect": "Allow",
      "Action": [
        "logs:GetLogEvents",
        "logs:DescribeLogStreams"
      ],
      "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:app:*"
    },
    {
      "Sid": "Everything",
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": "arn:aws:s3:::shapes-data/*"
    }
  ]
}"""


def test_data_sources_are_answered_and_the_unanswered_one_is_named(pack) -> None:
    recording, report = preview(pack, SHAPES / "data_sources")
    assert recording.one("aws:iam/policy:Policy").inputs["policy"] == POLICY_JSON
    instance = recording.one("aws:ec2/instance:Instance").inputs
    assert instance["ami"].startswith("ami-0") and instance["subnetId"].startswith("subnet-")
    assert instance["availabilityZone"] == "eu-west-1a"
    assert instance["tags"]["engine"] == UNKNOWN
    assert instance["tags"]["registry"] == "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    record_inputs = recording.one("aws:route53/record:Record").inputs
    assert record_inputs["name"] == "host.example.com" and record_inputs["zoneId"].startswith("Z")
    peer = recording.one("aws:ec2/securityGroup:SecurityGroup").inputs
    assert peer["vpcId"] == "vpc-0123456789abcdef0" and peer["tags"] == {"network": UNKNOWN}
    assert report.unanswered_data_sources == [
        "aws:rds/getEngineVersion:getEngineVersion",
        "pulumi:pulumi:StackReference acme/network/prod",
    ]
    assert recording.outputs == {"registry": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", "engine": UNKNOWN}
    assert report.exit_code == 1
    assert findings(report) == {
        ("mandatory", "aws-iam-no-wildcard-actions", "aws:iam/policy:Policy::reader"),
        ("advisory", "aws-iam-no-wildcard-resources", "aws:iam/policy:Policy::reader"),
    }
    assert coverage(report) == (3, 4, {"aws:route53/record:Record::host"})


def test_remote_components_are_judged_by_their_inputs_and_listed(pack) -> None:
    recording, report = preview(pack, SHAPES / "remote")
    assert sorted(short(r.urn) for r in report.not_judged_offline) == [
        "aws-apigateway:index:RestAPI::api",
        "awsx:ec2:Vpc::network",
        "awsx:ecr:Repository::app",
        "awsx:ecs:FargateService::web",
        "awsx:lb:ApplicationLoadBalancer::web",
        "eks:index:Cluster::k8s",
        "synced-folder:index:S3BucketFolder::site",
    ]
    # awsx's defaults: three zones, one private subnet each; resource-typed outputs stay unknown.
    assert len(recording.outputs["privateSubnets"]) == 3
    assert recording.outputs["vpcId"] == recording.one("awsx:ec2:Vpc").outputs["vpcId"]
    assert recording.outputs["albDns"] == UNKNOWN
    service = recording.one("awsx:ecs:FargateService").inputs
    assert service["networkConfiguration"]["subnets"] == recording.outputs["privateSubnets"]
    # awsx components are judged by their own inputs (the pack's awsx rules); awsx's insecure defaults show.
    assert report.exit_code == 0
    repository, service, alb = (
        "awsx:ecr:Repository::app",
        "awsx:ecs:FargateService::web",
        "awsx:lb:ApplicationLoadBalancer::web",
    )
    assert findings(report) == {
        ("advisory", "aws-ecr-repository-immutable-tags", repository),
        ("advisory", "aws-ecr-repository-kms-encryption", repository),
        ("advisory", "aws-ecr-repository-scan-on-push", repository),
        ("advisory", "aws-ecs-service-circuit-breaker", service),
        ("advisory", "aws-ecs-task-definition-non-root", service),
        ("advisory", "aws-ecs-task-definition-private-image", service),
        ("advisory", "aws-ecs-task-definition-read-only-root", service),
        ("advisory", "aws-lb-access-logs", alb),
        ("advisory", "aws-lb-deletion-protection", alb),
        ("advisory", "aws-lb-drop-invalid-headers", alb),
        ("advisory", "aws-lb-listener-https", alb),
    }
    unjudged = {"aws-apigateway:index:RestAPI::api", "awsx:ec2:Vpc::network", "eks:index:Cluster::k8s"}
    assert coverage(report) == (4, 8, unjudged | {"synced-folder:index:S3BucketFolder::site"})


def test_an_rds_address_in_a_task_definition_is_known_so_the_password_is_found(pack) -> None:
    recording, report = preview(pack, SHAPES / "rds_task")
    address = recording.one("aws:rds/instance:Instance").outputs["address"]
    assert address.endswith(".eu-west-1.rds.amazonaws.com")
    containers = json.loads(recording.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])
    assert {"name": "DB_HOST", "value": address} in containers[0]["environment"]
    assert report.cannot_judge == []
    assert report.exit_code == 1
    assert findings(report) == {
        (
            "mandatory",
            "aws-ecs-task-definition-no-secrets-in-environment",
            "aws:ecs/taskDefinition:TaskDefinition::orders",
        )
    }
    assert coverage(report) == (4, 5, {"aws:rds/instance:Instance::orders"})


def _own_package_project(tmp_path: Path, *, with_venv: bool) -> Path:
    project = tmp_path / "own_package"
    shutil.copytree(SHAPES / "own_package", project)
    if with_venv:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project / "venv")], check=True)
        (site_packages,) = (project / "venv").glob("lib/python3*/site-packages")
        package = site_packages / "shapes_naming"
        package.mkdir()
        (package / "__init__.py").write_text('def group_name(purpose):\n    return f"shapes-{purpose}-group"\n')
    return project


def test_a_program_imports_packages_from_its_own_virtualenv(pack, tmp_path: Path) -> None:
    recording, report = preview(pack, _own_package_project(tmp_path, with_venv=True))
    assert recording.outputs == {"group": "shapes-data-group"}
    assert "shapes_naming" not in sys.modules or "venv" in sys.modules["shapes_naming"].__file__
    assert str(tmp_path) not in ":".join(sys.path)
    assert report.exit_code == 0 and coverage(report) == (0, 1, {"aws:resourcegroups/group:Group::data"})
    assert report.coverage is not None and not report.coverage.in_scope


def test_a_missing_virtualenv_is_named_when_an_import_fails(tmp_path: Path) -> None:
    project = _own_package_project(tmp_path, with_venv=False)
    with pytest.raises(ProgramError) as caught:
        record(project, "test")
    message = caught.value.message
    assert "No module named 'shapes_naming'" in message
    assert "runtime.options.virtualenv to 'venv'" in message and str(project / "venv") in message


def run_cli(project: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "preflight", "--project-dir", str(project), "--stack", "test"]
    command += ["--policy-pack", str(ROOT / "policies"), "--policy-config", str(POLICY_CONFIG)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)


def test_the_cli_previews_another_project_to_its_verdict() -> None:
    result = run_cli(SHAPES / "data_sources")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "aws-iam-no-wildcard-actions" in result.stdout
    assert "no offline answer for data source aws:rds/getEngineVersion:getEngineVersion" in result.stderr
    assert "Traceback" not in result.stderr


def test_short_hand_untyped_and_undeclared_config_reach_the_program(pack) -> None:
    """replicas is short-hand (its default 2, overridden by the stack's 3), team an untyped declaration with a
    default, bucketSuffix declared nowhere, aws:defaultTags a map: all reach the program as the CLI passes them."""
    recording, report = preview(pack, SHAPES / "config_shapes")
    assert [r.name for r in recording.resources] == ["payments-logs-0", "payments-logs-1", "payments-logs-2"]
    assert recording.outputs == {"team": "payments"}
    assert report.exit_code == 0
    buckets = {f"aws:s3/bucket:Bucket::payments-logs-{i}" for i in range(3)}
    assert findings(report) == {("advisory", "aws-s3-bucket-public-access-block", bucket) for bucket in buckets}
    assert coverage(report) == (3, 3, set())
