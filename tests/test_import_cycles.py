"""No import cycles among ``core``'s modules: each module's imports, read with ``ast``, form a graph
without circles, so any module can be imported (and understood) on its own, leaves first.

Every import statement counts, wherever it is written: at the top, inside a function (a lazy import
still ties the two modules together, it only hides the knot) and under ``if TYPE_CHECKING:`` (a
type needed from a module that imports you is the same knot; describe the type with a Protocol where
it is used instead). Only the edges written in the code count: importing ``core.a.b`` also runs
``core/a/__init__.py``, but a package's ``__init__`` re-exporting its own modules is not a cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "core"


def module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def core_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(CORE.rglob("*.py"))}


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The core modules that ``name`` (at ``path``) imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .x import y / from .. import z
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # "from core.text import corpus" imports the module core.text.corpus
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # "import core.x.y" of a non-module: its module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = core_modules()
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as a cycle."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a] & members)]
    return "{" + ", ".join(component) + "}: " + "; ".join(edges)


def test_core_modules_import_each_other_without_cycles():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles among core modules:\n" + "\n".join(describe(c, graph) for c in found)


def test_the_checker_sees_lazy_type_checking_and_package_relative_imports(tmp_path):
    """The reader itself: a cycle through a function-level import, one through TYPE_CHECKING,
    and 'from package import module' resolved to the module."""
    folder = tmp_path / "core" / "pkg"
    folder.mkdir(parents=True)
    (tmp_path / "core" / "__init__.py").write_text("")
    (folder / "__init__.py").write_text("from core.pkg.a import A\n")
    (folder / "a.py").write_text("A = 1\ndef f():\n    from core.pkg import b\n")
    (folder / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A\n")
    (folder / "c.py").write_text("import core.pkg.a\n")
    paths = {module_name_in(tmp_path, p): p for p in (tmp_path / "core").rglob("*.py")}
    graph = {name: imported_modules(name, path, set(paths)) for name, path in paths.items()}
    assert graph["core.pkg.a"] == {"core.pkg.b"} and graph["core.pkg.b"] == {"core.pkg.a"}
    assert graph["core.pkg"] == {"core.pkg.a"} and graph["core.pkg.c"] == {"core.pkg.a"}
    assert cycles(graph) == [["core.pkg.a", "core.pkg.b"]]


def module_name_in(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
