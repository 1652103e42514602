"""preflight.reports: Markdown and Mermaid against golden files, JSON against its schema, odd values."""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import jsonschema
import pulumi
import pytest
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc

from preflight.model import MANDATORY, Diagnostic, RecordedResource, Report
from preflight.reports import FILE_NAMES, FORMATS, render, write_all
from preflight.reports.common import source_file
from preflight.reports.json_report import load_schema
from preflight.reports.markdown import COMMENT_LIMIT, cell
from preflight.reports.mermaid import canonical_type
from preflight.reports.values import SECRET, UNKNOWN, resource_inputs, to_json
from tests.conftest import ROOT
from tests.preflight.example_report import example_report, scaled_report, secret
from tests.preflight.golden_files import assert_matches_golden


def _shuffled(report: Report) -> Report:
    """The same report in another order: reversed, then every other item first."""

    def reorder(items: list) -> list:
        backwards = items[::-1]
        return backwards[::2] + backwards[1::2]

    return dataclasses.replace(
        report,
        resources=reorder(report.resources),
        diagnostics=reorder(report.diagnostics),
        policies=reorder(report.policies),
    )


def _struct(value: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def _resource(report: Report, resource_type: str, name: str) -> RecordedResource:
    return next(r for r in report.resources if r.type == resource_type and r.name == name)


# --- golden files -------------------------------------------------------------------------------


def test_markdown_matches_golden() -> None:
    assert_matches_golden("example_report.md", render(example_report(), "markdown"))


def test_mermaid_matches_golden() -> None:
    assert_matches_golden("example_architecture.mmd", render(example_report(), "mermaid"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_ignores_recording_order(fmt: str) -> None:
    report = example_report()
    assert render(_shuffled(report), fmt) == render(report, fmt)


def test_unknown_format_names_the_allowed_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown report format 'html'; choose one of: text, markdown, json, sarif, mermaid"
    ):
        render(example_report(), "html")


def test_write_all_writes_every_format_with_the_rendered_text(tmp_path: Path) -> None:
    report = example_report()
    written = write_all(report, tmp_path / "out")
    assert [path.name for path in written] == [
        "report.txt",
        "report.md",
        "report.json",
        "report.sarif",
        "architecture.mmd",
    ]
    for fmt in FORMATS:
        assert (tmp_path / "out" / FILE_NAMES[fmt]).read_text(encoding="utf-8") == render(report, fmt)


def test_write_all_refuses_a_file_as_output_directory(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("not a directory")
    with pytest.raises(ValueError, match="exists and is not a directory"):
        write_all(example_report(), target)


# --- Markdown -----------------------------------------------------------------------------------


def test_markdown_starts_with_the_sticky_comment_marker() -> None:
    assert render(example_report(), "markdown").startswith("<!-- shipshape-preflight -->\n")


def test_markdown_lists_only_mandatory_violations_in_the_open_table() -> None:
    text = render(example_report(), "markdown")
    violations = text.split("### Violations", 1)[1].split("###", 1)[0]
    assert "aws-iam-no-wildcard-actions" in violations
    assert "aws-ecr-repository-immutable-tags" not in violations
    assert "<summary>Advisories (4)</summary>" in text
    assert "<summary>Cannot judge yet (1)" in text


def test_clean_report_says_so_and_shows_no_empty_sections() -> None:
    report = dataclasses.replace(example_report(), diagnostics=[])
    text = render(report, "markdown")
    assert "✅ **No mandatory violations**: the policy pack would let this deployment through." in text
    assert "None: no mandatory rule is violated." in text
    assert "Advisories" not in text and "Cannot judge" not in text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a | b", "a \\| b"),
        ("<script>", "&lt;script&gt;"),
        ("first\nsecond", "first<br>second"),
        ("", " "),
    ],
)
def test_table_cells_cannot_break_the_table_or_inject_html(raw: str, expected: str) -> None:
    assert cell(raw) == expected


def test_large_report_fits_a_pull_request_comment_and_says_what_was_left_out() -> None:
    text = render(scaled_report(2000), "markdown")
    assert len(text) <= COMMENT_LIMIT
    assert "left out to fit a pull-request comment" in text
    assert "### Violations" in text


def test_small_report_keeps_every_section() -> None:
    text = render(example_report(), "markdown")
    assert "left out" not in text
    assert "<summary>All resources (22)</summary>" in text


# --- JSON ---------------------------------------------------------------------------------------


def test_json_report_validates_against_its_schema() -> None:
    document = json.loads(render(example_report(), "json"))
    jsonschema.Draft202012Validator.check_schema(load_schema())
    jsonschema.validate(document, load_schema(), cls=jsonschema.Draft202012Validator)


def test_schema_rejects_a_report_missing_its_version() -> None:
    document = json.loads(render(example_report(), "json"))
    del document["schemaVersion"]
    with pytest.raises(jsonschema.ValidationError, match="schemaVersion"):
        jsonschema.validate(document, load_schema(), cls=jsonschema.Draft202012Validator)


def test_json_is_sorted_and_has_no_timestamps_besides_elapsed() -> None:
    text = render(example_report(), "json")
    document = json.loads(text)
    assert text == json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert [r["urn"] for r in document["resources"]] == sorted(r["urn"] for r in document["resources"])
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text)
    assert document["elapsedSeconds"] == 1.25


