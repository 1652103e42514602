"""The program's surroundings as the Python language host gives them, set up around one recording and put back
after it: the program's directory as working directory and first on sys.path, the project's virtualenv
packages importable after preflight's own, and the Pulumi runtime's globals reset between runs.

Modules a recording imports from a project are remembered by project (`loaded_from`), so that a later
recording of another copy of the project imports its own rather than the first one's.
"""

from __future__ import annotations

import contextlib
import functools
import os
import site
import sys
from collections.abc import Iterator
from pathlib import Path

from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings

from preflight.project import ProgramLocation

# Which project directory the importable modules now in sys.modules (components.*) came from.
loaded_from: dict[str, Path] = {}


@contextlib.contextmanager
def as_language_host(project_dir: Path, location: ProgramLocation) -> Iterator[None]:
    """The program's directory as cwd and first on sys.path, like the language host's `runpy.run_path`,
    with the project's virtualenv packages importable after preflight's own."""
    # Modules imported from another project directory (a test's copy of the project) would shadow
    # this one's under the same name; forget them so this run imports its own.
    forgotten = set()
    for name, directory in list(loaded_from.items()):
        if directory != project_dir:
            sys.modules.pop(name, None)
            forgotten.add(name)
            del loaded_from[name]
    _forget_registrations(forgotten)
    _resolved_directory.cache_clear()  # a directory's symlinks may have changed since the last run
    before = set(sys.modules)
    previous_cwd = Path.cwd()
    previous_path = list(sys.path)
    sys.path.insert(0, str(location.directory))
    # Only another environment's packages are added (and forgotten later); the one preflight runs in,
    # as for this project's own .venv, is already there.
    present = {Path(entry).resolve() for entry in sys.path if entry}
    added = [path for path in location.site_packages() if path.resolve() not in present]
    for site_packages in added:
        site.addsitedir(str(site_packages))  # appends, and runs the environment's .pth files
    os.chdir(location.directory)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        sys.path[:] = previous_path
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None)
            if origin and (in_project(origin, project_dir) or _under(origin, added)):
                loaded_from[name] = project_dir


def _under(filename: str, directories: list[Path]) -> bool:
    if not directories:
        return False
    path = Path(_resolved(filename))
    return any(path.is_relative_to(directory.resolve()) for directory in directories)


@functools.lru_cache(maxsize=4096)
def _resolved_directory(directory: str) -> str:
    return os.path.realpath(directory)


def _resolved(filename: str) -> str:
    """`os.path.realpath(filename)`, resolving each directory once: a program imports some 800 SDK modules from
    a few dozen directories, and resolving a path makes a system call per component. A module file that is
    itself a symlink is still followed."""
    if os.path.islink(filename):
        return os.path.realpath(filename)
    directory, name = os.path.split(filename)
    return os.path.join(_resolved_directory(directory), name)


def _forget_registrations(modules: set[str]) -> None:
    """Drop what forgotten provider SDKs registered with the runtime (`register_resource_module` refuses
    a second registration of the same version, which a fresh import of the SDK would make)."""
    for registry in (rpc._RESOURCE_MODULES, rpc._RESOURCE_PACKAGES):
        for key, registered in list(registry.items()):
            kept = [entry for entry in registered if type(entry).__module__ not in modules]
            if kept:
                registry[key] = kept
            else:
                del registry[key]


def in_project(filename: str, project_dir: Path) -> bool:
    """Whether a source file is the project's own code (not an installed package in its virtualenv)."""
    if not os.path.isabs(filename):
        return False
    path = _resolved(filename)
    inside = os.path.commonpath((path, str(project_dir))) == str(project_dir)
    return inside and "site-packages" not in path.split(os.sep)


def reset_runtime() -> None:
    runtime_settings.reset_options()
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
