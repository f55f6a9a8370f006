"""No import cycle anywhere in ``bot/``: neither between the modules a file names (type-only imports included) nor
in what Python runs when it imports them (a package's ``__init__`` runs before its modules)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, modules: set[str], runtime: bool) -> set[str]:
    """The ``bot`` modules a file imports: a name imported from a package counts as the package, unless it is a
    module of it. ``runtime``: without imports under ``if TYPE_CHECKING:`` and inside functions."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes: Iterable[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If):
                if not (runtime and _is_type_checking(node)):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit([*node.body, *node.orelse, *node.finalbody, *(s for h in node.handlers for s in h.body)])
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    found.add(sub if sub in modules else base)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not runtime:
                visit(node.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {name for name in found if name in modules}


def _graph(runtime: bool) -> dict[str, set[str]]:
    paths = sorted((ROOT / "bot").rglob("*.py"))
    modules = {_module(p) for p in paths}
    graph = {_module(p): _imports(p, modules, runtime) for p in paths}
    if runtime:  # importing a.b.c runs a/__init__ and a/b/__init__ first, unless the importer is inside them
        for importer, edges in graph.items():
            for name in list(edges):
                while "." in name:
                    name = name.rpartition(".")[0]
                    if name in modules and not (importer == name or importer.startswith(name + ".")):
                        edges.add(name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                strong(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            strong(node)
    return found


def test_no_module_imports_itself_round_about() -> None:
    assert _cycles(_graph(runtime=False)) == []


def test_importing_any_module_never_meets_a_half_loaded_one() -> None:
    assert _cycles(_graph(runtime=True)) == []


def test_a_cycle_is_found(tmp_path: Path) -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"a"}}) == [["a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_type_only_imports_count_unless_runtime(tmp_path: Path) -> None:
    global ROOT
    saved = ROOT
    try:
        ROOT = tmp_path
        (tmp_path / "bot" / "pkg").mkdir(parents=True)
        (tmp_path / "bot" / "__init__.py").write_text("")
        (tmp_path / "bot" / "pkg" / "__init__.py").write_text("from bot.pkg.a import A\n")
        (tmp_path / "bot" / "pkg" / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                                        "    from bot.ports import P\nA = 1\n")  # fmt: skip
        (tmp_path / "bot" / "ports.py").write_text("from bot.pkg import A\n")
        assert _cycles(_graph(runtime=False)) == [["bot.pkg", "bot.pkg.a", "bot.ports"]]
        assert _cycles(_graph(runtime=True)) == []
        (tmp_path / "bot" / "pkg" / "a.py").write_text("import bot.ports\nA = 1\n")
        assert _cycles(_graph(runtime=True)) == [["bot.pkg", "bot.pkg.a", "bot.ports"]]
    finally:
        ROOT = saved
