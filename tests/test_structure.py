"""The package's import structure: no import cycles, and the library never imports the lab.

Every module of ``keras_sqnn`` is parsed with :mod:`ast`, never imported, and each of its
import statements that names a ``keras_sqnn`` module becomes an edge of a graph:

* ``import keras_sqnn.a.b`` points at ``keras_sqnn.a.b``. ``from keras_sqnn.a import b``
  points at ``keras_sqnn.a.b`` where that is a module (``a/b.py`` or ``a/b/__init__.py``),
  else at ``keras_sqnn.a``. Relative imports are resolved alike. A package is the module of
  its ``__init__.py``, named as the package (``keras_sqnn.metrics``).
* Imports inside functions count (they run when the function does); imports under
  ``if TYPE_CHECKING:`` do not (they never run).
* An edge from a module to a package that contains it (``keras_sqnn.metrics.fairness`` to
  ``keras_sqnn.metrics`` or to ``keras_sqnn``) is dropped: Python runs a package's
  ``__init__.py`` before any of its submodules, so such an import reads a name the package
  re-exports and orders nothing.

Rules:

(a) No import cycle between two different modules that are not packages: a strongly
    connected component of the graph may hold one such module at most (and packages), apart
    from :data:`KNOWN_CYCLES`. A package that re-exports its submodules is fine
    (``keras_sqnn.metrics`` imports ``keras_sqnn.metrics.fairness``, which imports
    ``keras_sqnn.validation``); ``a`` importing ``b`` importing ``a`` fails, directly or
    through the packages between them.
(b) The library never imports the lab. The lab is ``keras_sqnn.lab`` (with its submodules)
    and the old paths of its modules, each a deprecated alias (:data:`MOVED`); the library
    is every other module of ``keras_sqnn``. The edges from the library to the lab must be
    exactly :data:`KNOWN_UPWARD_IMPORTS`.

Both known sets are asserted exactly: a new cycle or upward import fails, and so does one
that is gone (remove it from the set).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "keras_sqnn"

# The lab's old paths, each now an alias of its module in keras_sqnn.lab (keras_sqnn.lab.moved).
MOVED = {
    "keras_sqnn.experiments": "keras_sqnn.lab.experiments",
    "keras_sqnn.baselines": "keras_sqnn.lab.baselines",
    "keras_sqnn.cli": "keras_sqnn.lab.cli",
    "keras_sqnn.plots": "keras_sqnn.lab.plots",
}
LAB = ("keras_sqnn.lab", *MOVED)

# Import cycles between modules that are not packages, each as the set of modules of its
# strongly connected component. None today.
KNOWN_CYCLES: set[frozenset[str]] = set()

# Library modules that import the lab, (importer, imported), each with its reason.
KNOWN_UPWARD_IMPORTS = {
    # `keras_sqnn.baselines` as an attribute, deprecated: the module-level __getattr__
    # imports the alias on first use, so importing keras_sqnn loads no baseline.
    ("keras_sqnn", "keras_sqnn.baselines"),
    # `python -m keras_sqnn` is the `keras-sqnn` command.
    ("keras_sqnn.__main__", "keras_sqnn.lab.cli"),
}


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name; a package is its ``__init__.py``."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def is_package(name: str, modules: Mapping[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements under ``node``, at any depth, but not under ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for statement in child.orelse:  # an `else:` branch runs
                yield from _imports_of(statement)
            continue
        yield from _imports_of(child)


def _imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _imports(node)


def imported_modules(name: str, source: str, modules: Mapping[str, Path]) -> set[str]:
    """The ``keras_sqnn`` modules that the module ``name`` (with text ``source``) imports."""
    package = name if is_package(name, modules) else name.rpartition(".")[0]
    found = set()
    for statement in _imports(ast.parse(source)):
        if isinstance(statement, ast.Import):
            found.update(alias.name for alias in statement.names)
            continue
        base = statement.module or ""
        if statement.level:
            anchor = package.split(".")[: len(package.split(".")) - statement.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in statement.names:
            submodule = f"{base}.{alias.name}"
            found.add(submodule if submodule in modules else base)
    return {module for module in found if module in modules}


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules it imports, without the edges to packages that contain it."""
    graph = {}
    for name, path in modules.items():
        targets = imported_modules(name, path.read_text(), modules)
        graph[name] = {t for t in targets if t != name and not name.startswith(t + ".")}
    return graph


