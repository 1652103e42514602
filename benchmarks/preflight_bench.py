"""Preflight speed and scale, each measure beside its floor from the same run.

The floor is what no preview can beat: a fresh interpreter importing the SDKs the project uses
(`python -c "import pulumi_aws, pulumi_awsx, pulumi_docker"`), timed in turn with the previews so that other
work on the machine weighs on both alike. Every preview is the user's path, `python -m preflight` as a
subprocess: interpreter start, recording under mocks, the policy pack started over gRPC and asked about every
resource, and all four reports written. Measured:

- dev cold wall: the real dev stack, PREFLIGHT_BENCH_RUNS times (default 5) after a warm-up, median;
- synthetic stacks of 100, 1,000 and 2,000 resources (ECR repositories, IAM roles with inline policies and
  security groups, 4:3:3), PREFLIGHT_BENCH_SCALE_RUNS times each (default 3): the 2,000 wall, and the cost of
  each added resource from 100 to 1,000 and from 1,000 to 2,000;
- peak RSS of preflight and of the pack at 2,000 (the report's and the `done:` line's figures);
- the watch loop: `preflight --watch` on a copy of the project, the program saved with a change, time until
  that preview's report is out (median of PREFLIGHT_BENCH_RUNS saves).

Targets (printed as met or missed, never asserted): dev <= 2.5x the floor; 2,000 resources <= 12x the floor
with the growth per resource from 1,000 to 2,000 no worse than from 100 to 1,000; peak RSS at 2,000 <= 350 MB
(each process); a saved change re-previewed in <= 0.5x the floor.

Run: python -m benchmarks.preflight_bench      (or `make bench` for every benchmark side by side)
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100, 1000, 2000)
FLOOR_COMMAND = [sys.executable, "-c", "import pulumi_aws, pulumi_awsx, pulumi_docker"]
TARGET_DEV_OVER_FLOOR = 2.5
TARGET_2000_OVER_FLOOR = 12.0
TARGET_MARGINAL_GROWTH = 1.0
"""Cost of each resource from 1,000 to 2,000 over that from 100 to 1,000: at most 1, i.e. no worse."""
TARGET_PEAK_RSS_MB = 350.0
TARGET_WATCH_OVER_FLOOR = 0.5
WATCH_WAIT_SECONDS = 300.0
STACK = "dev"
_STAGE_LINE = re.compile(r"^\[\s*(?P<at>[\d.]+)s\] (?P<what>.*)$")
_PACK_RSS = re.compile(r"done: exit \d+; peak RSS \d+ MiB, pack (?P<mib>\d+) MiB")

# A program of `count` resources, written for one benchmark size. Plain resources at the top level:
# the point is the per-resource cost of recording, analysis and reporting, not component structure.
_PROGRAM = '''"""Synthetic stack of {count} resources for benchmarks/preflight_bench.py."""

import json

import pulumi_aws as aws

TRUST = json.dumps(
    {{
        "Version": "2012-10-17",
        "Statement": [
            {{"Effect": "Allow", "Principal": {{"Service": "ecs-tasks.amazonaws.com"}}, "Action": "sts:AssumeRole"}}
        ],
    }}
)

for number in range({count}):
    kind = number % 10
    if kind < 4:
        aws.ecr.Repository(
            f"repo-{{number}}",
            image_scanning_configuration={{"scan_on_push": True}},
            image_tag_mutability="IMMUTABLE",
        )
    elif kind < 7:
        pull = {{
            "Version": "2012-10-17",
            "Statement": [
                {{
                    "Effect": "Allow",
                    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    "Resource": f"arn:aws:ecr:eu-west-1:123456789012:repository/svc-{{number}}",
                }}
            ],
        }}
        aws.iam.Role(
            f"role-{{number}}",
            assume_role_policy=TRUST,
            inline_policies=[{{"name": "pull", "policy": json.dumps(pull)}}],
        )
    else:
        aws.ec2.SecurityGroup(
            f"sg-{{number}}",
            description="synthetic",
            ingress=[{{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"]}}],
        )
'''


class Unavailable(Exception):
    """The path cannot be measured yet (a part of preflight or the project is missing)."""


def _missing_parts() -> list[str]:
    needed = [
        ROOT / "preflight" / "__main__.py",
        ROOT / "preflight" / "recorder.py",
        ROOT / "preflight" / "analyzer.py",
        ROOT / "Pulumi.yaml",
        ROOT / f"Pulumi.{STACK}.yaml",
        ROOT / "__main__.py",
        ROOT / "policies" / "__main__.py",
    ]
    return [str(path.relative_to(ROOT)) for path in needed if not path.is_file()]


def _progress(message: str) -> None:
    print(f"[preflight bench] {message}", file=sys.stderr, flush=True)


def _floor_once() -> float:
    """Wall seconds of a fresh interpreter importing the SDKs: the floor every preview is measured against."""
    started = time.perf_counter()
    result = subprocess.run(FLOOR_COMMAND, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise Unavailable(f"the floor's imports failed: {result.stderr.strip()[-300:]}")
    return wall


def _preflight_once(out_dir: Path, program: Path | None = None, expected_resources: int = 0) -> dict[str, Any]:
    """One `python -m preflight` run: wall seconds, stage times, and the peak RSS of preflight and its pack."""
    command = [sys.executable, "-m", "preflight", "--stack", STACK, "--output-dir", str(out_dir)]
    if program is not None:
        command += ["--program", str(program)]
    report = out_dir / "report.json"
    report.unlink(missing_ok=True)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    wall = time.perf_counter() - started
    # Exit 1 is also what a crash exits with, so only a fresh, complete JSON report proves a real run.
    tail = "\n".join(result.stderr.strip().splitlines()[-5:])
    if result.returncode not in (0, 1) or not report.is_file():
        raise Unavailable(f"python -m preflight exited {result.returncode} without a report: {tail}")
    try:
        document = json.loads(report.read_text(encoding="utf-8"))
        recorded = len(document["resources"])
    except (ValueError, KeyError, TypeError) as error:
        raise Unavailable(f"{report} is not a preflight JSON report ({error})") from None
    if expected_resources and recorded < expected_resources:
        raise Unavailable(f"expected at least {expected_resources} resources in the report, found {recorded}")
    pack = _PACK_RSS.search(result.stderr)
    return {
        "wall": wall,
        "stages": _stages(result.stderr),
        "rss_mb": document.get("peakRssBytes", 0) / 1e6,
        "pack_rss_mb": int(pack["mib"]) * 2**20 / 1e6 if pack else 0.0,
    }


def _stages(progress: str) -> dict[str, float]:
    """Seconds spent recording, analysing and reporting, read off the CLI's timestamped progress lines.

    Best effort: a stage the lines do not show is left out rather than guessed.
    """
    marks: dict[str, float] = {}
    for line in progress.splitlines():
        match = _STAGE_LINE.match(line.strip())
        if not match:
            continue
        at, what = float(match["at"]), match["what"]
        if what.startswith("recorded "):
            marks["recorded"] = at
        elif what.startswith("analyzing ") and "/" in what:
            done, total = what.removeprefix("analyzing ").split("/", 1)
            if done == total:
                marks["analyzed"] = at
        elif what.startswith("wrote "):
            marks["wrote"] = at
        elif what.startswith("done"):
            marks["done"] = at
    stages = {}
    if "recorded" in marks:
        stages["record_seconds"] = marks["recorded"]
        if "analyzed" in marks:
            stages["analyze_seconds"] = marks["analyzed"] - marks["recorded"]
            if "wrote" in marks:
                stages["report_seconds"] = marks["wrote"] - marks["analyzed"]
    return {key: round(value, 2) for key, value in stages.items()}


def _runs(
    label: str, runs: int, out_dir: Path, floors: list[float], program: Path | None = None, expected: int = 0
) -> dict[str, Any]:
    """A warm-up, then `runs` previews each followed by a floor run (appended to `floors`); the median run."""
    _progress(f"{label}: warm-up")
    _preflight_once(out_dir, program, expected)  # bytecode, page cache, the pack's imports
    measured = []
    for number in range(1, runs + 1):
        measured.append(_preflight_once(out_dir, program, expected))
        floors.append(_floor_once())
        _progress(f"{label}: run {number}/{runs}: {measured[-1]['wall']:.2f} s (floor {floors[-1]:.2f} s)")
    walls = [entry["wall"] for entry in measured]
    median = statistics.median(walls)
    closest = min(measured, key=lambda entry: abs(entry["wall"] - median))
    return {
        "seconds": round(median, 2),
        "runs": runs,
        "min_seconds": round(min(walls), 2),
        "max_seconds": round(max(walls), 2),
        "peak_rss_mb": round(max(entry["rss_mb"] for entry in measured), 1),
        "pack_peak_rss_mb": round(max(entry["pack_rss_mb"] for entry in measured), 1),
        **closest["stages"],
    }


def _project_copy(scratch: Path) -> Path:
    """The project copied for the watch loop to edit (the pack's environment linked, as the CLI runs it)."""
    project = scratch / "project"
    shutil.copytree(
        ROOT, project, ignore=shutil.ignore_patterns(".venv", ".git", "tests", "__pycache__", "out", ".tools")
    )
    venv = ROOT / "policies" / ".venv"
    if venv.exists():
        (project / "policies" / ".venv").symlink_to(venv)
    return project


def measure_watch(runs: int, scratch: Path) -> dict[str, Any]:
    """Median seconds from saving a changed program to that preview's end, under `preflight --watch`."""
    project = _project_copy(scratch)
    command = [sys.executable, "-m", "preflight", "--watch", "--quiet", "--stack", STACK, "--project-dir", str(project)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()

    def finished(number: int) -> None:
        while True:
            try:
                line = lines.get(timeout=WATCH_WAIT_SECONDS)
            except queue.Empty:
                raise Unavailable(f"preflight --watch printed no end of run {number}") from None
            match = re.search(rf"run {number} \(.*\): exit (\d+)", line)
            if match:
                if match[1] not in ("0", "1"):
                    raise Unavailable(f"preflight --watch run {number} exited {match[1]}")
                return

    try:
        _progress("watch: first run")
        finished(1)
        program = project / "__main__.py"
        source = program.read_text(encoding="utf-8")
        latencies = []
        for number in range(2, runs + 2):
            time.sleep(0.5)  # a pause between saves, as between edits
            started = time.perf_counter()
            program.write_text(f"{source}\n# edit {number}\n", encoding="utf-8")
            finished(number)
            latencies.append(time.perf_counter() - started)
            _progress(f"watch: save {number - 1}/{runs}: {latencies[-1]:.2f} s")
    finally:
        process.terminate()
        process.wait(timeout=60)
    return {"seconds": round(statistics.median(latencies), 2), "runs": runs}


def _ratio(value: float, floor: float) -> float:
    return round(value / floor, 2) if floor else float("inf")


def _floor_row(name: str, measured: dict[str, Any], floor: float, target: float) -> dict[str, Any]:
    ratio = _ratio(measured["seconds"], floor)
    return {
        "benchmark": "preflight",
        "name": name,
        **measured,
        "floor_seconds": round(floor, 2),
        "floor_ratio": ratio,
        "target_floor_ratio": target,
        "meets_target": ratio <= target,
    }


def run() -> list[dict[str, Any]]:
    """Every measure with its floor; a part that cannot run is one row saying why."""
    runs = int(os.environ.get("PREFLIGHT_BENCH_RUNS", "5"))
    scale_runs = int(os.environ.get("PREFLIGHT_BENCH_SCALE_RUNS", "3"))
    missing = _missing_parts()
    if missing:
        return [_unavailable_row("preflight", f"needs {', '.join(missing)}")]
    floors: list[float] = []
    _progress("floor: warm-up")
    _floor_once()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="preflight-bench-") as scratch_name:
        scratch = Path(scratch_name)
        try:
            dev = _runs("dev stack", runs, scratch / "out-dev", floors)
        except Unavailable as reason:
            rows.append(_unavailable_row("dev stack", str(reason)))
            dev = None
        scale: dict[int, dict[str, Any]] = {}
        try:
            for count in SIZES:
                program = scratch / f"synthetic_{count}.py"
                program.write_text(_PROGRAM.format(count=count), encoding="utf-8")
                scale[count] = _runs(
                    f"{count:,} resources", scale_runs, scratch / f"out-{count}", floors, program, count
                )
        except Unavailable as reason:
            rows.append(_unavailable_row("synthetic stacks", str(reason)))
        try:
            watch = measure_watch(runs, scratch)
        except Unavailable as reason:
            rows.append(_unavailable_row("watch loop", str(reason)))
            watch = None
    floor = statistics.median(floors) if floors else 0.0
    if dev:
        rows.append(_floor_row(f"dev cold wall (median of {runs})", dev, floor, TARGET_DEV_OVER_FLOOR))
    for count, measured in scale.items():
        row = {"benchmark": "preflight", "name": f"{count:,} resources (median of {scale_runs})", **measured}
        if count == SIZES[-1]:
            row = _floor_row(row["name"], measured, floor, TARGET_2000_OVER_FLOOR)
        rows.append(row)
    if len(scale) == len(SIZES):
        small, middle, large = (scale[count]["seconds"] for count in SIZES)
        early = (middle - small) / (SIZES[1] - SIZES[0])
        late = (large - middle) / (SIZES[2] - SIZES[1])
        marginal = late / early if early > 0 else float("inf")
        biggest = scale[SIZES[-1]]
        rows.append(
            {
                "benchmark": "preflight",
                "name": "growth per added resource",
                "ms_per_resource_100_to_1000": round(1000 * early, 2),
                "ms_per_resource_1000_to_2000": round(1000 * late, 2),
                "marginal_growth_ratio": round(marginal, 2),
                "target_marginal_growth_ratio": TARGET_MARGINAL_GROWTH,
                "meets_target": marginal <= TARGET_MARGINAL_GROWTH,
            }
        )
    if SIZES[-1] in scale:
        biggest = scale[SIZES[-1]]
        rows.append(
            {
                "benchmark": "preflight",
                "name": f"peak RSS at {SIZES[-1]:,} resources",
                "peak_rss_mb": biggest["peak_rss_mb"],
                "target_peak_rss_mb": TARGET_PEAK_RSS_MB,
                "pack_peak_rss_mb": biggest["pack_peak_rss_mb"],
                "target_pack_peak_rss_mb": TARGET_PEAK_RSS_MB,
                "meets_target": max(biggest["peak_rss_mb"], biggest["pack_peak_rss_mb"]) <= TARGET_PEAK_RSS_MB,
            }
        )
    if watch:
        rows.append(
            _floor_row(f"watch: saved change re-previewed (median of {runs})", watch, floor, TARGET_WATCH_OVER_FLOOR)
        )
    for row in rows:
        row["loadavg_1m"] = round(os.getloadavg()[0], 2)
    return rows


def _unavailable_row(name: str, reason: str) -> dict[str, Any]:
    return {"benchmark": "preflight", "name": name, "skipped": reason}


def _verdict(row: dict[str, Any]) -> str:
    return {True: "met", False: "missed"}.get(row.get("meets_target"), "")


def print_rows(rows: list[dict[str, Any]]) -> None:
    floor = next((row["floor_seconds"] for row in rows if "floor_seconds" in row), 0.0)
    print(
        f"preflight: `python -m preflight --stack dev --output-dir ...` as a subprocess, pack start-up included; "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, 1-minute load average {os.getloadavg()[0]:.2f}"
    )
    print(f"floor: `{' '.join(['python', *FLOOR_COMMAND[1:]])}` = {floor:.2f} s (median, same run)")
    print(f"{'measure':<52} {'measured':>10} {'floor':>7} {'ratio':>7} {'target':>8}  verdict")
    for row in rows:
        if "skipped" in row:
            print(f"{row['name']:<52} skipped: {row['skipped']}")
        elif "floor_ratio" in row:
            print(
                f"{row['name']:<52} {row['seconds']:>8.2f} s {row['floor_seconds']:>6.2f}s {row['floor_ratio']:>6.2f}x "
                f"{'<= ' + format(row['target_floor_ratio'], 'g') + 'x':>8}  {_verdict(row)}"
            )
        elif "marginal_growth_ratio" in row:
            print(
                f"{'ms per added resource 100->1,000 | 1,000->2,000':<52} "
                f"{row['ms_per_resource_100_to_1000']:>6.2f} | {row['ms_per_resource_1000_to_2000']:.2f}  "
                f"ratio {row['marginal_growth_ratio']:.2f} (target <= {row['target_marginal_growth_ratio']:g})  "
                f"{_verdict(row)}"
            )
        elif "target_peak_rss_mb" in row:
            measured = f"{row['peak_rss_mb']:>6.0f} | {row['pack_peak_rss_mb']:.0f} MB"
            target = f"(target <= {row['target_peak_rss_mb']:g} MB each)"
            print(f"{row['name'] + ': preflight | pack':<52} {measured}  {target}  {_verdict(row)}")
        elif "seconds" in row:
            print(f"{row['name']:<52} {row['seconds']:>8.2f} s")


if __name__ == "__main__":
    print_rows(run())
