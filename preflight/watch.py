"""`preflight --watch`: a warm loop that previews again whenever the project changes.

The parent process keeps what is slow to start and never changes between saves: the SDKs imported and the
policy pack running. Every preview runs in a fresh process forked from it, so the program's own modules are
imported anew each time (always current) while the SDK modules are already in memory. After a run the child
names the library modules it imported; the parent imports them too, so the next fork starts with them
(pulumi_aws loads its services lazily, on the program's first use of each).

Changes are found by polling modification times (no file-system event API is needed at this scale: a project's
sources are a few hundred files): the project's .py/.yaml files trigger a preview; the pack's files, the
policy config and the stack files restart the pack first (the pack reads the stack's config at start, as the
CLI passes it). The parent never opens a gRPC channel itself: a forked gRPC client is unsafe, so each child
connects to the running pack on its own. Ctrl-C or SIGTERM stops the running preview and the pack (by PID)
and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from preflight import language_host, warm
from preflight.analyzer import AnalyzerError, PolicyPack
from preflight.stack_config import ConfigError, load_stack_config, stack_files

PROJECT_SUFFIXES = (".py", ".yaml", ".yml")
_SKIPPED_DIRS = {"__pycache__", "node_modules"}

Snapshot = dict[str, tuple[int, int]]


# One plain preview: its arguments and a running pack to use (or None), to an exit code.
Preview = Callable[[argparse.Namespace, PolicyPack | None], int]


def say(message: str) -> None:
    print(f"preflight --watch: {message}", file=sys.stderr, flush=True)


def _files(root: Path, suffixes: tuple[str, ...] | None, skip: set[Path]) -> Iterator[str]:
    """Files under `root` (all, or those ending in `suffixes`), leaving out hidden directories (.git, .venv),
    caches, virtualenvs (a pyvenv.cfg) and the directories in `skip`."""
    for directory, dirs, names in os.walk(root):
        if "pyvenv.cfg" in names and directory != str(root):
            dirs[:] = []
            continue
        dirs[:] = [
            name
            for name in dirs
            if not name.startswith(".") and name not in _SKIPPED_DIRS and Path(directory, name) not in skip
        ]
        for name in names:
            if suffixes is None or name.endswith(suffixes):
                yield os.path.join(directory, name)


def snapshot(paths: Iterator[str]) -> Snapshot:
    """Path -> (modification time, size); a file that vanished while being listed is left out."""
    found: Snapshot = {}
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            stat = os.stat(path)
            found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


class Watcher:
    """The watched state of one project: which files feed the program and which the pack."""

    def __init__(self, args: argparse.Namespace, stack: str) -> None:
        self.args = args
        self.project_dir = args.project_dir.resolve()
        self.stack = stack
        self.pack_dir = (args.policy_pack or self.project_dir / "policies").resolve()
        skip = {self.pack_dir}
        if args.output_dir:
            skip.add(args.output_dir.resolve())
        self._skip = skip
        self._extra_pack_files = [str(args.policy_config.resolve())] if args.policy_config else []
        self._extra_program_files = [str(args.program.resolve())] if args.program else []

    def program_files(self) -> Snapshot:
        files = _files(self.project_dir, PROJECT_SUFFIXES, self._skip)
        return snapshot(iter([*files, *self._extra_program_files]))

    def pack_files(self) -> Snapshot:
        """The pack's own files and what it reads at start: the policy config and the stack files."""
        # Pulumi.yaml too: its config defaults and values reach the pack with the stack's (stackConfigDir's
        # files when it is set).
        stacks = [str(self.project_dir / "Pulumi.yaml"), *(str(path) for path in stack_files(self.project_dir))]
        files = _files(self.pack_dir, None, set())
        return snapshot(iter([*files, *self._extra_pack_files, *stacks]))

    def new_pack(self) -> PolicyPack | None:
        """The pack for the stack's current config, not yet launched; None when the stack's config does not
        load, in which case each run starts a pack of its own and reports the error as a plain run would."""
        try:
            config = load_stack_config(self.project_dir, self.stack)
        except ConfigError:
            return None
        return PolicyPack(
            self.pack_dir,
            project=config.project,
            stack=config.stack,
            config=config.values,
            secret_keys=config.secret_keys,
        )


