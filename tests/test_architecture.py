"""The project's layering, read from the source with `ast`: no import cycle among first-party modules, and each
part imports only what it may.

- components/ never imports preflight/, except preflight.config_types (the config value types both share);
- the policy pack (policies/) never imports components/ or preflight/: it runs in its own environment;
- no cycle among the modules of components/, preflight/, policies/guardrails/ and app/visits/.

Imports under `if TYPE_CHECKING:` do not run, so they count for neither rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Top-level package name -> its directory (guardrails and visits run with policies/ and app/ on sys.path).
PACKAGES = {
    "components": ROOT / "components",
    "preflight": ROOT / "preflight",
    "guardrails": ROOT / "policies" / "guardrails",
    "visits": ROOT / "app" / "visits",
}
Graph = Mapping[str, set[str]]


def module_files(packages: Mapping[str, Path]) -> dict[str, Path]:
    """Every module of the packages by dotted name (a package is its __init__.py)."""
    modules = {}
    for top, directory in packages.items():
        for path in sorted(directory.rglob("*.py")):
            parts = path.relative_to(directory).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((top, *parts))] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except the bodies of `if TYPE_CHECKING:` blocks (their `else:` still runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def imported_names(module: str, path: Path) -> set[str]:
    """Dotted names a module imports at run time, at any depth (function-level imports included)."""
    is_package = path.name == "__init__.py"
    names = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # `from . import x` in a package's __init__ is relative to the package itself.
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            names.add(target)
            # `from package import module` imports that module too.
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def import_graph(packages: Mapping[str, Path]) -> dict[str, set[str]]:
    """First-party module -> the first-party modules it imports (the longest known prefix of each name)."""
    modules = module_files(packages)
    graph = {}
    for module, path in modules.items():
        edges = set()
        for name in imported_names(module, path):
            parts = name.split(".")
            for end in range(len(parts), 0, -1):
                candidate = ".".join(parts[:end])
                if candidate in modules:
                    if candidate != module:
                        edges.add(candidate)
                    break
        graph[module] = edges
    return graph


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    components.append(sorted(members))
    return [_a_cycle_through(graph, set(members)) for members in components]


def _a_cycle_through(graph: Graph, members: set[str]) -> list[str]:
    """A concrete path a -> b -> ... -> a inside one strongly connected component, for the message."""
    start = min(members)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & members):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"{sorted(members)} is not strongly connected")


def forbidden_imports(graph: Graph, importer: str, banned: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list:
    """(module, imported) pairs where a module of `importer` imports a banned package outside `allowed`."""

    def within(name: str, prefixes: tuple[str, ...]) -> bool:
        return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)

    return sorted(
        (module, target)
        for module, targets in graph.items()
        if within(module, (importer,))
        for target in targets
        if within(target, banned) and not within(target, allowed)
    )


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(PACKAGES)


def test_the_graph_sees_the_projects_real_imports(graph: dict[str, set[str]]) -> None:
    # A parser that found nothing would pass every rule below: pin a few edges the code has.
    assert "components.checks" in graph["components.web_service_args"]
    assert "preflight.model" in graph["preflight.recorder"]
    assert "guardrails.framework" in graph["guardrails.rules.ecs"]
    assert "visits.settings" in graph["visits.server"]


def test_no_import_cycle_among_first_party_modules(graph: dict[str, set[str]]) -> None:
    cycles = [" -> ".join(cycle) for cycle in find_cycles(graph)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_components_never_import_preflight_but_its_config_types(graph: dict[str, set[str]]) -> None:
    assert forbidden_imports(graph, "components", ("preflight",), allowed=("preflight.config_types",)) == []


def test_the_pack_never_imports_components_or_preflight() -> None:
    # The pack's entry point (policies/__main__.py) and its rules alike: the pack runs in its own environment.
    modules = [
        *module_files({"guardrails": PACKAGES["guardrails"]}).items(),
        ("__main__", ROOT / "policies" / "__main__.py"),
    ]
    names = {name for module, path in modules for name in imported_names(module, path)}
    assert sorted(name for name in names if name.split(".")[0] in {"components", "preflight"}) == []


# --- the checks themselves can fail ---


def _write(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_cycle_is_found_through_relative_and_function_level_imports(tmp_path: Path) -> None:
    _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "a.py": "from pkg import b\n",
            "b.py": "def later():\n    from . import c\n",
            "c.py": "import pkg.a\n",
            "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n",
        },
    )
    graph = import_graph({"pkg": tmp_path / "pkg"})
    assert find_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    assert graph["pkg.d"] == set()


def test_a_forbidden_import_is_named(tmp_path: Path) -> None:
    _write(tmp_path / "components", {"__init__.py": "", "x.py": "from preflight.recorder import record\n"})
    _write(tmp_path / "preflight", {"__init__.py": "", "recorder.py": "", "config_types.py": ""})
    graph = import_graph({"components": tmp_path / "components", "preflight": tmp_path / "preflight"})
    assert forbidden_imports(graph, "components", ("preflight",), allowed=("preflight.config_types",)) == [
        ("components.x", "preflight.recorder")
    ]
