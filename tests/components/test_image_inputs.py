"""docker.Image's inputs are the same from any checkout, and the tag follows pulumi-docker's context digest."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from components.registry import context_digest, go_file_mode, image_tag
from preflight.recorder import record
from tests.conftest import ROOT

SKIP = shutil.ignore_patterns(".git", ".venv", ".tools", "node_modules", "__pycache__", ".pytest_cache", "*.pyc")


def checkout(into: Path) -> Path:
    project = into / "shipshape"
    shutil.copytree(ROOT, project, ignore=SKIP, symlinks=True)
    return project


def test_docker_image_inputs_are_equal_from_two_checkouts(tmp_path: Path) -> None:
    inputs = []
    for where in ("one", "elsewhere/two"):
        project = checkout(tmp_path / where)
        (image,) = record(project, "dev").by_type("docker:index/image:Image")
        inputs.append(image.inputs)
    first, second = inputs
    assert first == second
    assert first["build"]["context"] == "app"
    assert first["build"]["dockerfile"] == "app/Dockerfile"


@pytest.fixture
def context(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b").write_text("b\n")
    (tmp_path / "a.txt").write_text("a\n")
    for path in (tmp_path / "Dockerfile", tmp_path / "a" / "b", tmp_path / "a.txt"):
        path.chmod(0o644)
    return tmp_path


def provider_digest(entries: list[tuple[str, str, bytes]]) -> str:
    """pulumi-docker's hashContext written out for a known context: name + FileMode.String() + sha256 + NUL."""
    accumulated = b"".join(
        name.encode() + mode.encode() + hashlib.sha256(content).digest() + b"\0" for name, mode, content in entries
    )
    return hashlib.sha256(accumulated).hexdigest()


def test_the_digest_is_the_providers_accumulation(context: Path) -> None:
    dockerfile = b"FROM python:3.12-slim\n"
    expected = provider_digest(
        [
            ("Dockerfile", "----------", dockerfile),  # the Dockerfile first, under its fixed name, mode 0
            ("Dockerfile", "-rw-r--r--", dockerfile),  # then the walk: lexical per directory,
            ("a/b", "-rw-r--r--", b"b\n"),  # so a/b before a.txt
            ("a.txt", "-rw-r--r--", b"a\n"),
        ]
    )
    assert context_digest(context) == expected
    assert image_tag(context) == f"sha-{expected[:16]}"


def test_any_mode_change_changes_the_tag_as_it_changes_the_providers_digest(context: Path) -> None:
    # A checkout under umask 002 makes files 664: the provider's digest (full mode) changes, so must the tag.
    before = image_tag(context)
    (context / "a.txt").chmod(0o664)
    assert image_tag(context) != before


@pytest.mark.parametrize(
    ("mode", "text"),
    [
        (0, "----------"),
        (0o100644, "-rw-r--r--"),
        (0o100755, "-rwxr-xr-x"),
        (0o100664, "-rw-rw-r--"),
        (0o120777, "Lrwxrwxrwx"),
        (0o104755, "urwxr-xr-x"),
        (0o041777, "dtrwxrwxrwx"),
    ],
)
def test_modes_read_as_gos_file_mode_string(mode: int, text: str) -> None:
    assert go_file_mode(mode) == text


def test_a_symlink_hashes_its_resolved_path(context: Path) -> None:
    os.symlink("a.txt", context / "link")
    before = context_digest(context)
    (context / "a.txt").write_text("changed\n")
    (context / "Dockerfile").write_text("FROM python:3.12-slim\n")  # unchanged
    after = context_digest(context)
    assert before != after  # a.txt itself changed
    (context / "link").unlink()
    os.symlink("a/b", context / "link")
    assert context_digest(context) != after
