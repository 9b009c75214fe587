"""The house's rules, read from the source (ast), not from a picture.

Layers, low to high: core < etl < indicators < demo < ui < pages < app.py. A module imports
its own layer or a lower one (every import counts, also one inside a function); only the
Streamlit shell (ui, pages, app.py) imports streamlit; no import circle among the modules;
and only etl/ writes the warehouse. benchmarks/ and tests/ sit outside the house: they may
import anything and build throw-away databases, so they are not checked.

Each exception is listed with its reason, and the test fails when one is no longer needed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.settings import REPO_ROOT

LAYERS = ("core", "etl", "indicators", "demo", "ui", "pages", "app")
RANK = {name: i for i, name in enumerate(LAYERS)}
STREAMLIT_LAYERS = {"ui", "pages", "app"}

# (importer, imported) -> why this upward import is allowed.
UPWARD_EXCEPTIONS = {
    ("etl.cli", "demo.build"): "composition root: the data contract fixes `python -m etl demo`, which builds "
    "the demo warehouse (demo sits above etl because it computes the demo targets with indicators)",
    ("etl.cli", "indicators.catalog"): "composition root: `python -m etl load` hands the catalog's indicator ids "
    "to the loader to check an obiettivi file (the loader itself never imports indicators)",
    ("etl.cli", "indicators.engine"): "composition root: `python -m etl load` hands the indicator values' "
    "computation to etl/stored_values.py, which keeps them beside the records after the load",
}

# The warehouse's write API (core/warehouse.py): calling it is writing; so is opening a DuckDB
# connection of one's own (it could open the warehouse file read-write).
WRITE_API = {
    "core.warehouse." + name
    for name in ("writer", "set_meta", "ensure_schema", "refresh_reference", "_connect_with_wait")
} | {"duckdb.connect"}
# SQL that changes data or schema, in a string constant (an f-string's literal parts too).
SQL_WRITE_VERBS = (
    "INSERT INTO",
    "UPDATE ",
    "DELETE FROM",
    "CREATE TABLE",
    "CREATE OR REPLACE TABLE",
    "CREATE TEMP TABLE",
    "CREATE OR REPLACE TEMP TABLE",
    "CREATE VIEW",
    "CREATE OR REPLACE VIEW",
    "DROP TABLE",
    "ALTER TABLE",
    "TRUNCATE",
    "COPY ",
    "ATTACH",
)
WRITERS = ("etl", "core.warehouse")  # etl/ and the module that defines the warehouse (schema, reference data)
# (module, function) outside etl/ that may hold write SQL -> why it never writes the warehouse file.
WRITE_EXCEPTIONS = {
    ("indicators.engine", "publish_values"): "core.warehouse.snapshot's `summarise` hook: writes the indicator "
    "values into the in-memory snapshot (a copy), never into the warehouse file",
}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # the most specific module of the project the statement names, or an outside package
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Every module of the house: core, etl, indicators, demo, ui, pages and app.py."""
    found = {"app": REPO_ROOT / "app.py"}
    for top in LAYERS[:-1]:
        for path in sorted((REPO_ROOT / top).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = project_modules()


def _resolve(name: str) -> str:
    """The longest prefix of a dotted name that is a module of the project (else the name itself)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in MODULES:
            return ".".join(parts[:n])
    return name


def imports_of(module: str, path: Path) -> Iterator[Import]:
    """Every import statement of the module, at any depth (functions included), as the module it reaches."""
    return imports_in(module, path.name == "__init__.py", path.read_text(encoding="utf-8"))


def imports_in(module: str, is_package: bool, source: str) -> Iterator[Import]:
    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(source)
    # `if TYPE_CHECKING:` imports exist for annotations only: they never run, so they make no arrow
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body
        for inner in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, _resolve(alias.name), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up `level - 1` packages
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - (node.level - 1)], *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield Import(module, full if full in MODULES else _resolve(base), node.lineno)


def layer(module: str) -> str:
    return module.split(".")[0]


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for imp in imports_of(module, path):
            if imp.imported in MODULES and imp.imported != module:
                graph[module].add(imp.imported)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# --- the rules -------------------------------------------------------------------------------


def upward_imports() -> list[Import]:
    """Imports of a project module from a higher layer."""
    return [
        imp
        for module, path in MODULES.items()
        for imp in imports_of(module, path)
        if imp.imported in MODULES and RANK[layer(imp.imported)] > RANK[layer(module)]
    ]


def test_every_import_points_down_or_is_a_listed_composition_root():
    wrong = [
        f"{imp.importer} (line {imp.line}) imports {imp.imported}: {layer(imp.importer)} sits below "
        f"{layer(imp.imported)}"
        for imp in upward_imports()
        if (imp.importer, imp.imported) not in UPWARD_EXCEPTIONS
    ]
    assert not wrong, "imports pointing up the layers:\n" + "\n".join(wrong)


def test_every_listed_exception_is_still_needed():
    used = {(imp.importer, imp.imported) for imp in upward_imports()}
    assert set(UPWARD_EXCEPTIONS) <= used, f"stale exceptions: {sorted(set(UPWARD_EXCEPTIONS) - used)}"
    assert set(WRITE_EXCEPTIONS) <= set(_write_sql_sites()), "stale write exceptions"


def test_only_the_streamlit_shell_imports_streamlit():
    wrong = [
        f"{imp.importer} (line {imp.line}) imports {imp.imported}"
        for module, path in MODULES.items()
        if layer(module) not in STREAMLIT_LAYERS
        for imp in imports_of(module, path)
        if imp.imported.split(".")[0] == "streamlit"
    ]
    assert not wrong, "core, etl, indicators and demo know nothing of Streamlit:\n" + "\n".join(wrong)


def test_no_import_circle():
    found = cycles(import_graph())
    assert not found, "import circles (break one tie: hand the dependency in):\n" + "\n".join(
        " <-> ".join(c) for c in found
    )


def _is_writer(module: str) -> bool:
    return any(module == w or module.startswith(w + ".") for w in WRITERS)


def _bound_names(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted name it is bound to by an import (`warehouse` -> `core.warehouse`)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                names[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.AST, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, names)
        return f"{base}.{node.attr}" if base else None
    return None


def _functions(tree: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(name of the enclosing top-level function or class, node) for every node of the module."""
    for top in tree.body:
        name = top.name if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) else "<module>"
        for node in ast.walk(top):
            yield name, node


