"""The pack's rule list from its previous run, so a policy config can be checked before the program runs
while the pack itself starts in parallel with the recording.

What a pack answers to GetAnalyzerInfo follows from its own source files; the answer is kept under the
user's cache directory, keyed by a hash of those files and the interpreter. A hit only ever lets a config
*pass* early: the running pack checks it again before any verdict, and a config the cached list refuses is
confirmed with the running pack before it is reported, so a stale entry never invents an error.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

from google.protobuf.message import DecodeError
from pulumi.runtime.proto import analyzer_pb2

# Files whose content decides the rule list; data files (snapshots, databases) only feed verdicts.
_SOURCE_SUFFIXES = (".py", ".yaml", ".yml", ".txt")
_SKIPPED_DIRS = {".venv", "venv", "__pycache__", ".git", "node_modules"}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "shipshape-preflight"


def pack_key(pack_dir: Path) -> str:
    """A hash of the pack's source files (paths and contents) and the interpreter that runs it."""
    digest = hashlib.sha256(sys.executable.encode())
    sources = []
    # Skipped directories are pruned, not walked: the pack's virtualenv alone holds thousands of files.
    for directory, dirs, names in os.walk(pack_dir):
        dirs[:] = [name for name in dirs if name not in _SKIPPED_DIRS]
        sources += [Path(directory, name) for name in names if name.endswith(_SOURCE_SUFFIXES)]
    for path in sorted(sources, key=lambda source: source.relative_to(pack_dir).parts):
        digest.update(path.relative_to(pack_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load(pack_dir: Path) -> analyzer_pb2.AnalyzerInfo | None:
    """The pack's GetAnalyzerInfo answer from a run of the same source, or None."""
    path = cache_dir() / f"analyzer-info-{pack_key(pack_dir)}.binpb"
    try:
        return analyzer_pb2.AnalyzerInfo.FromString(path.read_bytes())
    except (OSError, DecodeError):
        return None  # no entry yet, or an unreadable one: the running pack answers instead


def store(pack_dir: Path, info: analyzer_pb2.AnalyzerInfo) -> None:
    """Keep the answer for the next run; a cache that cannot be written only costs the next run time."""
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # Written whole and renamed into place, so a concurrent run never reads half an entry.
        with tempfile.NamedTemporaryFile(dir=directory, delete=False) as handle:
            handle.write(info.SerializeToString())
        Path(handle.name).replace(directory / f"analyzer-info-{pack_key(pack_dir)}.binpb")
    except OSError as error:
        print(f"preflight: note: pack info not cached ({error})", file=sys.stderr)


def mark(path: Path) -> None:
    """Create an empty marker file in the cache; one that cannot be written only costs the next run time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as error:
        print(f"preflight: note: {path.name} not cached ({error})", file=sys.stderr)