def strongly_connected(graph: Mapping[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of ``graph`` (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def cycles(graph: Mapping[str, set[str]], packages: set[str]) -> set[frozenset[str]]:
    """Components holding two modules or more that are not packages: rule (a)'s cycles."""
    return {
        frozenset(component)
        for component in strongly_connected(graph)
        if len(component - packages) >= 2
    }


def is_lab(name: str) -> bool:
    return any(name == lab or name.startswith(lab + ".") for lab in LAB)


def upward_imports(graph: Mapping[str, set[str]]) -> set[tuple[str, str]]:
    """The edges from the library to the lab: rule (b)'s violations."""
    return {
        (source, target)
        for source, targets in graph.items()
        if not is_lab(source)
        for target in targets
        if is_lab(target)
    }


MODULES = module_files()
GRAPH = import_graph(MODULES)
PACKAGES = {name for name in MODULES if is_package(name, MODULES)}


def test_the_graph_sees_the_package():
    # The parse finds the modules and the imports a reader sees (a regression of the
    # parser must not pass every rule on an empty graph).
    assert {"keras_sqnn", "keras_sqnn.tuning", "keras_sqnn.metrics.fairness"} <= set(MODULES)
    assert "keras_sqnn.validation" in GRAPH["keras_sqnn.metrics.fairness"]
    assert "keras_sqnn.metrics.fairness" in GRAPH["keras_sqnn.metrics"]
    assert "keras_sqnn.lab.cli" in GRAPH["keras_sqnn.__main__"]
    # `from keras_sqnn import metrics` is the package; `from keras_sqnn.x import name` is x.
    assert {"keras_sqnn.metrics", "keras_sqnn.classifiers"} <= GRAPH["keras_sqnn.tuning"]


def test_no_import_cycle_between_two_modules():
    found = cycles(GRAPH, PACKAGES)
    assert found == KNOWN_CYCLES, "\n".join(sorted(" <-> ".join(sorted(c)) for c in found))


def test_the_library_never_imports_the_lab():
    found = upward_imports(GRAPH)
    assert found == KNOWN_UPWARD_IMPORTS, sorted(found ^ KNOWN_UPWARD_IMPORTS)


def test_the_tuning_module_imports_no_experiment():
    assert not is_lab("keras_sqnn.tuning")
    assert not {t for t in GRAPH["keras_sqnn.tuning"] if is_lab(t)}


def test_the_old_lab_paths_are_aliases_and_nothing_else():
    # Each old path is the three-line module that calls keras_sqnn.lab.moved.alias with its
    # new path: nothing of the lab was left behind beside the library.
    for old, new in MOVED.items():
        assert GRAPH[old] == {"keras_sqnn.lab.moved"}, old
        assert f'alias(__name__, "{new}")' in MODULES[old].read_text()
    outside = {name for name in MODULES if is_lab(name) and not name.startswith("keras_sqnn.lab")}
    assert outside == set(MOVED)


def _synthetic(tmp_path: Path, files: Mapping[str, str]) -> dict[str, Path]:
    for relative, text in files.items():
        path = tmp_path / "keras_sqnn" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return module_files(tmp_path / "keras_sqnn")


def test_the_rules_fail_on_a_cycle_and_an_upward_import(tmp_path):
    # A hand-made package: a cycle a -> (package p, re-exporting b) -> b -> a, a package
    # that re-exports its own submodules, a submodule that imports its package, imports in
    # a function and under TYPE_CHECKING, and one upward import (library -> lab).
    modules = _synthetic(
        tmp_path,
        {
            "__init__.py": "from keras_sqnn import metrics\n",
            "a.py": "from keras_sqnn.p import B\n",
            "p/__init__.py": "from .b import B\n",
            "p/b.py": "def f():\n    import keras_sqnn.a\n",
            "metrics/__init__.py": "from keras_sqnn.metrics.fairness import gpa\n",
            "metrics/fairness.py": (
                "from typing import TYPE_CHECKING\n"
                "from keras_sqnn import metrics\n"
                "from keras_sqnn.validation import check\n"
                "if TYPE_CHECKING:\n"
                "    from keras_sqnn.plots import figure\n"
            ),
            "validation.py": "def check(): ...\n",
            "plots.py": "from keras_sqnn.validation import check\n",
            "losses.py": "def f():\n    from keras_sqnn.plots import figure\n",
        },
    )
    graph = import_graph(modules)
    assert graph["keras_sqnn.p"] == {"keras_sqnn.p.b"}  # relative import resolved
    assert graph["keras_sqnn.p.b"] == {"keras_sqnn.a"}  # inside a function
    assert graph["keras_sqnn.metrics.fairness"] == {"keras_sqnn.validation"}
    packages = {name for name in modules if is_package(name, modules)}
    assert cycles(graph, packages) == {
        frozenset({"keras_sqnn.a", "keras_sqnn.p", "keras_sqnn.p.b"})
    }
    assert upward_imports(graph) == {("keras_sqnn.losses", "keras_sqnn.plots")}
    # Without the cycle's closing import, no cycle: a package and its submodules are none.
    (tmp_path / "keras_sqnn" / "p" / "b.py").write_text("B = 1\n")
    assert cycles(import_graph(modules), packages) == set()


def test_a_direct_cycle_is_found():
    graph = {"m.a": {"m.b"}, "m.b": {"m.a"}, "m.c": {"m.a"}}
    assert cycles(graph, set()) == {frozenset({"m.a", "m.b"})}
    assert cycles({"m.a": {"m.b"}, "m.b": set()}, set()) == set()