def test_json_summary_counts_match_the_report() -> None:
    summary = json.loads(render(example_report(), "json"))["summary"]
    assert summary == summary | {
        "verdict": "fail",
        "exitCode": 1,
        "resources": 22,
        "components": 7,
        "providers": 1,
        "mandatory": 1,
        "advisory": 4,
        "cannotJudge": 1,
        "policies": 7,
    }
    assert summary["resourcesByType"]["aws:iam/role:Role"] == 3


def test_json_masks_secrets_marks_unknowns_and_writes_whole_numbers_as_integers() -> None:
    document = json.loads(render(example_report(), "json"))
    by_name = {(r["type"], r["name"]): r for r in document["resources"]}
    image = by_name[("docker:index/image:Image", "app")]["inputs"]
    instance = by_name[("aws:ec2/instance:Instance", "host")]["inputs"]
    assert image["registry"]["password"] == SECRET
    assert instance["userData"] == UNKNOWN
    assert instance["metadataOptions"]["httpPutResponseHopLimit"] == 2
    assert isinstance(instance["metadataOptions"]["httpPutResponseHopLimit"], int)
    assert document["outputs"]["databasePassword"] == SECRET
    assert "hunter2" not in json.dumps(document) and "token" not in json.dumps(image)


def test_struct_signatures_become_deliberate_json() -> None:
    sig = rpc._special_sig_key
    struct = _struct(
        {
            "secret": {sig: rpc._special_secret_sig, "value": "s3cr3t"},
            "reference": {
                sig: rpc._special_resource_sig,
                "urn": "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b",
                "id": "",
            },
            "known": {sig: rpc._special_output_value_sig, "value": 3.0},
            "pending": {sig: rpc._special_output_value_sig},
            "hidden": {sig: rpc._special_output_value_sig, "value": "x", "secret": True},
            "asset": {sig: rpc._special_asset_sig, "path": "app/Dockerfile"},
            "archive": {sig: rpc._special_archive_sig, "assets": {"a": {sig: rpc._special_asset_sig, "text": "hi"}}},
            "unknown": rpc.UNKNOWN,
            "ratio": 0.5,
            "nested": [{"deep": {sig: rpc._special_secret_sig, "value": 1.0}}],
        }
    )
    assert resource_inputs(struct, {}) == {
        "secret": SECRET,
        "reference": {"resourceRef": {"urn": "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b", "id": UNKNOWN}},
        "known": 3,
        "pending": UNKNOWN,
        "hidden": SECRET,
        "asset": {"asset": {"path": "app/Dockerfile"}},
        "archive": {"archive": {"assets": {"a": {"asset": {"text": "hi"}}}}},
        "unknown": UNKNOWN,
        "ratio": 0.5,
        "nested": [{"deep": SECRET}],
    }


class _Tier(enum.Enum):
    SMALL = "small"


@dataclasses.dataclass
class _Settings:
    size: int


class _Opaque:
    pass


def test_python_values_without_a_json_form_are_converted_deliberately() -> None:
    converted = to_json(
        {
            "bytes": b"\x00\xff",
            "set": {3, 1, 2},
            "path": PurePosixPath("app/Dockerfile"),
            "enum": _Tier.SMALL,
            "dataclass": _Settings(size=2),
            "nan": float("nan"),
            "huge": float(2**60),
            "unknown": Unknown(),
            "sentinel": rpc.UNKNOWN,
            "secret": secret("pw"),
            "asset": pulumi.StringAsset("hello"),
            "archive": pulumi.AssetArchive({"f": pulumi.FileAsset("a.txt")}),
            "opaque": _Opaque(),
            1: "non-string key",
        }
    )
    assert converted == {
        "1": "non-string key",
        "archive": {"archive": {"assets": {"f": {"asset": {"path": "a.txt"}}}}},
        "asset": {"asset": {"text": "hello"}},
        "bytes": {"bytesBase64": "AP8="},
        "dataclass": {"size": 2},
        "enum": "small",
        "huge": float(2**60),
        "nan": "nan",
        "opaque": "[_Opaque]",
        "path": "app/Dockerfile",
        "secret": SECRET,
        "sentinel": UNKNOWN,
        "set": [1, 2, 3],
        "unknown": UNKNOWN,
    }
    json.dumps(converted, allow_nan=False)


