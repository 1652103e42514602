"""`preflight --watch` end to end: a real watch session on the tiny project in a temporary directory, the real
pack over gRPC, files changed the way an editor saves them, and the session stopped by signal."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

HERE = Path(__file__).parent
pytestmark = pytest.mark.slow
WAIT_SECONDS = 240  # how long to wait for a line before giving up; not a speed requirement


class Session:
    """A running `preflight --watch`, its stdout and stderr read line by line as they come."""

    def __init__(self, project: Path, pack: Path, cache: Path) -> None:
        self.marker = uuid.uuid4().hex
        self.process = subprocess.Popen(
            [sys.executable, "-m", "preflight", "--watch", "--stack", "test", "--project-dir", str(project),
             "--policy-pack", str(pack), "--watch-interval", "0.05"],
            env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache), "WATCH_TEST": self.marker},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self.stdout: list[str] = []
        self.stderr: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=lambda: self.stdout.extend(self.process.stdout), daemon=True).start()
        threading.Thread(target=lambda: [self.stderr.put(line) for line in self.process.stderr], daemon=True).start()

    def wait_for(self, pattern: str) -> re.Match[str]:
        """The first stderr line from now on that matches `pattern`."""
        while True:
            try:
                line = self.stderr.get(timeout=WAIT_SECONDS)
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r}; stderr so far:\n{''.join(self.seen)}")
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def report_text(self) -> str:
        return "".join(self.stdout)

    def processes_left(self) -> list[int]:
        """Every process still alive that inherited this session's environment (its preview, its pack)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue  # gone meanwhile, or not ours to read
            if f"WATCH_TEST={self.marker}".encode() in environ.split(b"\0") and state != "Z":
                found.append(int(entry.name))
        return found

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=WAIT_SECONDS)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    project, pack = tmp_path / "project", tmp_path / "pack"
    shutil.copytree(HERE / "project", project)
    shutil.copytree(HERE / "packs" / "tiny", pack)
    running = Session(project, pack, tmp_path / "cache")
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds leftover processes through /proc")
def test_a_saved_change_is_previewed_again_and_a_pack_change_restarts_the_pack(session: Session) -> None:
    project = Path(session.process.args[session.process.args.index("--project-dir") + 1])
    pack = Path(session.process.args[session.process.args.index("--policy-pack") + 1])
    first_pack = int(session.wait_for(r"policy pack \S+ running \(pid (\d+)")[1])
    assert session.wait_for(r"run 1 \(first run\): exit (\d)")[1] == "0", "".join(session.seen)
    assert "aws:s3/bucket:Bucket  store-0" in session.report_text()
    assert "late-bucket" not in session.report_text()

    # The program changes: the next preview imports the new source and shows the new resource.
    program = project / "__main__.py"
    program.write_text(program.read_text() + '\naws.s3.Bucket("late-bucket", tags={"team": "platform"})\n')
    assert session.wait_for(r"run 2 \(__main__\.py changed\): exit (\d)")[1] == "0", "".join(session.seen)
    assert "aws:s3/bucket:Bucket  late-bucket" in session.report_text()

    # The pack's config changes: the pack restarts (a new process) and the preview applies the new config.
    (pack / "config").mkdir()
    (pack / "config" / "test.json").write_text('{"tiny-required-tags": {"tags": ["team", "owner"]}}')
    session.wait_for(r"changed: restarting the policy pack")
    second_pack = int(session.wait_for(r"policy pack \S+ running \(pid (\d+)")[1])
    assert second_pack != first_pack
    assert session.wait_for(r"run 3 \(.*changed\): exit (\d)")[1] == "1", "".join(session.seen)
    assert "missing tags: owner" in session.report_text()
    assert not Path(f"/proc/{first_pack}").exists(), "the replaced pack is still running"

    assert session.stop(signal.SIGINT) == 0
    assert session.processes_left() == []


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds leftover processes through /proc")
def test_sigterm_during_a_preview_stops_the_preview_and_the_pack(session: Session) -> None:
    session.wait_for(r"policy pack \S+ running \(pid (\d+)")
    assert session.stop(signal.SIGTERM) == 0
    session.wait_for(r"stopping")
    assert session.processes_left() == []