def _write_verbs(text: str) -> list[str]:
    text = " ".join(text.upper().split())
    return [verb.strip() for verb in SQL_WRITE_VERBS if verb in text]


def _write_sql_sites() -> dict[tuple[str, str], list[str]]:
    """(module, function) outside the writers -> the write SQL in its string constants; (.sql file, "") too."""
    sites: dict[tuple[str, str], list[str]] = {}
    for top in LAYERS[:-1]:
        for path in sorted((REPO_ROOT / top).rglob("*.sql")):
            rel = str(path.relative_to(REPO_ROOT))
            if not _is_writer(rel.removesuffix(".sql").replace("/", ".")):
                lines = [line.split("--")[0] for line in path.read_text(encoding="utf-8").splitlines()]
                hits = _write_verbs("\n".join(lines))
                if hits:
                    sites[(rel, "")] = [", ".join(hits)]
    for module, path in MODULES.items():
        if _is_writer(module):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and n.body
            and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)
        }
        for function, node in _functions(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                hits = _write_verbs(node.value)
                if hits:
                    sites.setdefault((module, function), []).append(f"line {node.lineno}: {', '.join(hits)}")
    return sites


def test_only_etl_writes_the_warehouse():
    """No module outside etl/ (and core/warehouse.py, which defines it) opens a writer or a DuckDB connection
    of its own, or holds write SQL (in a string or a .sql file).

    core/warehouse.snapshot's CREATE TABLE is inside the module that defines the warehouse (an in-memory
    copy). demo/build.py writes only through etl functions (`load_files`, `record_meta`).
    """
    wrong = []
    for module, path in MODULES.items():
        if _is_writer(module):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        names = _bound_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _dotted(node.func, names) in WRITE_API:
                wrong.append(f"{module} (line {node.lineno}) calls {_dotted(node.func, names)}")
    for (module, function), hits in _write_sql_sites().items():
        if (module, function) not in WRITE_EXCEPTIONS:
            where = f"{module}.{function}" if function else module
            wrong += [f"{where} holds write SQL ({hit})" for hit in hits]
    assert not wrong, "only etl/ writes the warehouse:\n" + "\n".join(wrong)


# --- the checker itself, on literal source ------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from etl.loader import load_files", "etl.loader"),
        ("from indicators import views", "indicators.views"),
        ("import indicators.engine as e", "indicators.engine"),
        ("def f():\n    from ui import router", "ui.router"),  # inside a function: counts
        ("from .filters import frame", "ui.filters"),  # relative, from ui/banners.py
        ("from indicators.reports import ReportError", "indicators.reports"),  # a name, not a module
    ],
)
def test_imports_are_resolved_to_the_module_they_reach(source, expected):
    assert [i.imported for i in imports_in("ui.banners", False, source)] == [expected]


def test_annotation_only_imports_make_no_arrow():
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ui import router\nfrom ui import menu"
    assert [i.imported for i in imports_in("ui.banners", False, source)] == ["typing", "ui.menu"]


def test_a_circle_is_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
