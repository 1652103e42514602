"""Where in the user's program each resource was constructed, and where a program's syntax error is.

The Python SDK already puts the construction site on every RegisterResourceRequest (`sourcePosition`, from
`_get_stack_trace` in pulumi/runtime/resource.py), but it finds it by counting `__init__` frames and builds
a full `traceback.extract_stack()` per resource, reading source lines nobody uses. While recording,
`capturing` swaps in a walk that stops at the first frame of the program's own code (not the SDK, not an
installed package, not preflight) and costs a dictionary lookup per frame; the recorder then reads the
request's `sourcePosition` as the engine would.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from urllib.parse import unquote, urlparse

from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

from preflight.model import SourceLocation

PREFLIGHT_DIR = Path(__file__).resolve().parent
_LIBRARY_DIRS = ("site-packages", "dist-packages")
# Where a resource class runs its own construction (generated SDK classes use `_internal_init`).
_CONSTRUCTORS = ("__init__", "_internal_init")


class ProgramFiles:
    """Which source files are the program's own, and how the reports name them."""

    def __init__(self, project_dir: Path, program: Path | None = None) -> None:
        self.project_dir = Path(project_dir).resolve()
        self.program = Path(program).resolve() if program else None
        self._files: dict[str, tuple[str, str] | None] = {}
        self._prefix = str(self.project_dir) + os.sep
        self._program_name = str(self.program) if self.program else None

    def _lookup(self, filename: str) -> tuple[str, str] | None:
        """(absolute path, report name) of a program file, None for any other; each file resolved once."""
        try:
            return self._files[filename]
        except KeyError:
            pass
        found = None
        # The program's modules are imported through the resolved project directory (first on sys.path)
        # and the program itself runs from its resolved path, so a prefix test rules out the SDK's and the
        # standard library's files without touching the file system.
        if filename.startswith(self._prefix) or filename == self._program_name:
            path = Path(filename).resolve()
            inside = path.is_relative_to(self.project_dir)
            library = any(part in _LIBRARY_DIRS for part in path.parts) or path.is_relative_to(PREFLIGHT_DIR)
            if not library and (inside or path == self.program):
                found = (str(path), path.relative_to(self.project_dir).as_posix() if inside else path.as_posix())
        self._files[filename] = found
        return found

    def name(self, filename: str) -> str | None:
        """The report's name for `filename` (relative to the project directory when inside it), or None
        when it is not the program's code."""
        found = self._lookup(filename)
        return found[1] if found else None

    def construction_site(self, frame: FrameType | None, resource: object = None) -> tuple[str, int] | None:
        """The first frame, walking out from `frame`, that runs the program's code: (absolute file, line).

        A component class of the program constructs itself in its own `__init__` (`super().__init__(...)`);
        that frame is skipped so the site is where the program made the component, as Pulumi's SDK does.
        """
        while frame is not None:
            found = self._lookup(frame.f_code.co_filename)
            if found is not None and not (
                resource is not None
                and frame.f_code.co_name in _CONSTRUCTORS
                and frame.f_locals.get("self") is resource
            ):
                return found[0], frame.f_lineno
            frame = frame.f_back
        return None

    def stack_trace(self) -> source_pb2.StackTrace:
        """What `_get_stack_trace` returns to the SDK: the construction site as the only frame.

        Its caller is the SDK's `register_resource` or `read_resource`, whose `res` is the resource."""
        caller = sys._getframe(1)
        site = self.construction_site(caller, caller.f_locals.get("res"))
        if site is None:
            return source_pb2.StackTrace()
        position = source_pb2.SourcePosition(uri=Path(site[0]).as_uri(), line=site[1])
        return source_pb2.StackTrace(frames=[source_pb2.StackFrame(pc=position)])

    def location(self, position: source_pb2.SourcePosition) -> SourceLocation | None:
        """A request's `sourcePosition` as a report location, when it points into the program."""
        parsed = urlparse(position.uri)
        if parsed.scheme != "file" or position.line < 1:
            return None
        name = self.name(unquote(parsed.path))
        return SourceLocation(name, position.line) if name else None

    def syntax_error(self, error: SyntaxError) -> str | None:
        """`<file>:<line>: SyntaxError: <message>` naming the program's file, or None if not the program's."""
        name = self.name(error.filename or "")
        if name is None:
            return None
        text = (error.text or "").strip()
        return f"{name}:{error.lineno}: SyntaxError: {error.msg}" + (f": {text}" if text else "")


@contextlib.contextmanager
def capturing(files: ProgramFiles) -> Iterator[None]:
    """While recording, the SDK asks `files` for the construction site instead of walking the whole stack.

    If the SDK has no `_get_stack_trace` (another version), nothing is swapped and whatever position the
    SDK sends is still read by the recorder.
    """
    original = getattr(sdk_resource, "_get_stack_trace", None)
    if original is None:
        yield
        return
    sdk_resource._get_stack_trace = files.stack_trace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original
