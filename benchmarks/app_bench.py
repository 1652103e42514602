"""App throughput: the shipped server (granian, visits/server.py) and gunicorn's best settings against
Flask's development server, side by side in one run.

The baseline is how the app used to be served (`python app.py`, i.e. `app.run(threaded=True)`). Every
candidate serves the same `create_app()` with the in-process counter on 127.0.0.1 and takes the same
load: CONNECTIONS keep-alive connections against `/` for APP_BENCH_SECONDS (default 10) each, after a
short warm-up, in APP_BENCH_ROUNDS (default 3) alternating rounds so that other work on the machine hits
all of them alike. The gunicorn rows are the settings that did best in earlier runs: gthread with one
worker per CPU and 4 threads (the old image's config), and sync workers (2 per CPU + 1); they run only
when gunicorn is installed (requirements-dev.txt).

Load comes from wrk (Debian's package; the bench installs it with apt-get when it runs as root and
wrk is missing), else from a Python generator (threads, one keep-alive http.client connection each),
which saturates sooner; the report says which.

Run: python -m benchmarks.app_bench     Target (shipped server): >= 6x baseline requests/s, p99 <= 25 ms.
"""

from __future__ import annotations

import http.client
import importlib.util
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

APP_DIR = Path(__file__).resolve().parents[1] / "app"
CONNECTIONS = 32
TARGET_RATIO = 6.0
TARGET_P99_MS = 25.0
WARMUP_SECONDS = 2.0

# The original notes' `python app.py`: the development server, threaded, same app factory.
_BASELINE_LAUNCHER = """
import os
from visits import create_app
create_app().run(host="127.0.0.1", port=int(os.environ["PORT"]), threaded=True)
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


def _server_env(port: int) -> dict[str, str]:
    env = dict(os.environ)
    # The in-process counter: the bench measures the serving stack, not DynamoDB.
    for name in ("COUNTER_TABLE", "SLOW_ENDPOINT_ENABLED", "WEB_CONCURRENCY", "WEB_THREADS"):
        env.pop(name, None)
    env["BIND_ADDRESS"], env["PORT"] = "127.0.0.1", str(port)
    env["PYTHONPATH"] = str(APP_DIR)
    return env


@dataclass(frozen=True)
class Candidate:
    name: str
    command: Callable[[int], list[str]]
    shipped: bool = False


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def _gunicorn(worker_class: str, workers: int, threads: int) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            f"--worker-class={worker_class}",
            f"--workers={workers}",
            f"--threads={threads}",
            "--keep-alive=75",
            f"--bind=127.0.0.1:{port}",
            "visits:create_app()",
        ]

    return command


def candidates() -> list[Candidate]:
    """The baseline first, then gunicorn's best settings (when installed), then the shipped server."""
    found = [Candidate("flask development server (baseline)", lambda port: [sys.executable, "-c", _BASELINE_LAUNCHER])]
    if importlib.util.find_spec("gunicorn") is not None:
        cpus = _cpus()
        found.append(Candidate(f"gunicorn gthread {cpus}x4", _gunicorn("gthread", max(2, cpus), 4)))
        found.append(Candidate(f"gunicorn sync {2 * cpus + 1}", _gunicorn("sync", 2 * cpus + 1, 1)))
    found.append(
        Candidate("granian (visits.server, shipped)", lambda port: [sys.executable, "-m", "visits.server"], True)
    )
    return found


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


