"""Preflight speed and scale: the real dev stack, and synthetic stacks of 100, 1,000 and 2,000 resources.

Every measurement is the user's path, `python -m preflight` as a subprocess: interpreter start, recording
under mocks, the policy pack started over gRPC and asked about every resource, and all four reports
written. The dev stack runs once to warm caches, then PREFLIGHT_BENCH_RUNS times (default 5) and reports
the median. Synthetic stacks are generated programs (ECR repositories, IAM roles with inline policies and
security groups, 4:3:3) run against the project's own settings and pack; each size runs
PREFLIGHT_BENCH_SCALE_RUNS times (default 3) after the warm-up.

Targets: dev stack <= 3 s wall; 2,000 resources <= 15 s; growth no worse than linear, i.e. time per
resource at 2,000 no more than at 100 (fixed start-up makes it less when growth is linear), and, stricter,
the cost of each added resource between 1,000 and 2,000 at most 1.25x that between 100 and 1,000.

Run: python -m benchmarks.preflight_bench      (or `make bench` for every benchmark side by side)
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100, 1000, 2000)
TARGET_DEV_SECONDS = 3.0
TARGET_2000_SECONDS = 15.0
TARGET_GROWTH = 1.0
"""Time per resource at 2,000 divided by time per resource at 100; above 1 means worse than linear."""
TARGET_MARGINAL_GROWTH = 1.25
"""Cost of each resource from 1,000 to 2,000 over that from 100 to 1,000: 1 when linear, 25% for noise."""
STACK = "dev"
_STAGE_LINE = re.compile(r"^\[\s*(?P<at>[\d.]+)s\] (?P<what>.*)$")

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


def _preflight_once(
    out_dir: Path, program: Path | None = None, expected_resources: int = 0
) -> tuple[float, dict[str, float]]:
    """Wall seconds of one `python -m preflight` run, and its stage times from the progress lines."""
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
        recorded = len(json.loads(report.read_text(encoding="utf-8"))["resources"])
    except (ValueError, KeyError, TypeError) as error:
        raise Unavailable(f"{report} is not a preflight JSON report ({error})") from None
    if expected_resources and recorded < expected_resources:
        raise Unavailable(f"expected at least {expected_resources} resources in the report, found {recorded}")
    return wall, _stages(result.stderr)


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


def _median_run(
    runs: int, out_dir: Path, program: Path | None = None, expected_resources: int = 0
) -> tuple[list[float], dict[str, float]]:
    _preflight_once(out_dir, program, expected_resources)  # warm-up: bytecode, page cache, the pack's imports
    walls, stage_runs = [], []
    for _ in range(runs):
        wall, stages = _preflight_once(out_dir, program, expected_resources)
        walls.append(wall)
        stage_runs.append(stages)
    median = statistics.median(walls)
    closest = min(range(runs), key=lambda index: abs(walls[index] - median))
    return walls, stage_runs[closest]


def _row(name: str, resources: int | None, walls: list[float], stages: dict[str, float]) -> dict[str, Any]:
    median = statistics.median(walls)
    row: dict[str, Any] = {
        "benchmark": "preflight",
        "name": name,
        "seconds": round(median, 2),
        "runs": len(walls),
        "min_seconds": round(min(walls), 2),
        "max_seconds": round(max(walls), 2),
        **stages,
    }
    if resources:
        row["resources"] = resources
        row["ms_per_resource"] = round(1000 * median / resources, 2)
    return row


def measure_dev_stack(runs: int) -> dict[str, Any]:
    missing = _missing_parts()
    if missing:
        raise Unavailable(f"needs {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="preflight-bench-") as scratch:
        walls, stages = _median_run(runs, Path(scratch) / "out")
    row = _row(f"dev stack (median of {runs})", None, walls, stages)
    row |= {
        "target_seconds": TARGET_DEV_SECONDS,
        "ratio_to_target": round(row["seconds"] / TARGET_DEV_SECONDS, 2),
        "meets_target": row["seconds"] <= TARGET_DEV_SECONDS,
    }
    return row


def measure_scale(sizes: tuple[int, ...], runs: int) -> list[dict[str, Any]]:
    missing = [part for part in _missing_parts() if part != "__main__.py"]
    if missing:
        raise Unavailable(f"needs {', '.join(missing)}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="preflight-bench-") as scratch:
        for count in sizes:
            program = Path(scratch) / f"synthetic_{count}.py"
            program.write_text(_PROGRAM.format(count=count), encoding="utf-8")
            walls, stages = _median_run(runs, Path(scratch) / f"out-{count}", program, expected_resources=count)
            rows.append(_row(f"synthetic {count:,} resources (median of {runs})", count, walls, stages))
    largest, smallest = rows[-1], rows[0]
    if largest["resources"] == 2000:
        largest |= {
            "target_seconds": TARGET_2000_SECONDS,
            "ratio_to_target": round(largest["seconds"] / TARGET_2000_SECONDS, 2),
        }
    if len(rows) > 1:
        growth = largest["ms_per_resource"] / smallest["ms_per_resource"]
        largest |= {"growth_ratio": round(growth, 2), "target_growth_ratio": TARGET_GROWTH}
        meets = growth <= TARGET_GROWTH and largest.get("ratio_to_target", 0) <= 1
        if len(rows) > 2:
            # Start-up cost flatters time per resource; the cost of each extra resource shows the curve.
            middle = rows[-2]
            early = (middle["seconds"] - smallest["seconds"]) / (middle["resources"] - smallest["resources"])
            late = (largest["seconds"] - middle["seconds"]) / (largest["resources"] - middle["resources"])
            marginal = late / early if early > 0 else float("inf")
            largest |= {
                "marginal_ms_per_resource": round(1000 * late, 2),
                "marginal_growth_ratio": round(marginal, 2),
                "target_marginal_growth_ratio": TARGET_MARGINAL_GROWTH,
            }
            meets = meets and marginal <= TARGET_MARGINAL_GROWTH
        largest["meets_target"] = meets
    return rows


def _unavailable_row(name: str, reason: str) -> dict[str, Any]:
    return {"benchmark": "preflight", "name": name, "skipped": reason}


def run() -> list[dict[str, Any]]:
    """Dev stack and synthetic scale; a part that cannot run yet is one row saying why."""
    dev_runs = int(os.environ.get("PREFLIGHT_BENCH_RUNS", "5"))
    scale_runs = int(os.environ.get("PREFLIGHT_BENCH_SCALE_RUNS", "3"))
    rows = []
    try:
        rows.append(measure_dev_stack(dev_runs))
    except Unavailable as reason:
        rows.append(_unavailable_row("dev stack", str(reason)))
    try:
        rows += measure_scale(SIZES, scale_runs)
    except Unavailable as reason:
        rows.append(_unavailable_row("synthetic stacks", str(reason)))
    return rows


def print_rows(rows: list[dict[str, Any]]) -> None:
    print(
        "preflight: `python -m preflight --stack dev --output-dir ...` as a subprocess, pack start-up included; "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print(f"{'run':<42} {'wall s':>8} {'ms/res':>8} {'record':>7} {'analyze':>8} {'report':>7}")
    for row in rows:
        if "skipped" in row:
            print(f"{row['name']:<42} skipped: {row['skipped']}")
            continue
        print(
            f"{row['name']:<42} {row['seconds']:>8.2f} {row.get('ms_per_resource', ''):>8} "
            f"{row.get('record_seconds', ''):>7} {row.get('analyze_seconds', ''):>8} {row.get('report_seconds', ''):>7}"
        )
    print()
    print(f"{'measure':<42} {'measured':>9} {'target':>9} {'measured/target':>16}")
    for row in rows:
        if "target_seconds" in row:
            print(
                f"{row['name'] + ' wall s':<42} {row['seconds']:>9.2f} {row['target_seconds']:>9.2f} "
                f"{row['seconds'] / row['target_seconds']:>16.2f}"
            )
        if "marginal_growth_ratio" in row:
            print(
                f"{'cost per added resource, 1k-2k vs 100-1k':<42} {row['marginal_growth_ratio']:>9.2f} "
                f"{row['target_marginal_growth_ratio']:>9.2f} "
                f"{row['marginal_growth_ratio'] / row['target_marginal_growth_ratio']:>16.2f}"
            )
        if "growth_ratio" in row:
            print(
                f"{'per-resource time, 2,000 vs 100':<42} {row['growth_ratio']:>9.2f} "
                f"{row['target_growth_ratio']:>9.2f} {row['growth_ratio'] / row['target_growth_ratio']:>16.2f}"
            )


if __name__ == "__main__":
    print_rows(run())
