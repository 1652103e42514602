"""The benchmark plumbing that does not need a timed run: stage parsing, targets, the runner's summary."""

from __future__ import annotations

import pytest

from benchmarks import __main__ as runner
from benchmarks import preflight_bench

PROGRESS = """\
[  0.03s] recording stack dev
[  1.54s] recorded 42 resources; starting policy pack policies/
[  2.07s] analyzing 4/42
[  2.13s] analyzing 42/42
[  2.54s] wrote out/report.md, out/report.json, out/report.sarif, out/architecture.mmd
[  2.54s] done: exit 0
"""


def test_stages_are_read_off_the_progress_lines() -> None:
    assert preflight_bench._stages(PROGRESS) == {
        "record_seconds": 1.54,
        "analyze_seconds": 0.59,
        "report_seconds": 0.41,
    }


def test_stages_missing_from_the_progress_are_left_out_not_guessed() -> None:
    assert preflight_bench._stages("[  1.00s] recorded 3 resources\nsomething else\n") == {"record_seconds": 1.0}


def test_generated_program_is_valid_python_with_the_asked_number_of_resources() -> None:
    source = preflight_bench._PROGRAM.format(count=20)
    compile(source, "synthetic_20.py", "exec")
    assert "range(20)" in source


def test_runner_lines_up_each_measure_with_its_target() -> None:
    row = {"benchmark": "app", "name": "gunicorn", "p99_ms": 12.0, "target_p99_ms": 50.0, "errors": 0}
    assert runner.targets_of(row) == [("p99_ms", 12.0, 50.0)]


def test_runner_discovers_every_bench_module() -> None:
    assert "preflight" in runner.discover()


def test_runner_reports_a_crashing_benchmark_and_exits_1(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def boom(name: str) -> list[dict]:
        raise RuntimeError(f"{name} broke")

    monkeypatch.setattr(runner, "run_module", boom)
    assert runner.main(["--only", "preflight"]) == 1
    assert "error: RuntimeError: preflight broke" in capsys.readouterr().out


def test_strict_runner_fails_on_a_missed_target(monkeypatch: pytest.MonkeyPatch) -> None:
    row = {"benchmark": "preflight", "name": "x", "seconds": 4.0, "target_seconds": 3.0, "meets_target": False}
    monkeypatch.setattr(runner, "run_module", lambda name: [row])
    assert runner.main(["--only", "preflight"]) == 0
    assert runner.main(["--only", "preflight", "--strict"]) == 1


def test_a_measure_is_set_beside_its_floor_with_a_met_or_missed_verdict() -> None:
    met = preflight_bench._floor_row("dev", {"seconds": 2.0}, 1.0, 2.5)
    missed = preflight_bench._floor_row("dev", {"seconds": 3.0}, 1.0, 2.5)
    assert (met["floor_ratio"], met["meets_target"]) == (2.0, True)
    assert (missed["floor_ratio"], missed["meets_target"]) == (3.0, False)
    assert runner.targets_of(met) == [("floor_ratio", 2.0, 2.5)]


def test_the_packs_peak_memory_is_read_off_the_done_line() -> None:
    line = "[  2.54s] done: exit 0; peak RSS 180 MiB, pack 95 MiB"
    assert preflight_bench._PACK_RSS.search(line)["mib"] == "95"
