"""The pack's rule list kept between runs: keyed by the pack's source, never trusted to refuse a config."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pulumi.runtime.proto import analyzer_pb2

from preflight import pack_info
from tests.conftest import ROOT

TINY = Path(__file__).parent / "project"
TINY_PACK = Path(__file__).parent / "packs" / "tiny"


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def test_an_answer_is_kept_for_the_same_pack_source(tmp_path: Path, cache_home: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(TINY_PACK, pack)
    assert pack_info.load(pack) is None
    info = analyzer_pb2.AnalyzerInfo(name="tiny", policies=[analyzer_pb2.PolicyInfo(name="tiny-rule")])
    pack_info.store(pack, info)
    assert pack_info.load(pack) == info
    assert list((cache_home / "shipshape-preflight").iterdir())


def test_the_key_follows_the_packs_source_and_ignores_its_environment(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(TINY_PACK, pack)
    key = pack_info.pack_key(pack)
    (pack / ".venv" / "lib").mkdir(parents=True)
    (pack / ".venv" / "lib" / "x.py").write_text("changed = True\n")
    (pack / "snapshot.json.gz").write_bytes(b"data")
    assert pack_info.pack_key(pack) == key
    main = pack / "__main__.py"
    main.write_text(main.read_text() + "\n# another rule\n")
    assert pack_info.pack_key(pack) != key


def test_an_unreadable_entry_is_a_miss(tmp_path: Path, cache_home: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(TINY_PACK, pack)
    entry = cache_home / "shipshape-preflight" / f"analyzer-info-{pack_info.pack_key(pack)}.binpb"
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"\xff\xff not protobuf")
    assert pack_info.load(pack) is None


def _preflight(*args: str, cache_home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "preflight", "--stack", "test", "--project-dir", str(TINY), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cache_home), "XDG_CACHE_HOME": str(cache_home)},
    )


@pytest.mark.slow
def test_with_a_kept_answer_the_pack_starts_while_the_program_records(tmp_path: Path, cache_home: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(TINY_PACK, pack)
    first = _preflight("--policy-pack", str(pack), cache_home=cache_home)
    assert first.returncode == 0, first.stderr
    assert first.stderr.index("checking its config") < first.stderr.index("recording stack")
    second = _preflight("--policy-pack", str(pack), cache_home=cache_home)
    assert second.returncode == 0, second.stderr
    assert "checking its config" not in second.stderr
    assert "resources; connecting to policy pack pack/" in second.stderr
    assert second.stdout.rsplit("\n", 2)[0] == first.stdout.rsplit("\n", 2)[0]


@pytest.mark.slow
def test_a_kept_answer_that_refuses_the_config_is_checked_with_the_running_pack(
    tmp_path: Path, cache_home: Path
) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(TINY_PACK, pack)
    # A stale entry that knows none of the pack's rules: the config below names one, which it would refuse.
    pack_info.store(pack, analyzer_pb2.AnalyzerInfo(name="tiny"))
    config = tmp_path / "tiny.json"
    config.write_text('{"tiny-required-tags": {"tags": ["team"]}}')
    result = _preflight("--policy-pack", str(pack), "--policy-config", str(config), cache_home=cache_home)
    assert result.returncode == 0, result.stderr
    assert result.stderr.index("checking its config") < result.stderr.index("recording stack")
