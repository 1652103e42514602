"""`preflight` / `python -m preflight`: record the program, judge it with the policy pack, report.

Exit codes: 0 clean (advisories allowed), 1 mandatory violations, 2 program, settings or config error.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

# gRPC's core logs connection events (a GOAWAY from the pack as it stops) at INFO on stderr, where they
# would read as preflight's own errors; only its errors are worth showing. Set before grpc loads.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

from pulumi.runtime.proto import analyzer_pb2

from preflight import pack_info
from preflight.analysis import Analysis
from preflight.analyzer import AnalyzerError, PolicyPack
from preflight.model import Report
from preflight.policy_config import PolicyConfigError, policies_of, resolve_policy_config
from preflight.recorder import ProgramError, record
from preflight.reports import FORMATS, compare, render, write_all
from preflight.reports.values import struct_to_json
from preflight.stack_config import ConfigError, ConfigValueError, StackConfig, load_stack_config, stack_files

DEFAULT_STACK = "dev"


class Progress:
    """One line per stage on stderr, so a long run shows where it is."""

    def __init__(self, quiet: bool, interval: float = 0.5) -> None:
        self.quiet = quiet
        self.interval = interval
        self.started = time.perf_counter()
        self._last = 0.0
        self._count = 0

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.started:6.2f}s] {message}", file=sys.stderr, flush=True)

    def recording(self, count: int) -> None:
        """Called on every registration; speaks at most once per `interval` seconds."""
        self._count = count
        now = time.perf_counter()
        if now - self._last >= self.interval:
            self._last = now
            self(f"recording: {count} resource{'' if count == 1 else 's'} so far")

    @contextlib.contextmanager
    def heartbeat(self, seconds: float = 2.0) -> Iterator[None]:
        """While the program runs, a line every `seconds` even when nothing registers (its imports)."""
        done = threading.Event()

        def beat() -> None:
            while not done.wait(seconds):
                if time.perf_counter() - self._last >= seconds:
                    self.recording(self._count)

        thread = threading.Thread(target=beat, name="preflight-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="preflight", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stack", help=f"stack to preview (Pulumi.<stack>.yaml); default {DEFAULT_STACK}, or the only stack there is"
    )
    parser.add_argument(
        "--project-dir", type=Path, default=Path(), help="directory holding Pulumi.yaml; default the current directory"
    )
    parser.add_argument("--program", type=Path, help="program to run instead of the one Pulumi.yaml names")
    parser.add_argument("--policy-pack", type=Path, help="policy pack directory; default <project-dir>/policies")
    parser.add_argument(
        "--policy-config", type=Path, help="policy-pack-config JSON; default <policy-pack>/config/<stack>.json"
    )
    parser.add_argument(
        "--unknowns", action="store_true", help="leave provider-computed outputs unknown, as a first preview does"
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="report on stdout; default text")
    parser.add_argument("--output-dir", type=Path, help="also write every format into this directory")
    parser.add_argument("--baseline", type=Path, help="a previous JSON report to diff the plan and verdicts against")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument(
        "--watch",
        action="store_true",
        help="keep the SDKs imported and the pack running; preview again whenever a project file changes",
    )
    parser.add_argument(
        "--watch-interval", type=float, default=0.1, help="seconds between checks for changed files; default 0.1"
    )
    args = parser.parse_args(argv)
    if args.watch_interval <= 0:
        parser.error("--watch-interval must be positive")
    return args


def fail(message: str) -> int:
    print(f"preflight: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Run preflight and return its exit code (0, 1 or 2); callable in-process."""
    args = parse_args(argv)
    if args.watch:
        from preflight.watch import watch

        try:
            stack = choose_stack(args.project_dir.resolve(), args.stack)
        except ConfigError as error:
            return fail(str(error))
        return watch(args, stack=stack, preview=execute)
    return execute(args)


def execute(args: argparse.Namespace, pack: PolicyPack | None = None) -> int:
    """One preview with its errors reported as exit 2; `pack`, when given, is a running pack to use."""
    try:
        return run(args, pack)
    except (ConfigError, ProgramError, PolicyConfigError, AnalyzerError) as error:
        if args.debug:
            traceback.print_exc()
        return fail(str(error))
    except KeyboardInterrupt:
        return fail("interrupted")


