"""App throughput: gunicorn with app/gunicorn.conf.py against Flask's development server.

The baseline is how the app used to be served (`python app.py`, i.e. `app.run(threaded=True)`). Both
serve the same `create_app()` with the in-process counter on 127.0.0.1 and take the same load: CONNECTIONS
keep-alive connections against `/` for APP_BENCH_SECONDS (default 10) each, after a short warm-up, in
APP_BENCH_ROUNDS (default 3) alternating rounds so that other work on the machine hits both alike.

Load comes from wrk when it is installed (`apt-get install -y wrk`), else from a Python generator
(threads, one keep-alive http.client connection each), which saturates sooner; the report says which.

Run: python -m benchmarks.app_bench     Target: >= 4x baseline requests/s, p99 <= 50 ms at 32 connections.
"""

from __future__ import annotations

import http.client
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

APP_DIR = Path(__file__).resolve().parents[1] / "app"
CONNECTIONS = 32
TARGET_RATIO = 4.0
TARGET_P99_MS = 50.0
WARMUP_SECONDS = 2.0

# The original notes' `python app.py`: the development server, threaded, same app factory.
_BASELINE_LAUNCHER = """
import sys
from visits import create_app
create_app().run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p99_ms: float
    tool: str

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str, timeout: float) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _wait_until_healthy(process: subprocess.Popen[bytes], port: int, name: str, deadline_seconds: float = 30) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} before answering /health")
        try:
            status = _get(port, "/health", timeout=1.0)
        except OSError:
            status = None  # not listening yet
        if status == 200:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer /health on port {port} within {deadline_seconds} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    # The in-process counter: the bench measures the serving stack, not DynamoDB.
    for name in ("COUNTER_TABLE", "SLOW_ENDPOINT_ENABLED", "PORT"):
        env.pop(name, None)
    env["PYTHONPATH"] = str(APP_DIR)
    return env


def _gunicorn_command(port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]


def _baseline_command(port: int) -> list[str]:
    return [sys.executable, "-c", _BASELINE_LAUNCHER, str(port)]


_WRK_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _parse_wrk(output: str, seconds: float) -> LoadResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if not total or not p99:
        raise RuntimeError(f"could not read wrk's report:\n{output}")
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(value) for value in socket_errors.groups())
    elapsed = float(total.group(2)) * _WRK_UNITS_MS[total.group(3)] / 1000.0
    return LoadResult(
        requests=int(total.group(1)),
        errors=errors,
        seconds=elapsed or seconds,
        p99_ms=float(p99.group(1)) * _WRK_UNITS_MS[p99.group(2)],
        tool="wrk",
    )


def _load_with_wrk(wrk: str, port: int, seconds: float) -> LoadResult:
    threads = min(CONNECTIONS, max(1, len(os.sched_getaffinity(0))))
    command = [
        wrk,
        f"-t{threads}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
        f"http://127.0.0.1:{port}/",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr.strip()}")
    return _parse_wrk(result.stdout, seconds)


def _load_with_python(port: int, seconds: float) -> LoadResult:
    latencies: list[list[float]] = [[] for _ in range(CONNECTIONS)]
    errors = [0] * CONNECTIONS
    start_barrier = threading.Barrier(CONNECTIONS + 1)
    deadline_box: list[float] = []

    def drive(slot: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        start_barrier.wait()
        deadline = deadline_box[0]
        mine = latencies[slot]
        while (now := time.perf_counter()) < deadline:
            try:
                connection.request("GET", "/")
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    mine.append(time.perf_counter() - now)
                else:
                    errors[slot] += 1
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                errors[slot] += 1
                connection.close()
        connection.close()

    workers = [threading.Thread(target=drive, args=(slot,), daemon=True) for slot in range(CONNECTIONS)]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    deadline_box.append(began + seconds)
    start_barrier.wait()
    for worker in workers:
        worker.join(timeout=seconds + 30)
    elapsed = time.perf_counter() - began
    samples = sorted(latency for per_slot in latencies for latency in per_slot)
    p99 = samples[min(len(samples) - 1, math.ceil(0.99 * len(samples)) - 1)] * 1000 if samples else math.inf
    return LoadResult(requests=len(samples), errors=sum(errors), seconds=elapsed, p99_ms=p99, tool="python")


def _load(port: int, seconds: float) -> LoadResult:
    wrk = shutil.which("wrk")
    if wrk:
        return _load_with_wrk(wrk, port, seconds)
    return _load_with_python(port, seconds)


def _combine(rounds: list[LoadResult]) -> LoadResult:
    """Throughput over all rounds; p99 is the median round's, so one disturbed round does not decide it."""
    return LoadResult(
        requests=sum(result.requests for result in rounds),
        errors=sum(result.errors for result in rounds),
        seconds=sum(result.seconds for result in rounds),
        p99_ms=statistics.median(result.p99_ms for result in rounds),
        tool=rounds[0].tool,
    )