def test_deserialized_inputs_are_used_when_the_recorder_kept_no_struct() -> None:
    assert resource_inputs(struct_pb2.Struct(), {"port": 80.0, "password": secret("pw")}) == {
        "password": SECRET,
        "port": 80,
    }


# --- Mermaid ------------------------------------------------------------------------------------


def _mermaid_ids(text: str) -> set[str]:
    ids = set(re.findall(r"^\s*(?:subgraph )?([^\s\[(]+)[\[(]", text, flags=re.MULTILINE))
    for source, target in re.findall(r"^\s*(\S+) -\.?-> (\S+)$", text, flags=re.MULTILINE):
        ids.update((source, target))
    return ids


def _node(text: str, name: str, short_type: str) -> str:
    match = re.search(rf'^\s*(r_\w+)\["{re.escape(name)}<br/>{re.escape(short_type)}"\]$', text, flags=re.MULTILINE)
    assert match, f"no node for {name} ({short_type}) in:\n{text}"
    return match.group(1)


def test_mermaid_draws_the_main_paths_from_recorded_dependencies() -> None:
    text = render(example_report(), "mermaid")
    lines = set(text.splitlines())
    alb, listener, target_group = (
        _node(text, n, t)
        for n, t in [("web", "lb.LoadBalancer"), ("web-http", "lb.Listener"), ("web", "lb.TargetGroup")]
    )
    service, task, image = (
        _node(text, n, t) for n, t in [("web", "ecs.Service"), ("web", "ecs.TaskDefinition"), ("app", "docker.Image")]
    )
    repository = _node(text, "registry", "ecr.Repository")
    instance, profile, role = (_node(text, "host", t) for t in ("ec2.Instance", "iam.InstanceProfile", "iam.Role"))
    expected = [
        f"  internet --> {alb}",
        f"  {alb} --> {listener}",
        f"  {listener} --> {target_group}",
        f"  {target_group} --> {service}",
        f"  {service} -.-> {task}",
        f"  {task} -.-> {image}",
        f"  {image} -.-> {repository}",
        f"  {instance} -.-> {profile}",
        f"  {profile} -.-> {role}",
    ]
    assert [edge for edge in expected if edge not in lines] == []


def test_mermaid_edge_disappears_when_the_dependency_does() -> None:
    report = example_report()
    listener = _resource(report, "aws:lb/listener:Listener", "web-http")
    cut = dataclasses.replace(
        listener,
        dependencies=tuple(u for u in listener.dependencies if "targetGroup" not in u),
        property_dependencies={k: v for k, v in listener.property_dependencies.items() if k != "defaultActions"},
    )
    resources = [cut if r is listener else r for r in report.resources]
    before = render(report, "mermaid")
    after = render(dataclasses.replace(report, resources=resources), "mermaid")
    listener_id = re.search(r"(r_web_http_\w+)\[", before).group(1)
    assert re.search(rf"^  {listener_id} --> r_web_\w+$", before, flags=re.MULTILINE)
    assert not re.search(rf"^  {listener_id} --> r_web_\w+$", after, flags=re.MULTILINE)


def test_mermaid_ids_are_safe_and_labels_escaped() -> None:
    report = example_report()
    repository = _resource(report, "aws:ecr/repository:Repository", "registry")
    odd = dataclasses.replace(repository, name='end "quoted" <b>#1', urn=repository.urn + "-odd")
    image = _resource(report, "docker:index/image:Image", "app")
    linked = dataclasses.replace(image, dependencies=(*image.dependencies, odd.urn))
    resources = [linked if r is image else r for r in report.resources] + [odd]
    text = render(dataclasses.replace(report, resources=resources), "mermaid")
    assert _mermaid_ids(text)
    for identifier in _mermaid_ids(text):
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", identifier), identifier
        assert identifier != "end"
    assert "end #quot;quoted#quot; #lt;b#gt;#35;1<br/>ecr.Repository" in text


def test_mermaid_collapses_components_off_the_main_paths_into_one_counted_node() -> None:
    text = render(example_report(), "mermaid")
    assert re.search(r'^  c_net_\w+\["net · Network · 7 resources"\]$', text, flags=re.MULTILINE)
    assert "subnet" not in text.lower()


def test_mermaid_marks_violations() -> None:
    text = render(example_report(), "mermaid")
    task_role = re.search(r"(r_web_task_\w+)\[\"web-task<br/>iam.Role", text).group(1)
    assert f"  class {task_role} mandatory" in text


def test_classic_alb_types_count_as_load_balancer_types() -> None:
    assert canonical_type("aws:alb/listener:Listener") == "aws:lb/listener:Listener"
    assert canonical_type("aws:ecs/service:Service") == "aws:ecs/service:Service"


