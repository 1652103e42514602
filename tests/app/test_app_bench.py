"""The app benchmark's measuring parts: reading wrk's report, and the Python fallback generator."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "app_bench.py"

WRK_REPORT = """\
Running 2s test @ http://127.0.0.1:8201/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     8.21ms    7.80ms  85.60ms   87.16%
    Req/Sec     2.32k   812.16     3.91k    55.00%
  Latency Distribution
     50%    7.04ms
     75%   10.51ms
     90%   17.87ms
     99%   36.72ms
  9240 requests in 2.01s, 2.51MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   4603.64
Transfer/sec:      1.25MB
"""


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("app_bench_under_test", BENCH_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_wrk_report_gives_throughput_p99_and_errors(bench):
    result = bench._parse_wrk(WRK_REPORT, seconds=2)

    assert result.requests == 9240
    assert result.seconds == pytest.approx(2.01)
    assert result.requests_per_second == pytest.approx(9240 / 2.01)
    assert result.p99_ms == pytest.approx(36.72)
    assert result.errors == 7


def test_wrk_latency_units_are_converted_to_milliseconds(bench):
    report = WRK_REPORT.replace("99%   36.72ms", "99%  1.20s")

    assert bench._parse_wrk(report, seconds=2).p99_ms == pytest.approx(1200.0)


def test_an_unreadable_wrk_report_is_an_error_not_a_zero(bench):
    with pytest.raises(RuntimeError, match="could not read wrk's report"):
        bench._parse_wrk("wrk: connection refused", seconds=2)


@pytest.mark.slow
def test_python_load_generator_measures_a_live_server(bench, start_server):
    server = start_server(WEB_CONCURRENCY="2")

    result = bench._load_with_python(server.port, 1.0)

    assert result.tool == "python"
    assert result.errors == 0
    assert result.requests > 50
    assert 0 < result.p99_ms < 1000


def test_candidates_are_the_baseline_first_and_the_image_command_last(bench):
    found = bench.candidates()

    assert found[0].name.startswith("flask development server")
    assert [candidate.shipped for candidate in found] == [False] * (len(found) - 1) + [True]
    # The shipped row measures what the image runs: its CMD with this interpreter.
    assert found[-1].command(8000)[1:] == ["-m", "visits.server"]
    assert any(candidate.name.startswith("gunicorn") for candidate in found)  # gunicorn is a dev requirement


def test_rows_print_side_by_side_with_ratio_and_verdict(bench, capsys):
    common = {"cpus": 2, "load_generator": "wrk", "loadavg_1m_before": 0.5, "loadavg_1m_after": 0.7}
    rows = [
        {"name": "flask development server (baseline)", "requests_per_second": 700.0, "throughput_vs_baseline": 1.0},
        {"name": "gunicorn sync 5", "requests_per_second": 2100.0, "throughput_vs_baseline": 3.0},
        {"name": "granian", "requests_per_second": 4900.0, "throughput_vs_baseline": 7.0, "meets_target": True},
    ]
    rows = [{**common, "p99_ms": 9.5, "errors": 0, **row} for row in rows]

    bench.print_rows(rows)

    out = capsys.readouterr().out
    assert "fastest: granian" in out
    assert "granian: 7.00x the baseline, p99 9.50 ms" in out and "meets the target" in out
    assert "   3.00x" in out