def _start(candidate: Candidate, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        candidate.command(port),
        cwd=APP_DIR,
        env=_server_env(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_healthy(process, port, candidate.name)
    except RuntimeError:
        _stop(process)
        raise
    return process


def _progress(message: str) -> None:
    print(f"  app: {message}", file=sys.stderr, flush=True)


def ensure_wrk() -> str | None:
    """wrk's path; installs Debian's package first when it is missing and this is a root shell with apt."""
    wrk = shutil.which("wrk")
    if wrk or os.geteuid() != 0 or not shutil.which("apt-get"):
        return wrk
    _progress("installing wrk from Debian's packages (apt-get install wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, env=env, capture_output=True, timeout=600, check=False).returncode != 0:
        # A machine that never ran `apt-get update` has no package lists yet.
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600, check=False)
        subprocess.run(install, env=env, capture_output=True, timeout=600, check=False)
    return shutil.which("wrk")


def _measure_all(chosen: list[Candidate], seconds: float, rounds: int) -> list[LoadResult]:
    """Every candidate up at once, measured in alternating rounds so background load hits all alike."""
    ports = [_free_port() for _ in chosen]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for candidate, port in zip(chosen, ports, strict=True):
            _progress(f"starting {candidate.name}")
            processes.append(_start(candidate, port))
        for port in ports:
            _load(port, WARMUP_SECONDS)
        results: list[list[LoadResult]] = [[] for _ in chosen]
        for round_number in range(1, rounds + 1):
            for index, port in enumerate(ports):
                _progress(f"round {round_number}/{rounds}: {chosen[index].name}")
                results[index].append(_load(port, seconds / rounds))
        return [_combine(per_candidate) for per_candidate in results]
    finally:
        for process in processes:
            _stop(process)


def run() -> list[dict[str, Any]]:
    """One row per candidate, each with its throughput ratio to the baseline; the shipped row has targets.

    APP_BENCH_SECONDS (default 10) is the load time per server, split into APP_BENCH_ROUNDS (default 3).
    """
    seconds = float(os.environ.get("APP_BENCH_SECONDS", "10"))
    rounds = max(1, int(os.environ.get("APP_BENCH_ROUNDS", "3")))
    ensure_wrk()
    chosen = candidates()
    load_before = os.getloadavg()[0]
    results = _measure_all(chosen, seconds, rounds)
    baseline = results[0]
    # Other work on the machine skews every number; the load averages say how quiet it was.
    common = {
        "connections": CONNECTIONS,
        "cpus": _cpus(),
        "load_generator": baseline.tool,
        "loadavg_1m_before": round(load_before, 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
    }
    rows = []
    for candidate, result in zip(chosen, results, strict=True):
        ratio = result.requests_per_second / baseline.requests_per_second if baseline.requests_per_second else math.inf
        row = {
            "benchmark": "app",
            "name": candidate.name,
            "requests_per_second": round(result.requests_per_second, 1),
            "throughput_vs_baseline": round(ratio, 2),
            "p99_ms": round(result.p99_ms, 2),
            "requests": result.requests,
            "errors": result.errors,
            "seconds": round(result.seconds, 2),
            **common,
        }
        if candidate.shipped:
            row |= {
                "target_throughput_vs_baseline": TARGET_RATIO,
                "target_p99_ms": TARGET_P99_MS,
                "meets_target": ratio >= TARGET_RATIO and result.p99_ms <= TARGET_P99_MS and result.errors == 0,
            }
        rows.append(row)
    return rows


def print_rows(rows: list[dict[str, Any]]) -> None:
    """Print the rows from run() side by side: throughput, its ratio to the baseline, p99, errors."""
    first = rows[0]
    print(
        f"app: GET / with the in-process counter, {CONNECTIONS} connections, {first['cpus']} CPUs, "
        f"load from {first['load_generator']}, 1-minute load average "
        f"{first['loadavg_1m_before']} -> {first['loadavg_1m_after']}"
    )
    print(f"{'server':<38} {'req/s':>10} {'x dev':>7} {'p99 ms':>9} {'errors':>7}")
    for entry in rows:
        print(
            f"{entry['name']:<38} {entry['requests_per_second']:>10.1f} {entry['throughput_vs_baseline']:>6.2f}x "
            f"{entry['p99_ms']:>9.2f} {entry['errors']:>7}"
        )
    contenders = rows[1:]
    winner = max(contenders, key=lambda entry: entry["requests_per_second"])
    print(f"fastest: {winner['name']}")
    for entry in contenders:
        if "meets_target" in entry:
            verdict = "meets" if entry["meets_target"] else "misses"
            print(
                f"{entry['name']}: {entry['throughput_vs_baseline']:.2f}x the baseline, p99 {entry['p99_ms']:.2f} ms "
                f"(target >= {TARGET_RATIO:g}x, p99 <= {TARGET_P99_MS:g} ms): {verdict} the target"
            )


if __name__ == "__main__":
    print_rows(run())
