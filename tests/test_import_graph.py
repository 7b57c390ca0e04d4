"""The import graph of `ebo` and `matching` has no cycle, and `matching` stands on its own.

How the graph is built (read from the source with `ast`; nothing is imported):

- A node is a module of the `ebo` or `matching` import package: a `.py` file in a folder that has an
  `__init__.py` all the way up (so Alembic's `ebo/migrations`, loaded by path, is not a module).
  A package is the node of its `__init__.py`: `ebo` is `ebo/__init__.py`.
- Every import statement is an edge, at module level and inside functions alike, except those under
  `if TYPE_CHECKING:` (the models name each other in annotations only). Relative imports are resolved.
- `import a.b.c` is an edge to `a.b.c`. `from a.b import c` is an edge to `a.b.c` when that is a module,
  and otherwise to the package `a.b` itself: `from ebo import create_app` depends on `ebo/__init__.py`.
- `importlib.import_module(...)` in a module is an edge to every module whose dotted name stands in
  that module as a string (`create_app` imports the blueprints listed in `BLUEPRINTS` this way).
- Importing `a.b.c` also runs `a/__init__.py` and `a/b/__init__.py`, but that implied step is not an
  edge: a package's `__init__` may import its own submodules without forming a cycle with every
  module below it. A module that needs a name from a package `__init__` says so with an explicit import,
  which is an edge.

A cycle fails the test and is printed. So does a service that imports upwards (a view, a form, the
request plumbing in `ebo.security`, or the app). docs/architecture.md ("Import layering") gives the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ebo", "matching")
FRAMEWORKS = ("ebo", "flask", "flask_babel", "flask_login", "flask_wtf", "flask_sqlalchemy", "flask_migrate",
              "flask_limiter", "sqlalchemy", "alembic", "wtforms", "werkzeug", "jinja2")


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the packages."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            folders = path.relative_to(root).parents
            if not all((root / folder / "__init__.py").is_file() for folder in folders if str(folder) != "."):
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Every Import and ImportFrom node, skipping the bodies of `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _imports(node)


def imported_names(name: str, path: Path) -> list[str]:
    """The dotted names this module imports (third-party ones included), relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: list[str] = []
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        names.extend(f"{base}.{alias.name}" for alias in node.names)
    return names


def imported_by_name(path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules a module names as strings, if it calls `importlib.import_module` (the blueprints)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if not any(isinstance(n, ast.Attribute) and n.attr == "import_module" for n in ast.walk(tree)):
        return set()
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in modules}


def _resolve(dotted: str, modules: dict[str, Path]) -> str | None:
    """The longest known module that `dotted` names or lies in (`a.b.c` -> `a.b.c`, or `a.b` for a name in it)."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the modules of the packages it imports."""
    modules = module_files(root)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {_resolve(dotted, modules) for dotted in imported_names(name, path)}
        targets |= imported_by_name(path, modules)
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None; depth-first, deterministic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def all_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """A cycle through each strongly connected group of modules (for a readable failure message)."""
    cycles, remaining = [], {k: set(v) for k, v in graph.items()}
    while (cycle := find_cycle(remaining)) is not None:
        cycles.append(cycle)
        remaining[cycle[-2]].discard(cycle[-1])  # cut the closing edge and look again
    return cycles


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert len(graph) > 50 and "ebo" in graph and "matching.schema" in graph  # the walk saw the packages
    assert "ebo.auth.views" in graph["ebo"]  # create_app's import of the blueprints by name is an edge
    cycles = all_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join("  " + " -> ".join(c) for c in cycles)


def test_services_import_no_view_no_request_plumbing_and_not_the_app():
    graph = import_graph()
    above = [
        f"{name} imports {target}"
        for name, targets in graph.items() if name.startswith("ebo.services.")
        for target in targets
        if target in ("ebo", "ebo.security", "ebo.cli") or target.rpartition(".")[2] in ("views", "forms", "blueprint")
        or target.endswith("_views")
    ]
    assert not above, "\n".join(above)


def test_matching_imports_nothing_from_the_web_application():
    modules = module_files()
    offending = [
        f"{name} imports {dotted}"
        for name, path in modules.items() if name.split(".")[0] == "matching"
        for dotted in imported_names(name, path)
        if dotted.split(".")[0] in FRAMEWORKS
    ]
    assert not offending, "\n".join(offending)


def test_the_cycle_finder_sees_function_local_and_package_imports(tmp_path):
    pkg = tmp_path / "ebo"
    (pkg / "services").mkdir(parents=True)
    (tmp_path / "matching").mkdir()
    (tmp_path / "matching" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from ebo import cli\n")
    (pkg / "cli.py").write_text("def f():\n    from .services import jobs\n")
    (pkg / "services" / "__init__.py").write_text("")
    (pkg / "extensions.py").write_text("db = None\n")
    (pkg / "services" / "jobs.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ebo.cli import f\n"
        "def g():\n    from ebo import create_app\n")
    graph = import_graph(tmp_path)
    assert graph["ebo.services.jobs"] == {"ebo"}  # the TYPE_CHECKING import is not an edge
    assert find_cycle(graph) == ["ebo", "ebo.cli", "ebo.services.jobs", "ebo"]
    (pkg / "services" / "jobs.py").write_text("from ebo.extensions import db\n")
    assert find_cycle(import_graph(tmp_path)) is None
