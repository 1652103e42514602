"""The recorder: registrations kept as the engine would get them, outputs resolved, failures as messages."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from preflight import language_host
from preflight.mocks import ACCOUNT, UNKNOWN
from preflight.recorder import ProgramError, Recording, record
from preflight.stack_config import SECRET_PLACEHOLDER, ConfigError

HERE = Path(__file__).parent
PROJECT = HERE / "project"
PROGRAMS = HERE / "programs"
STACK_URN = "urn:pulumi:test::tiny::pulumi:pulumi:Stack::tiny-test"
STORE_URN = "urn:pulumi:test::tiny::tiny:storage:Storage::store"


@pytest.fixture(scope="module")
def tiny() -> Recording:
    return record(PROJECT, "test")


def test_resources_in_registration_order_without_the_stack(tiny: Recording) -> None:
    assert [(r.type, r.name) for r in tiny.resources] == [
        ("tiny:storage:Storage", "store"),
        ("aws:iam/role:Role", "reader"),
        ("aws:s3/bucket:Bucket", "store-0"),
        ("aws:s3/bucket:Bucket", "store-1"),
        ("aws:dynamodb/table:Table", "store-table"),
        ("aws:iam/rolePolicy:RolePolicy", "reader"),
    ]
    assert (tiny.project, tiny.stack) == ("tiny", "test")


def test_children_of_a_component_carry_its_urn(tiny: Recording) -> None:
    store = tiny.one("tiny:storage:Storage")
    assert store.urn == STORE_URN and store.parent == STACK_URN and not store.custom
    bucket = tiny.one("aws:s3/bucket:Bucket", "store-0")
    assert bucket.parent == STORE_URN
    assert bucket.urn == "urn:pulumi:test::tiny::tiny:storage:Storage$aws:s3/bucket:Bucket::store-0"
    assert {r.name for r in tiny.children(store)} == {"store-0", "store-1", "store-table"}


def test_inputs_are_the_engines_camel_case_struct(tiny: Recording) -> None:
    table = tiny.one("aws:dynamodb/table:Table")
    assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
    assert table.inputs["attributes"] == [{"name": "id", "type": "S"}]
    assert table.inputs_struct.fields["hashKey"].string_value == "id"
    assert "billing_mode" not in table.inputs


def test_dependencies_and_property_dependencies_are_recorded(tiny: Recording) -> None:
    policy = tiny.one("aws:iam/rolePolicy:RolePolicy")
    role = tiny.one("aws:iam/role:Role")
    buckets = {r.urn for r in tiny.by_type("aws:s3/bucket:Bucket")}
    assert set(policy.dependencies) == buckets | {role.urn}
    assert policy.property_dependencies["role"] == (role.urn,)
    assert set(policy.property_dependencies["policy"]) == buckets


def test_resource_options_are_recorded(tiny: Recording) -> None:
    assert tiny.one("aws:dynamodb/table:Table").options == {"protect": True, "ignoreChanges": ["tags"]}
    assert tiny.one("aws:iam/role:Role").options == {}


def test_outputs_resolve_into_documents_built_from_them(tiny: Recording) -> None:
    policy = tiny.one("aws:iam/rolePolicy:RolePolicy")
    arns = tiny.outputs["bucketArns"]
    assert [a.split("-")[0] for a in arns] == ["arn:aws:s3:::store", "arn:aws:s3:::store"]
    assert f'"Resource": ["{arns[0]}/*", "{arns[1]}/*"]' in policy.inputs["policy"]
    assert tiny.outputs["roleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/reader-")
    assert tiny.outputs["readers"] == ["111122223333"], "array config reaches the program as JSON"


def test_component_outputs_are_what_it_registered(tiny: Recording) -> None:
    store = tiny.one("tiny:storage:Storage")
    assert [name.split("-")[:2] for name in store.outputs["bucketNames"]] == [["store", "0"], ["store", "1"]]


def test_config_overrides_and_secrets_reach_the_program() -> None:
    recording = record(PROJECT, "test", config_overrides={"tiny:bucketCount": 3, "apiToken": {"secure": "v1:abc"}})
    assert len(recording.by_type("aws:s3/bucket:Bucket")) == 3
    assert recording.config["tiny:bucketCount"] == "3"
    assert recording.outputs["apiTokenIsSecret"] == SECRET_PLACEHOLDER


def test_unknowns_mode_marks_computed_outputs_unknown() -> None:
    recording = record(PROJECT, "test", unknowns=True)
    policy = recording.one("aws:iam/rolePolicy:RolePolicy")
    assert policy.inputs_struct.fields["policy"].string_value == UNKNOWN
    assert policy.inputs["role"] == UNKNOWN
    assert recording.outputs["roleArn"] == UNKNOWN
    assert recording.one("aws:iam/role:Role").inputs["assumeRolePolicy"].startswith("{")


def test_record_runs_many_times_in_one_process_and_is_deterministic(tiny: Recording) -> None:
    again = record(PROJECT, "test")
    assert [r.urn for r in again.resources] == [r.urn for r in tiny.resources]
    assert [r.inputs for r in again.resources] == [r.inputs for r in tiny.resources]
    assert again.outputs == tiny.outputs


def test_a_run_error_is_the_message_without_a_traceback() -> None:
    with pytest.raises(ProgramError) as caught:
        record(PROJECT, "test", program=PROGRAMS / "settings_error.py")
    assert caught.value.message == (
        "invalid stack settings:\n  tiny:cpu = 300: must be one of 256, 512\n  tiny:team: required"
    )
    assert "Traceback" not in caught.value.message


def test_an_unexpected_error_names_the_file_and_line() -> None:
    with pytest.raises(ProgramError) as caught:
        record(PROJECT, "test", program=PROGRAMS / "crashing.py")
    assert caught.value.message == "crashing.py:7: KeyError: 'port'"


def test_a_data_source_without_an_answer_is_unknown_and_named_never_an_abort() -> None:
    recording = record(PROJECT, "test", program=PROGRAMS / "unknown_invoke.py")
    assert recording.unanswered_data_sources == ["aws:rds/getEngineVersion:getEngineVersion"]
    assert recording.one("aws:s3/bucket:Bucket").inputs["tags"] == {"engine": UNKNOWN, "plain": "unset"}
    assert recording.outputs == {"engineVersion": UNKNOWN}


def test_a_data_source_refusal_names_the_data_source_and_the_providers_reason() -> None:
    with pytest.raises(ProgramError) as caught:
        record(PROJECT, "test", program=PROGRAMS / "bad_policy_document.py")
    assert "invoke of aws:iam/getPolicyDocument:getPolicyDocument failed" in caught.value.message
    assert "duplicate Sid (Read)" in caught.value.message


def test_logged_errors_fail_the_run_and_warnings_are_kept() -> None:
    with pytest.raises(ProgramError, match=r"no certificate for the HTTPS listener"):
        record(PROJECT, "test", program=PROGRAMS / "logs_error.py")


def test_bad_config_is_a_config_error_before_the_program_runs() -> None:
    with pytest.raises(ConfigError, match=r"tiny:bucketCount = \"two\": expected integer"):
        record(PROJECT, "test", config_overrides={"tiny:bucketCount": "two"})


def test_each_project_directory_imports_its_own_modules(tmp_path: Path) -> None:
    for variant, region in (("a", "eu-west-1"), ("b", "us-west-2")):
        project = tmp_path / variant
        (project / "helpers").mkdir(parents=True)
        shutil.copy(PROJECT / "Pulumi.yaml", project)
        (project / "Pulumi.test.yaml").write_text(f"config:\n  aws:region: {region}\n")
        (project / "helpers" / "__init__.py").write_text(f"VARIANT = {variant!r}\n")
        (project / "__main__.py").write_text(
            "import pulumi\nimport helpers\npulumi.export('variant', helpers.VARIANT)\n"
        )
    assert record(tmp_path / "a", "test").outputs == {"variant": "a"}
    assert record(tmp_path / "b", "test").outputs == {"variant": "b"}


def test_a_project_whose_virtualenv_is_preflights_own_keeps_the_sdk_loaded(record_stack) -> None:
    # This repository's Pulumi.yaml names .venv, the environment preflight itself runs in: its packages
    # belong to preflight and must survive the switch to another project.
    record_stack("dev")
    tracked = [name for name in language_host.loaded_from if "site-packages" in str(sys.modules[name].__file__)]
    assert tracked == []
    recording = record(Path(__file__).parent / "programs" / "shapes" / "data_sources", "test")
    assert recording.one("aws:ec2/instance:Instance").inputs["ami"].startswith("ami-0")