def _library_modules(before: set[str], project_dir: Path) -> list[str]:
    """Modules this process imported since `before` that are not the project's own: what the parent can
    import once so the next fork has them."""
    names = []
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None)
        if not origin or name == "__main__" or name in language_host.loaded_from:
            continue
        if language_host.in_project(origin, project_dir):
            continue
        names.append(name)
    return sorted(names)


def _child(
    args: argparse.Namespace, preview: Preview, pack: PolicyPack | None, report_to: int, project_dir: Path
) -> None:
    """The forked preview: run once, tell the parent which library modules it imported and which of their
    classes' types the SDK worked out, and exit."""
    code = 2
    try:
        before = set(sys.modules)
        lookups = warm.recording_lookups()
        code = preview(args, pack)
        modules = _library_modules(before, project_dir)
        library = set(modules) | {name for name in before if not name.startswith("__main__")}
        with os.fdopen(report_to, "w", encoding="utf-8") as channel:
            channel.write("\n".join([*modules, warm.MARK, *warm.lookup_refs(lookups, library)]))
    except BaseException:
        traceback.print_exc()  # a fault of preflight's own: shown, and the watch goes on
        raise
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)


class Session:
    """The parent: the running pack, the imported modules, and at most one preview in flight."""

    def __init__(self, args: argparse.Namespace, stack: str, preview: Preview) -> None:
        self.args = args
        self.preview_once = preview
        self.watcher = Watcher(args, stack)
        self.pack: PolicyPack | None = None
        self.child: int | None = None
        self.runs = 0
        self._failed_imports: set[str] = set()
        self._failed_lookups: set[str] = set()

    def preview(self, reason: str, seen_at: float) -> int:
        """Fork one preview and wait for it; returns its exit code."""
        self.runs += 1
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # or the child would write the parent's buffered text again
        _check_stop()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _child(self.args, self.preview_once, self.pack, write_end, self.watcher.project_dir)
        self.child = pid
        os.close(write_end)
        modules, _, lookups = _read_all(read_end).partition(f"\n{warm.MARK}")
        _, status = os.waitpid(pid, 0)
        self.child = None
        code = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - seen_at
        say(f"run {self.runs} ({reason}): exit {code} in {elapsed:.2f} s; watching for changes (Ctrl-C to stop)")
        self._keep_imported(modules.split())
        warm.make_lookups(lookups.strip().splitlines(), self._failed_lookups)
        return code

    def _keep_imported(self, modules: list[str]) -> None:
        """Import what the last preview imported, once, so every later fork starts with it.

        Reached by attribute from the top-level package, as the program reaches it: the SDKs load their
        submodules lazily (pulumi/_utils.py `lazy_import`), and importing a lazy package's submodules by
        name before the package itself has loaded leaves it without its members.
        """
        for name in modules:
            if name in self._failed_imports:
                continue
            top, *path = name.split(".")
            try:
                found = importlib.import_module(top)
            except ImportError:
                # A module the program's own environment provides (not importable here): the child imports it.
                self._failed_imports.add(name)
                continue
            for part in path:
                found = getattr(found, part, None)
                if found is None:
                    break  # a submodule its package does not expose; its package's import brought it in
            else:
                # The child names every module it registered, the SDK's lazy ones never loaded too (each service
                # of pulumi_aws): `__name__` is one of the introspection attributes that do not load a lazy module
                # (_INTROSPECTION_ATTRS in pulumi/_utils.py); a loaded service is reached through its submodules.
                _ = found.__name__

    def restart_pack(self) -> None:
        """(Re)start the pack and wait for its port. Held by the session before it is launched, so a signal at
        any point leaves it where `stop` finds it."""
        self.stop_pack()
        self.pack = self.watcher.new_pack()
        if self.pack is None:
            return
        try:
            self.pack.launch()
            port = self.pack.port()
        except AnalyzerError as error:
            self.stop_pack()
            say(f"policy pack did not start: {error}")
            return
        say(f"policy pack {self.pack.pack_dir.name}/ running (pid {self.pack.process.pid}, port {port})")

    def stop_pack(self) -> None:
        pack, self.pack = self.pack, None
        if pack is not None:
            pack.stop()

    def stop(self) -> None:
        """End the preview in flight and the pack, each by its PID, and reap them."""
        if self.child is not None:
            _end(self.child)
            self.child = None
        self.stop_pack()

    def loop(self) -> None:
        interval = self.args.watch_interval
        pack_files = self.watcher.pack_files()
        program_files = self.watcher.program_files()
        self.restart_pack()
        self.preview("first run", time.perf_counter())
        while True:
            time.sleep(interval)
            _check_stop()
            seen_at = time.perf_counter()
            now_pack, now_program = self.watcher.pack_files(), self.watcher.program_files()
            pack_changes, program_changes = changed(pack_files, now_pack), changed(program_files, now_program)
            if not pack_changes and not program_changes:
                continue
            pack_files, program_files = now_pack, now_program
            if pack_changes:
                say(f"{_names(pack_changes, self.watcher.project_dir)} changed: restarting the policy pack")
                self.restart_pack()
            self.preview(f"{_names(pack_changes + program_changes, self.watcher.project_dir)} changed", seen_at)