def entry(argv: list[str] | None = None) -> NoReturn:
    """The `preflight` command: main(), then out without the interpreter's teardown.

    Once the report is written and flushed nothing is left to do, and tearing down the SDKs' modules and
    the recording's event loop takes longer than the analysis (and prints `BaseEventLoop.__del__` noise).
    """
    code = main(argv)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def stacks_in(project_dir: Path) -> list[str]:
    """The stacks a project has, as its stack files name them (in `stackConfigDir` when Pulumi.yaml sets it)."""
    return sorted({path.name.split(".", 1)[1].rsplit(".", 1)[0] for path in stack_files(project_dir)})


def choose_stack(project_dir: Path, requested: str | None) -> str:
    """The stack to preview: the one asked for; else dev, or the only one there is."""
    if requested:
        return requested
    stacks = stacks_in(project_dir)
    if not stacks or DEFAULT_STACK in stacks:
        return DEFAULT_STACK
    if len(stacks) == 1:
        return stacks[0]
    raise ConfigError(f"{project_dir} has several stacks; choose one with --stack: {', '.join(stacks)}")


def load_config(project_dir: Path, stack: str, program: Path | None = None) -> StackConfig:
    """The stack's config; a stack that does not exist is named with the ones that do."""
    try:
        return load_stack_config(project_dir, stack)
    except ConfigValueError as error:
        # Every problem in one run: the program's own settings check sees the refused values too.
        try:
            record(project_dir, stack, program=program, config=error.config)
        except ProgramError as program_error:
            raise ConfigError(error.merged_with(program_error.message)) from None
        raise
    except ConfigError as error:
        stacks = stacks_in(project_dir)
        if stack in stacks or not stacks:
            raise
        raise ConfigError(f"{error}; no stack {stack!r} here, the stacks are: {', '.join(stacks)}") from None


def peak_rss_bytes() -> int:
    """This process's peak resident memory (Linux reports KiB, macOS bytes)."""
    try:
        import resource
    except ImportError:  # Windows has no getrusage
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def children_peak_rss_bytes() -> int:
    """The peak resident memory of the largest child this process has reaped (here, the policy pack)."""
    try:
        import resource
    except ImportError:
        return 0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _mib(size: int) -> str:
    return f"{size / 2**20:.0f} MiB"


