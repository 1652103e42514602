"""botocore's facts (regions per partition, EC2 instance types) come from botocore once per botocore version,
then from the user's cache; a stale, corrupt or unwritable cache never changes an answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import botocore
import pytest
from botocore.loaders import Loader

from components import aws_models


def _clear() -> None:
    for function in (aws_models._facts, aws_models.region_partitions, aws_models.instance_types):
        function.cache_clear()


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(aws_models, "_CUSTOMER_MODELS", tmp_path / "models")
    _clear()
    yield tmp_path / "cache" / "shipshape"
    _clear()


def test_facts_are_botocores(fresh: Path) -> None:
    loader = Loader()
    enum = loader.load_service_model("ec2", "service-2")["shapes"]["InstanceType"]["enum"]
    assert aws_models.instance_types() == frozenset(enum)
    partitions = loader.load_data("partitions")["partitions"]
    expected = {r: p["id"] for p in partitions for r in p["regions"] if not r.endswith("-global")}
    assert aws_models.region_partitions() == expected
    assert aws_models.region_partitions()["cn-north-1"] == "aws-cn"
    assert [path.name for path in fresh.iterdir()] == [f"aws-facts-{aws_models._cache_key()}.json"]


def test_second_run_reads_the_cache_not_botocore(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = aws_models.instance_types()
    _clear()

    def unread() -> dict:
        raise AssertionError("botocore's models were read again")

    monkeypatch.setattr(aws_models, "_read_models", unread)
    assert aws_models.instance_types() == first


def test_another_botocore_version_reads_botocore_again(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aws_models.instance_types()
    key = aws_models._cache_key()
    monkeypatch.setattr(botocore, "__version__", "0.0.0-other")
    assert aws_models._cache_key() != key
    reads = []
    real = aws_models._read_models
    monkeypatch.setattr(aws_models, "_read_models", lambda: reads.append(1) or real())
    _clear()
    aws_models.instance_types()
    assert reads == [1]
    assert len(list(fresh.iterdir())) == 2


def test_customer_models_change_the_key(fresh: Path) -> None:
    key = aws_models._cache_key()
    model = aws_models._CUSTOMER_MODELS / "ec2" / "2016-11-15" / "service-2.json"
    model.parent.mkdir(parents=True)
    model.write_text("{}")
    assert aws_models._cache_key() != key


@pytest.mark.parametrize(
    "content", ["{not json", "[]", '{"regions": [["eu-west-1"]], "instance_types": []}', '{"regions": []}']
)
def test_corrupt_cache_is_replaced(fresh: Path, content: str) -> None:
    fresh.mkdir(parents=True)
    path = fresh / f"aws-facts-{aws_models._cache_key()}.json"
    path.write_text(content)
    assert "t3.micro" in aws_models.instance_types()
    assert "eu-west-1" in aws_models.region_partitions()
    assert "t3.micro" in json.loads(path.read_text())["instance_types"]


def test_unwritable_cache_still_answers(
    fresh: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert "m7g.large" in aws_models.instance_types()
    assert "AWS facts not cached" in capsys.readouterr().err
