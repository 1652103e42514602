"""`python -m benchmarks`: run every benchmarks/*_bench.py module and print the results side by side.

Each module has `run() -> list[dict]`; a row names its `benchmark` and `name`, carries its measures,
and may carry `target_<measure>` next to `<measure>` and a `meets_target` verdict, which the summary
lines up. `--only preflight` runs one module, `--json PATH` keeps the rows, `--strict` exits 1 when a
measured row misses its target (exit 1 also when a benchmark crashes).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(path.stem.removesuffix("_bench") for path in HERE.glob("*_bench.py"))


def run_module(name: str) -> list[dict[str, Any]]:
    module = importlib.import_module(f"benchmarks.{name}_bench")
    rows = module.run()
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise TypeError(f"benchmarks/{name}_bench.py: run() must return a list of dicts")
    return rows


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def targets_of(row: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(measure, measured, target) for every `target_<measure>` the row carries next to `<measure>`."""
    pairs = []
    for key, target in row.items():
        if key.startswith("target_"):
            measure = key.removeprefix("target_")
            if measure in row:
                pairs.append((measure, row[measure], target))
    return pairs


def print_summary(rows: list[dict[str, Any]]) -> None:
    print()
    one, five, fifteen = os.getloadavg()
    # A shared machine skews every figure: the load says how much.
    print(f"load average at the end: {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs")
    print(f"{'benchmark':<10} {'row':<44} {'measure':<24} {'measured':>10} {'target':>10} {'ratio':>7}  verdict")
    for row in rows:
        name = str(row.get("name", ""))[:44]
        if "skipped" in row or "error" in row:
            print(
                f"{row['benchmark']:<10} {name:<44} {'skipped' if 'skipped' in row else 'error'}: "
                f"{row.get('skipped') or row.get('error')}"
            )
            continue
        pairs = targets_of(row)
        if not pairs:
            continue
        verdict = {True: "meets", False: "misses"}.get(row.get("meets_target"), "")
        for measure, measured, target in pairs:
            ratio = (
                f"{measured / target:.2f}"
                if isinstance(measured, int | float) and isinstance(target, int | float) and target
                else ""
            )
            print(
                f"{row['benchmark']:<10} {name:<44} {measure:<24} {_format(measured):>10} "
                f"{_format(target):>10} {ratio:>7}  {verdict}"
            )
            name, verdict = "", ""


def main(argv: list[str] | None = None) -> int:
    available = discover()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=available, help="run only this benchmark (repeatable)")
    parser.add_argument("--json", type=Path, help="also write every row to this JSON file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a row misses its target")
    args = parser.parse_args(argv)

    rows: list[dict[str, Any]] = []
    crashed = False
    for name in args.only or available:
        print(f"== {name}", flush=True)
        try:
            module_rows = run_module(name)
        except Exception as error:  # noqa: BLE001 - one broken benchmark must not hide the others' results
            crashed = True
            traceback.print_exc()
            module_rows = [{"benchmark": name, "name": "(crashed)", "error": f"{type(error).__name__}: {error}"}]
        printer = getattr(sys.modules.get(f"benchmarks.{name}_bench"), "print_rows", None)
        if callable(printer) and not any("error" in row for row in module_rows):
            printer(module_rows)
        else:
            for row in module_rows:
                print("  " + ", ".join(f"{key}={_format(value)}" for key, value in row.items()))
        rows += module_rows
    print_summary(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    missed = any(row.get("meets_target") is False for row in rows)
    return 1 if crashed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
