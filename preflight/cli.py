"""`python -m preflight`: record the program, judge it with the policy pack, report.

Exit codes: 0 clean (advisories allowed), 1 mandatory violations, 2 program, settings or config error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

from preflight.analyzer import AnalyzerError, PolicyConfigError, PolicyPack, policies_of
from preflight.model import Report
from preflight.recorder import ProgramError, record
from preflight.report_text import render_text
from preflight.stack_config import ConfigError, load_stack_config

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("text", "markdown", "json", "sarif", "mermaid")


class Progress:
    """One line per stage on stderr, so a long run shows where it is."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.started:6.2f}s] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack to preview (Pulumi.<stack>.yaml); default dev")
    parser.add_argument("--project-dir", type=Path, default=ROOT, help="directory holding Pulumi.yaml")
    parser.add_argument("--program", type=Path, help="program to run instead of <project-dir>/__main__.py")
    parser.add_argument("--policy-pack", type=Path, help="policy pack directory; default <project-dir>/policies")
    parser.add_argument(
        "--policy-config", type=Path, help="policy-pack-config JSON; default policies/config/<stack>.json"
    )
    parser.add_argument(
        "--unknowns", action="store_true", help="leave provider-computed outputs unknown, as a first preview does"
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="report on stdout; default text")
    parser.add_argument("--output-dir", type=Path, help="also write every format into this directory")
    parser.add_argument("--baseline", type=Path, help="a previous JSON report to diff the plan and verdicts against")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    return parser.parse_args(argv)


def fail(message: str) -> int:
    print(f"preflight: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except (ConfigError, ProgramError, PolicyConfigError, AnalyzerError) as error:
        if args.debug:
            traceback.print_exc()
        return fail(str(error))
    except KeyboardInterrupt:
        return fail("interrupted")


def run(args: argparse.Namespace) -> int:
    progress = Progress(args.quiet)
    started = time.perf_counter()
    project_dir = args.project_dir.resolve()
    pack_dir = (args.policy_pack or project_dir / "policies").resolve()
    config_path = args.policy_config or pack_dir / "config" / f"{args.stack}.json"
    policy_config = _read_policy_config(config_path) if args.policy_config or config_path.is_file() else {}

    renderers = None
    if args.format not in ("text",) or args.output_dir or args.baseline:
        try:
            from preflight import reports as renderers
        except ImportError as error:
            return fail(f"report formats are not available: {error}")
    baseline = _read_json(args.baseline) if args.baseline else None

    config = load_stack_config(project_dir, args.stack)
    pack = PolicyPack(
        pack_dir, project=config.project, stack=config.stack, config=config.values, secret_keys=config.secret_keys
    )
    # The pack's start-up (its imports) runs while the program is recorded.
    pack.launch()
    try:
        progress(f"recording stack {args.stack}{' with unknown outputs' if args.unknowns else ''}")
        recording = record(project_dir, args.stack, unknowns=args.unknowns, program=args.program, config=config)
        for warning in recording.warnings:
            progress(f"program warning: {warning}")
        for token in recording.unanswered_data_sources:
            progress(f"cannot judge yet: no offline answer for data source {token}; its outputs are unknown")
        progress(f"recorded {len(recording.resources)} resources; connecting to policy pack {pack_dir.name}/")
        pack.connect()
        levels = pack.configure(policy_config)
        policies = policies_of(pack.info(), levels)
        step = max(1, len(recording.resources) // 10)

        def analyzing(done: int, total: int) -> None:
            if done % step == 0 or done == total:
                progress(f"analyzing {done}/{total}")

        diagnostics = pack.analyze(recording.resources, progress=analyzing)
        pack_name = pack.info().name
    finally:
        pack.stop()
    report = Report(
        project=recording.project,
        stack=recording.stack,
        resources=recording.resources,
        outputs=recording.outputs,
        policies=policies,
        diagnostics=diagnostics,
        policy_pack=pack_name,
        policy_config=_display(config_path) if policy_config else "",
        unknowns=args.unknowns,
        elapsed_seconds=time.perf_counter() - started,
        coverage=pack.coverage,
        unanswered_data_sources=recording.unanswered_data_sources,
    )
    try:
        diff = renderers.compare(baseline, report) if renderers and baseline is not None else None
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"{args.baseline}: not a preflight JSON report ({error})") from None
    if args.output_dir and renderers:
        try:
            written = renderers.write_all(report, args.output_dir, diff=diff)
        except (OSError, ValueError) as error:
            raise ConfigError(f"--output-dir {args.output_dir}: {error}") from None
        progress(f"wrote {', '.join(_display(p) for p in written)}")
    if args.format == "text":
        sys.stdout.write(render_text(report))
    else:
        sys.stdout.write(renderers.render(report, args.format, diff=diff))
    progress(f"done: exit {report.exit_code}")
    return report.exit_code


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _read_json(path: Path) -> dict:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return document


def _read_policy_config(path: Path) -> dict:
    try:
        return _read_json(path)
    except ConfigError as error:
        raise PolicyConfigError(str(error)) from None
