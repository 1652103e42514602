"""The image tag is a content hash of the build context that honours .dockerignore."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.registry import (
    LifecyclePolicyError,
    image_tag,
    is_ignored,
    lifecycle_policy,
    validate_lifecycle_policy,
)


@pytest.fixture
def context(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\n")
    (tmp_path / ".dockerignore").write_text("# local junk\n**/__pycache__\n*.log\ntests\n!tests/fixture.txt\n")
    (tmp_path / "visits").mkdir()
    (tmp_path / "visits" / "app.py").write_text("print('hello')\n")
    return tmp_path


def test_tag_is_stable_when_nothing_changes(context: Path) -> None:
    assert image_tag(context) == image_tag(context)
    assert image_tag(context).startswith("sha-")


def test_tag_changes_when_a_tracked_file_changes(context: Path) -> None:
    before = image_tag(context)
    (context / "visits" / "app.py").write_text("print('bye')\n")
    assert image_tag(context) != before


def test_tag_changes_when_a_tracked_file_is_added(context: Path) -> None:
    before = image_tag(context)
    (context / "visits" / "extra.py").write_text("")
    assert image_tag(context) != before


@pytest.mark.parametrize("ignored", ["build.log", "visits/__pycache__/app.cpython-312.pyc", "tests/test_app.py"])
def test_tag_ignores_files_dockerignore_excludes(context: Path, ignored: str) -> None:
    before = image_tag(context)
    path = context / ignored
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("noise")
    assert image_tag(context) == before


def test_negated_pattern_brings_a_file_back(context: Path) -> None:
    before = image_tag(context)
    (context / "tests").mkdir()
    (context / "tests" / "fixture.txt").write_text("kept")
    assert image_tag(context) != before


@pytest.mark.parametrize(
    ("path", "patterns", "ignored"),
    [
        ("a.pyc", ["*.pyc"], True),
        ("pkg/a.pyc", ["*.pyc"], False),  # docker: * does not cross directories
        ("pkg/a.pyc", ["**/*.pyc"], True),
        (".venv/bin/python", [".venv"], True),
        ("docs/readme.md", ["docs", "!docs/readme.md"], False),
        ("docs/readme.md", ["!docs/readme.md", "docs"], True),  # the last match wins
        ("file1", ["file?"], True),
        ("filea", ["file[0-9]"], False),
    ],
)
def test_dockerignore_matching_follows_docker(path: str, patterns: list[str], ignored: bool) -> None:
    assert is_ignored(path, patterns) is ignored


def test_lifecycle_policy_is_valid_for_ecr() -> None:
    policy = lifecycle_policy(7, 30)
    validate_lifecycle_policy(policy)
    untagged, tagged = policy["rules"]
    assert untagged["selection"] == {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 7,
    }
    assert tagged["selection"]["tagPatternList"] == ["*"]
    assert tagged["selection"]["countNumber"] == 30


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p["rules"][1].update(rulePriority=1), "rulePriority 1 is used twice"),
        (lambda p: p["rules"][1]["selection"].pop("tagPatternList"), "tagStatus tagged needs tagPrefixList"),
        (lambda p: p["rules"][0]["selection"].pop("countUnit"), "countType sinceImagePushed needs countUnit days"),
        (lambda p: p["rules"][0]["selection"].update(tagStatus="any"), "the tagStatus any rule must have the highest"),
        (lambda p: p["rules"][0]["selection"].update(countType="olderThan"), "countType must be one of"),
    ],
)
def test_lifecycle_policy_mistakes_are_named(mutate, message: str) -> None:
    policy = lifecycle_policy(7, 30)
    mutate(policy)
    with pytest.raises(LifecyclePolicyError, match=message):
        validate_lifecycle_policy(policy)