# --- where a verdict points ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("urn", "expected"),
    [
        (
            "urn:pulumi:dev::shipshape::shipshape:web_service:WebService$aws:iam/role:Role::web-task",
            "components/web_service.py",
        ),
        (
            "urn:pulumi:dev::shipshape::shipshape:network:Network$awsx:ec2:Vpc$aws:ec2/vpc:Vpc::net",
            "components/network.py",
        ),
        ("urn:pulumi:dev::shipshape::aws:ecr/repository:Repository::loose", "__main__.py"),
        ("urn:pulumi:dev::shipshape::pulumi:pulumi:Stack::shipshape-dev", "Pulumi.dev.yaml"),
        ("", "Pulumi.dev.yaml"),
        ("not-a-urn", "Pulumi.dev.yaml"),
    ],
)
def test_source_file_points_at_the_file_that_declares_the_resource(urn: str, expected: str) -> None:
    assert source_file(urn, example_report()) == expected


def test_a_mandatory_verdict_on_an_unrecorded_urn_still_renders() -> None:
    report = example_report()
    stray = Diagnostic(
        policy="aws-new-rule", level=MANDATORY, urn="urn:pulumi:dev::shipshape::aws:s3/bucket:Bucket::gone", message="m"
    )
    extended = dataclasses.replace(report, diagnostics=[*report.diagnostics, stray])
    assert "gone (s3.Bucket)" in render(extended, "markdown")
    assert "aws-new-rule" in render(extended, "sarif")


# --- Mermaid, parsed by Mermaid itself (when node and the npm packages are installed) -------------

MERMAID_TOOLS = Path(os.environ.get("MERMAID_TOOLS", ROOT / ".tools"))
_MERMAID_PARSER = """
import fs from "node:fs";
import { JSDOM } from "jsdom";
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const mermaid = (await import("mermaid")).default;
const failures = [];
for (const file of process.argv.slice(1)) {
  try { await mermaid.parse(fs.readFileSync(file, "utf8")); }
  catch (error) { failures.push(file + ": " + String(error.message ?? error)); }
}
process.stdout.write(failures.join("\\n"));
process.exit(failures.length ? 1 : 0);
"""


def _parse_with_mermaid(files: list[Path]) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    modules = MERMAID_TOOLS / "node_modules"
    if not node or not (modules / "mermaid").is_dir() or not (modules / "jsdom").is_dir():
        pytest.skip("mermaid parser not available: `npm install --prefix .tools mermaid@11 jsdom@29` (needs node)")
    return subprocess.run(
        [node, "--input-type=module", "-e", _MERMAID_PARSER, *map(str, files)],
        cwd=MERMAID_TOOLS,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_mermaid_output_parses_with_mermaid(tmp_path: Path) -> None:
    report = example_report()
    repository = _resource(report, "aws:ecr/repository:Repository", "registry")
    odd = dataclasses.replace(repository, name='end "quoted" <b>#1 --> x', urn=repository.urn + "-odd")
    image = _resource(report, "docker:index/image:Image", "app")
    linked = dataclasses.replace(image, dependencies=(*image.dependencies, odd.urn))
    odd_report = dataclasses.replace(report, resources=[linked if r is image else r for r in report.resources] + [odd])
    files = []
    for name, subject in [("example", report), ("odd", odd_report), ("large", scaled_report(500))]:
        path = tmp_path / f"{name}.mmd"
        path.write_text(render(subject, "mermaid"), encoding="utf-8")
        files.append(path)
    result = _parse_with_mermaid(files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mermaid_parser_rejects_an_unsafe_id(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mmd"
    broken.write_text('flowchart LR\n  end["x"]\n', encoding="utf-8")
    assert _parse_with_mermaid([broken]).returncode == 1


def test_coverage_and_what_was_not_judged_offline_are_in_every_format() -> None:
    report = example_report()
    mirror = next(r for r in report.resources if r.remote)
    document = json.loads(render(report, "json"))
    assert document["coverage"]["total"] == 23 and len(document["coverage"]["unjudged"]) == 5
    assert document["notJudgedOffline"] == [mirror.urn]
    assert document["unansweredDataSources"] == ["aws:ec2/getAmi:getAmi"]
    markdown = render(report, "markdown")
    head = markdown.split("### Violations", 1)[0]
    assert "**Coverage:** 18 of 23 resources judged by at least one rule (78 %)." in head
    assert "**Not judged offline: 1 component, the children their providers create:** `mirror`" in head
    assert "`aws:ec2/getAmi:getAmi`" in head
    sarif = json.loads(render(report, "sarif"))["runs"][0]["properties"]
    assert sarif["coverage"] == {"judged": 18, "total": 23} and sarif["notJudgedOffline"] == [mirror.urn]