def run(args: argparse.Namespace, shared: PolicyPack | None = None) -> int:
    """One preview. A `shared` pack (launched by `--watch`) is connected to and left running; otherwise
    the run launches its own and stops it."""
    progress = Progress(args.quiet)
    started = time.perf_counter()
    project_dir = args.project_dir.resolve()
    stack = choose_stack(project_dir, args.stack)
    pack_dir = (args.policy_pack or project_dir / "policies").resolve()
    config_path = args.policy_config or pack_dir / "config" / f"{stack}.json"
    policy_config = _read_policy_config(config_path) if args.policy_config or config_path.is_file() else {}
    baseline = _read_json(args.baseline) if args.baseline else None

    config = load_config(project_dir, stack, args.program)
    pack = shared or PolicyPack(
        pack_dir, project=config.project, stack=config.stack, config=config.values, secret_keys=config.secret_keys
    )
    if shared is None:
        pack.launch()
    analysis: Analysis | None = None
    try:
        # A bad policy config is reported before the program runs. With the pack's rule list from an earlier
        # run of the same pack source, a config it accepts lets the pack start while the program records;
        # otherwise (a first run, or a config the list refuses) the running pack decides first.
        # A shared pack is already running: asking it costs less than hashing its sources for the cache.
        early = None if shared else pack_info.load(pack_dir)
        levels = None
        if early is None or not _accepts(early, policy_config):
            progress(f"starting policy pack {pack_dir.name}/ and checking its config")
            levels = _configure(pack, policy_config)
            pack_info.store(pack_dir, pack.info())
        # A pack still starting is connected to and configured on a worker while the program records. (Sending
        # each Analyze as its resource registers, as the engine does, was measured slower: the requests'
        # threads contend with the recording for this process's interpreter lock.)
        analysis = pack.stream(ready=None if levels is not None else lambda: _configure(pack, policy_config))

        mode = " with unknown outputs" if args.unknowns else ""
        progress(f"recording stack {stack} of project {config.project}{mode}")
        # Recording allocates many objects and frees few: the collector's passes are pure cost here
        # (bounded by the program's size; the report states the peak memory).
        gc.disable()
        try:
            with progress.heartbeat():
                recording = record(
                    project_dir,
                    stack,
                    unknowns=args.unknowns,
                    program=args.program,
                    config=config,
                    progress=progress.recording,
                )
        finally:
            gc.freeze()
            gc.enable()
        for warning in recording.warnings:
            progress(f"program warning: {warning}")
        # ESC environments the stack imports: the CLI resolves them through Pulumi Cloud, offline their keys are
        # missing (or take Pulumi.yaml's defaults); said like a data source without an answer.
        unanswered = [
            *recording.unanswered_data_sources,
            *(f"ESC environment {name} (imported by Pulumi.{stack}.yaml)" for name in config.environments),
        ]
        for token in unanswered:
            progress(f"cannot judge yet: no offline answer for data source {token}; its outputs are unknown")
        if levels is None:
            progress(f"recorded {len(recording.resources)} resources; connecting to policy pack {pack_dir.name}/")
        else:
            progress(f"recorded {len(recording.resources)} resources; analyzing")
        levels = analysis.ready() if levels is None else levels
        policies = policies_of(pack.info(), levels)
        pack_name = pack.info().name
        step = max(1, len(recording.resources) // 10)

        def analyzing(done: int, total: int) -> None:
            if done % step == 0 or done == total:
                progress(f"analyzing {done}/{total}")

        diagnostics = analysis.finish(recording.resources, progress=analyzing)
    except BaseException:
        if analysis is not None:
            analysis.cancel()  # nothing more is sent; what is in flight ends before the pack does
        pack.disconnect() if shared else pack.stop()
        raise
    if shared:
        pack.disconnect()
    else:
        # The pack has answered everything: SIGTERM now, and it exits while the report is rendered.
        _terminate(pack)
    report = Report(
        project=recording.project,
        stack=recording.stack,
        resources=recording.resources,
        outputs=struct_to_json(recording.outputs_struct),
        policies=policies,
        diagnostics=diagnostics,
        policy_pack=pack_name,
        policy_config=_display(config_path) if policy_config else "",
        unknowns=args.unknowns,
        elapsed_seconds=time.perf_counter() - started,
        peak_rss_bytes=peak_rss_bytes(),
        coverage=pack.coverage,
        unanswered_data_sources=unanswered,
    )
    try:
        diff = compare(baseline, report) if baseline is not None else None
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"{args.baseline}: not a preflight JSON report ({error})") from None
    if args.output_dir:
        try:
            written = write_all(report, args.output_dir, diff=diff)
        except (OSError, ValueError) as error:
            raise ConfigError(f"--output-dir {args.output_dir}: {error}") from None
        progress(f"wrote {', '.join(_display(p) for p in written)}")
    sys.stdout.write(render(report, args.format, diff=diff))
    sys.stdout.flush()
    if not shared:
        pack.stop()  # reaps the pack, which had its SIGTERM while the report was rendered
        memory = f"peak RSS {_mib(report.peak_rss_bytes)}, pack {_mib(children_peak_rss_bytes())}"
        progress(f"done: exit {report.exit_code}; {memory}")
    else:
        progress(f"done: exit {report.exit_code}")
    return report.exit_code


def _accepts(info: analyzer_pb2.AnalyzerInfo, policy_config: dict) -> bool:
    """Whether the pack `info` describes accepts the policy config, resolved as the CLI resolves it."""
    try:
        resolve_policy_config(info, policy_config)
    except PolicyConfigError:
        return False
    return True


def _configure(pack: PolicyPack, policy_config: dict) -> dict[str, str]:
    """Connect to the launched pack and configure it; rule -> enforcement level."""
    pack.connect()
    return pack.configure(policy_config)


def _terminate(pack: PolicyPack) -> None:
    """SIGTERM the pack and close the channel, without waiting: nothing is left to ask it, and its server's
    clean stop (SIGINT, then a wait) costs longer than rendering every report format."""
    process = pack.process
    if process is not None and process.poll() is None:
        process.terminate()
    if pack.channel is not None:
        pack.channel.close()
        pack.channel = None


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