def _read_all(fd: int, tick_seconds: float = 0.2) -> str:
    """Everything until the writer closes `fd`, waking every `tick_seconds`: a signal the kernel hands to
    another thread (the pack's output readers) runs its handler only when the main thread wakes, so a
    blocking read would hold Ctrl-C and SIGTERM until the preview ends."""
    chunks = []
    try:
        while True:
            _check_stop()
            ready, _, _ = select.select([fd], [], [], tick_seconds)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return b"".join(chunks).decode("utf-8")
                chunks.append(chunk)
    finally:
        os.close(fd)


def _end(pid: int, grace_seconds: float = 5.0) -> None:
    """SIGTERM a forked preview and reap it; SIGKILL if it has not ended within `grace_seconds`."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    try:
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return
            time.sleep(0.02)
    except ChildProcessError:
        return  # already reaped


def _names(paths: list[str], project_dir: Path) -> str:
    shown = []
    for path in paths[:3]:
        with contextlib.suppress(ValueError):
            path = str(Path(path).relative_to(project_dir))
        shown.append(path)
    return ", ".join(shown) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


_stop_requested: list[int] = []


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C and SIGTERM only note the request: raising from a handler could land between a fork and
    keeping the child's PID. The loop stops at its next check (`_check_stop`), within a tick."""
    _stop_requested.append(signum)


def _check_stop() -> None:
    if _stop_requested:
        raise KeyboardInterrupt


def watch(args: argparse.Namespace, *, stack: str, preview: Preview) -> int:
    """Run `preflight --watch` on `stack` until Ctrl-C or SIGTERM, then exit 0.

    `preview` is one plain run (preflight.cli's execute), passed in so that the command line, which starts
    the watch, is the only one of the two modules that imports the other.
    """
    session = Session(args, stack, preview)
    _stop_requested.clear()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    previous_interrupt = signal.signal(signal.SIGINT, _interrupt)
    try:
        session.loop()
    except KeyboardInterrupt:
        say("stopping")
    finally:
        # A second Ctrl-C only notes a request again (`_interrupt`): the clean-up runs to its end.
        try:
            session.stop()
        finally:
            signal.signal(signal.SIGINT, previous_interrupt)
            signal.signal(signal.SIGTERM, previous)
    return 0
