"""Imports flow one way: every import between multilevel modules (at module level or inside a function)
goes to the module's own layer or a lower one, and no modules import each other in a cycle.

The source is parsed with ``ast`` (nothing is imported), relative imports are resolved against the
importing module, and ``from package import name`` counts as importing ``package.name`` when that is a
module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "multilevel"

# lowest first; a module sits in the layer of its longest matching prefix (dotted, below "multilevel")
LAYERS = (
    ("errors", "_files", "_environment", "_numpyro"),
    ("syntax",),
    ("data_files",),
    ("model",),
    ("backend",),
    ("sampling",),
    ("results",),
    ("report",),
    ("blimp*",),
    ("api",),
    ("cli*", "__init__", "__main__"),
)
UNLAYERED = ("datasets",)  # bundled data: imports nothing of ours, anyone may read it


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int:
    """The layer index of a multilevel module; syntax/blimp_* is syntax (its package wins over its name)."""
    parts = module.split(".")[1:] or ["__init__"]
    if parts[0] in UNLAYERED:
        return -1
    for index, names in enumerate(LAYERS):
        for name in names:
            if name.endswith("*") and len(parts) == 1 and parts[0].startswith(name[:-1]):
                return index
            if parts[0] == name:
                return index
    raise AssertionError(f"module {module} is in no layer: add it to LAYERS in {Path(__file__).name}")


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """(imported multilevel module, line) for every import statement in the file, wherever it is."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path.name == "__init__.py", node)
            found.append((target, node.lineno))
            found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names
                      if f"{target}.{alias.name}" in known]
    return [(name, line) for name, line in found
            if name in known and name != module and (name == "multilevel" or name.startswith("multilevel."))]


def graph() -> dict[str, list[tuple[str, int]]]:
    found = modules()
    known = set(found)
    return {module: imports_of(module, path, known) for module, path in found.items()}


def _package_edge(module: str, target: str) -> bool:
    """A module importing its own package's ``__init__`` (``from . import x``) is not an upward edge."""
    return module.startswith(target + ".")


def test_every_module_has_a_layer():
    for module in modules():
        layer(module)


def test_no_module_imports_a_higher_layer():
    wrong = []
    for module, edges in graph().items():
        for target, line in edges:
            if layer(target) > layer(module) and not _package_edge(module, target):
                wrong.append(f"{module} (line {line}) imports {target}, a higher layer")
    assert not wrong, "\n".join(wrong)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (first repeated at the end), or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_import_cycles():
    edges = {module: {target for target, _ in targets if not _package_edge(module, target)}
             for module, targets in graph().items()}
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checker_finds_cycles_upward_imports_and_function_local_imports(tmp_path):
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    source = tmp_path / "probe.py"
    source.write_text("def late():\n    from ..api import Model\n    from . import text\n")
    edges = imports_of("multilevel.report.probe", source, {"multilevel.api", "multilevel.report.text"})
    assert edges == [("multilevel.api", 2), ("multilevel.report.text", 3)]
    assert layer("multilevel.api") > layer("multilevel.report.probe")
    assert layer("multilevel.blimp_quantities") == layer("multilevel.blimp")
    assert layer("multilevel.syntax.blimp_script") == layer("multilevel.syntax.formula")
    with pytest.raises(AssertionError, match="in no layer"):
        layer("multilevel.unknown_module")


def test_every_module_that_imports_numpyro_loads_it_through_multilevel_numpyro_first():
    """A lazy numpyro left in sys.modules by ArviZ breaks `import numpyro.<submodule>`; multilevel._numpyro
    loads it for real, so it must come before a module's first numpyro import."""
    late = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        lines = [node.lineno for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                 and any(name.split(".")[0] == "numpyro" for name in _imported(node))]
        guard = [node.lineno for node in tree.body if isinstance(node, ast.ImportFrom)
                 and any(alias.name == "_numpyro" for alias in node.names)]
        if lines and not (guard and guard[0] < lines[0]):
            late.append(str(path.relative_to(PACKAGE)))
    assert not late, f"import multilevel._numpyro before numpyro in: {late}"


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module or ""] if node.level == 0 else []
