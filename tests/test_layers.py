"""The import layers of DESIGN.md, checked on the source: every import points down, never in a circle.

    cli -> flows -> tasks -> agents | checks -> core
    core: models < redaction, gc_tuning, serving, resources < db < loading < analysis, collect
          < render, variants, slack

Imports inside functions count too: a lazy import is still a dependency. Besides the order:
- nothing imports the bare top-level names `agents`, `checks`, `tasks`, `flows` (they are reached as
  `trailcheck.agents` ...; openai-agents owns `agents`, many projects own `tasks`);
- no private name (`_x`) is imported from another module, and a private module only from inside
  its own package (tests excepted: they may test a package's helpers);
- no two trailcheck modules import each other, directly or around a loop.
"""

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BARE = ("agents", "checks", "tasks", "flows")
# Package data, not trailcheck's code: the bundled suites and examples (an example agent among them).
DATA = {ROOT / "trailcheck" / "examples", ROOT / "trailcheck" / "suites"}
# Rank of each layer (the second part of a trailcheck module's name); a module may import its own
# layer or any layer of a lower rank. Two layers with the same rank are siblings: neither imports the other.
RANK = {
    "models": 0,
    "redaction": 1,
    "gc_tuning": 1,
    "serving": 1,
    "home": 1,
    "resources": 1,
    "db": 2,
    "prefect_server": 2,
    "loading": 3,
    "analysis": 4,
    "collect": 4,
    "render": 5,
    "variants": 5,
    "slack": 5,
    "agents": 10,
    "checks": 10,
    "tasks": 11,
    "flows": 12,
    "cli": 13,
}
# `trailcheck/__init__.py` holds only the version; everything may read it.
PACKAGE_ROOT_RANK = -1


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (or the module a name is taken from)
    name: str | None  # the name taken with `from target import name`, when it is not a module
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}" + (f".{self.name}" if self.name else "")


def _module_files(folder: str) -> dict[str, Path]:
    files = {}
    for dirpath, dirnames, filenames in os.walk(ROOT / folder, followlinks=True):
        dirnames[:] = [
            d
            for d in dirnames
            if d != "__pycache__" and not d.startswith(".") and Path(dirpath) / d not in DATA
        ]
        for filename in filenames:
            if filename.endswith(".py"):
                path = Path(dirpath) / filename
                parts = list(path.relative_to(ROOT).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts.pop()
                files[".".join(parts)] = path
    return files


MODULES = {
    m: p for folder in ("trailcheck", "tests", "bench", "fuzz") for m, p in _module_files(folder).items()
}


def _imports(module: str, path: Path) -> Iterator[Import]:
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in MODULES:
                    yield Import(module, submodule, None, node.lineno)
                else:
                    yield Import(module, target, alias.name, node.lineno)


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports(module, path)]


def _rank(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "trailcheck":
        return None
    if len(parts) == 1:
        return PACKAGE_ROOT_RANK
    return RANK.get(parts[1])


def test_every_trailcheck_module_has_a_layer() -> None:
    unplaced = sorted({m.split(".")[1] for m in MODULES if m.startswith("trailcheck.") and _rank(m) is None})
    assert not unplaced, f"give these a place in RANK (and in DESIGN.md's layers): {unplaced}"


def test_nothing_imports_the_bare_top_level_names() -> None:
    bare = [str(imp) for imp in IMPORTS if imp.target.split(".")[0] in BARE]
    assert not bare, "import trailcheck.agents / .checks / .tasks / .flows instead:\n" + "\n".join(bare)


def test_imports_only_point_down() -> None:
    upward = []
    for imp in IMPORTS:
        source, target = _rank(imp.source), _rank(imp.target)
        if source is None or target is None:
            continue
        same_layer = imp.source.split(".")[:2] == imp.target.split(".")[:2]
        if not same_layer and target >= source and target != PACKAGE_ROOT_RANK:
            upward.append(str(imp))
    assert not upward, "upward or sideways imports (see the layers in this file's docstring):\n" + "\n".join(
        upward
    )


def _private_import(imp: Import) -> bool:
    if imp.name and imp.name.startswith("_") and not imp.name.startswith("__"):
        return True
    parts = imp.target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            owner = ".".join(parts[:i])
            return not (imp.source == owner or imp.source.startswith(owner + "."))
    return False


def test_no_private_name_crosses_its_module_or_package() -> None:
    # Tests may reach into the helpers they test (white-box); the rule keeps the shipped code layered.
    crossing = [
        str(imp)
        for imp in IMPORTS
        if imp.target in MODULES and not imp.source.startswith("tests.") and _private_import(imp)
    ]
    assert not crossing, "make these public or move them to the package that uses them:\n" + "\n".join(
        crossing
    )


def _import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES if m.startswith("trailcheck")}
    for imp in IMPORTS:
        if imp.source in graph and imp.target in graph and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    # Tarjan's strongly connected components, iteratively (no recursion limit to worry about).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_no_import_cycles() -> None:
    cycles = _cycles(_import_graph())
    assert not cycles, "modules that import each other (directly or around a loop):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


@pytest.mark.parametrize("rule", ["upward", "private", "cycle"])
def test_the_checks_catch_what_they_are_for(rule: str) -> None:
    """Each rule flags a planted violation, so a broken walker cannot pass by finding nothing."""
    if rule == "upward":
        source, target = _rank("trailcheck.loading.suite"), _rank("trailcheck.checks.registry")
        assert source is not None and target is not None and target >= source
    elif rule == "private":
        assert _private_import(Import("trailcheck.checks.x", "trailcheck.loading.suite", "_line_of", 1))
        assert _private_import(Import("trailcheck.cli.run", "trailcheck.agents._http", None, 1))
        assert not _private_import(Import("trailcheck.agents.http_agent", "trailcheck.agents._http", None, 1))
    else:
        planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
        assert _cycles(planted) == [["a", "b", "c"]]
    assert len(MODULES) > 150 and any(m.startswith("trailcheck.flows.") for m in MODULES)