def _start(name: str, command: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, cwd=APP_DIR, env=_server_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_until_healthy(process, port, name)
    except RuntimeError:
        _stop(process)
        raise
    return process


def _measure_both(seconds: float, rounds: int) -> tuple[LoadResult, LoadResult]:
    """Both servers up at once, measured in alternating rounds so background load hits both alike."""
    baseline_port, gunicorn_port = _free_port(), _free_port()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(_start("flask development server", _baseline_command(baseline_port), baseline_port))
        processes.append(_start("gunicorn", _gunicorn_command(gunicorn_port), gunicorn_port))
        for port in (baseline_port, gunicorn_port):
            _load(port, WARMUP_SECONDS)
        baseline_rounds: list[LoadResult] = []
        gunicorn_rounds: list[LoadResult] = []
        for _ in range(rounds):
            baseline_rounds.append(_load(baseline_port, seconds / rounds))
            gunicorn_rounds.append(_load(gunicorn_port, seconds / rounds))
        return _combine(baseline_rounds), _combine(gunicorn_rounds)
    finally:
        for process in processes:
            _stop(process)


def run() -> list[dict[str, Any]]:
    """Measure gunicorn and the baseline; one row each, the gunicorn row carrying the ratios.

    APP_BENCH_SECONDS (default 10) is the load time per server, split into APP_BENCH_ROUNDS (default 3).
    """
    seconds = float(os.environ.get("APP_BENCH_SECONDS", "10"))
    rounds = max(1, int(os.environ.get("APP_BENCH_ROUNDS", "3")))
    load_before = os.getloadavg()[0]
    baseline, gunicorn = _measure_both(seconds, rounds)
    cpus = len(os.sched_getaffinity(0))
    # Other work on the machine skews both numbers; the load averages say how quiet it was.
    common = {
        "connections": CONNECTIONS,
        "cpus": cpus,
        "load_generator": gunicorn.tool,
        "loadavg_1m_before": round(load_before, 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
    }

    def row(name: str, result: LoadResult) -> dict[str, Any]:
        return {
            "benchmark": "app",
            "name": name,
            "requests_per_second": round(result.requests_per_second, 1),
            "p99_ms": round(result.p99_ms, 2),
            "requests": result.requests,
            "errors": result.errors,
            "seconds": round(result.seconds, 2),
            **common,
        }

    ratio = gunicorn.requests_per_second / baseline.requests_per_second if baseline.requests_per_second else math.inf
    gunicorn_row = row("gunicorn (app/gunicorn.conf.py)", gunicorn)
    gunicorn_row |= {
        "throughput_vs_baseline": round(ratio, 2),
        "target_throughput_vs_baseline": TARGET_RATIO,
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": ratio >= TARGET_RATIO and gunicorn.p99_ms <= TARGET_P99_MS and gunicorn.errors == 0,
    }
    return [row("flask development server (baseline)", baseline), gunicorn_row]


def print_report(rows: list[dict[str, Any]]) -> None:
    """Print the rows from run() as a side-by-side table with the ratio and the verdict."""
    print(
        f"app: GET / with the in-process counter, {CONNECTIONS} connections, "
        f"{rows[0]['cpus']} CPUs, load from {rows[0]['load_generator']}, "
        f"1-minute load average {rows[0]['loadavg_1m_before']} -> {rows[0]['loadavg_1m_after']}"
    )
    print(f"{'server':<38} {'req/s':>10} {'p99 ms':>9} {'errors':>7}")
    for entry in rows:
        print(f"{entry['name']:<38} {entry['requests_per_second']:>10.1f} {entry['p99_ms']:>9.2f} {entry['errors']:>7}")
    summary = rows[-1]
    verdict = "meets" if summary["meets_target"] else "misses"
    print(
        f"gunicorn / baseline throughput: {summary['throughput_vs_baseline']:.2f}x "
        f"(target >= {TARGET_RATIO:g}x, p99 <= {TARGET_P99_MS:g} ms): {verdict} the target"
    )


if __name__ == "__main__":
    print_report(run())
