"""Where the program constructed each resource, and where a program's syntax error is."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pulumi
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

from preflight.model import SourceLocation
from preflight.recorder import record
from preflight.source_location import ProgramFiles

PROJECT = Path(__file__).parent / "project"


def test_the_sdk_asks_get_stack_trace_and_sends_its_first_frame_as_the_source_position() -> None:
    # The assumptions `capturing` rests on, checked against the installed SDK.
    assert callable(sdk_resource._get_stack_trace)
    for function in (sdk_resource.register_resource, sdk_resource.read_resource):
        assert "res" in inspect.signature(function).parameters
        assert "_get_stack_trace()" in inspect.getsource(function)
    position = source_pb2.SourcePosition(uri="file:///p/__main__.py", line=3)
    trace = source_pb2.StackTrace(frames=[source_pb2.StackFrame(pc=position)])
    assert sdk_resource._get_source_position(trace) == position


def test_only_the_programs_own_files_are_named(tmp_path: Path) -> None:
    program = tmp_path / "elsewhere" / "main.py"
    files = ProgramFiles(PROJECT, program)
    assert files.name(str(PROJECT / "__main__.py")) == "__main__.py"
    assert files.name(str(program)) == program.resolve().as_posix()
    assert files.name(pulumi.__file__) is None
    assert files.name(str(PROJECT / ".venv" / "lib" / "site-packages" / "x.py")) is None
    assert files.name(str(Path(__file__).parents[2] / "preflight" / "cli.py")) is None
    assert files.name("<frozen runpy>") is None
    assert files.location(source_pb2.SourcePosition(uri=(PROJECT / "lib" / "a b.py").as_uri(), line=7)) == (
        SourceLocation("lib/a b.py", 7)
    )
    assert files.location(source_pb2.SourcePosition(uri=Path(pulumi.__file__).as_uri(), line=7)) is None


def test_the_walk_stops_at_the_first_program_frame() -> None:
    files = ProgramFiles(Path(__file__).parent)
    site = files.construction_site(sys._getframe())
    assert site == (str(Path(__file__).resolve()), sys._getframe().f_lineno - 1)


def test_every_recorded_resource_points_at_the_line_that_constructed_it() -> None:
    recording = record(PROJECT, "test")
    source = (PROJECT / "__main__.py").read_text().splitlines()
    for resource in recording.resources:
        assert resource.source is not None, resource.urn
        assert resource.source.file == "__main__.py"
        constructed = source[resource.source.line - 1]
        expected = {
            "tiny:storage:Storage": "storage = Storage(",
            "aws:s3/bucket:Bucket": "aws.s3.Bucket(",
            "aws:dynamodb/table:Table": "aws.dynamodb.Table(",
            "aws:iam/role:Role": "aws.iam.Role(",
            "aws:iam/rolePolicy:RolePolicy": "aws.iam.RolePolicy(",
        }[resource.type]
        assert expected in constructed, (resource.urn, constructed)


def test_the_sdk_walk_is_restored_after_recording() -> None:
    before = sdk_resource._get_stack_trace
    record(PROJECT, "test")
    assert sdk_resource._get_stack_trace is before


def test_a_syntax_error_is_named_by_the_programs_file_and_line(tmp_path: Path) -> None:
    files = ProgramFiles(tmp_path)
    broken = tmp_path / "pkg" / "mod.py"
    try:
        compile("x = (\n", str(broken), "exec")
    except SyntaxError as error:
        described = files.syntax_error(error)
    assert described is not None and described.startswith("pkg/mod.py:1: SyntaxError: ")
    assert files.syntax_error(SyntaxError("bad", (pulumi.__file__, 1, 1, "x", 1, 1))) is None
