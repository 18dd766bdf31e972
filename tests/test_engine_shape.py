"""The engine's shape: its modules import one another without a circle, and every fault
kind has its handler."""

from __future__ import annotations

import ast
from pathlib import Path

from concsim.engine import Simulation
from concsim.scenario.model import FaultKind, Scenario

ENGINE = Path(__file__).resolve().parent.parent / "concsim" / "engine"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ENGINE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _engine_imports(path: Path) -> set[str]:
    """The concsim.engine modules ``path`` imports, at run time or for type checking."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.add(
                    full
                    if (ENGINE.parent.parent / full.replace(".", "/")).with_suffix(".py").exists()
                    else target
                )
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module.startswith("concsim.engine") and module != name}


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _engine_imports(path) for path in ENGINE.rglob("*.py")}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of ``graph`` (a package's ``__init__`` aside), or []."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> list[str]:
        if module in visiting:
            return [*visiting[visiting.index(module) :], module]
        if module in done or module not in graph:
            return []
        visiting.append(module)
        for imported in sorted(graph[module]):
            if imported != "concsim.engine" and (found := visit(imported)):
                return found
        visiting.pop()
        done.add(module)
        return []

    for module in sorted(graph):
        if found := visit(module):
            return found
    return []


def test_the_engine_modules_import_one_another_without_a_circle() -> None:
    graph = _graph()
    assert "concsim.engine.world" in graph["concsim.engine.interpreter"]  # the walk sees imports
    assert _cycle(graph) == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]


def test_every_fault_kind_has_its_handler() -> None:
    scenario = Scenario.model_validate(
        {"name": "x", "tasks": [{"name": "t", "steps": [{"cpu": "1ms"}]}]}
    )
    sim = Simulation(scenario)
    assert set(sim.faults.handlers) == set(FaultKind)


def _sizes() -> tuple[dict[str, int], dict[str, int]]:
    """Lines per engine module, and per function (``module:name``)."""
    modules: dict[str, int] = {}
    functions: dict[str, int] = {}
    for path in sorted(ENGINE.rglob("*.py")):
        text = path.read_text()
        name = _module_name(path)
        modules[name] = len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                functions[f"{name}:{node.name}"] = node.end_lineno - node.lineno + 1
    return modules, functions


def test_no_engine_module_is_over_400_lines_and_no_function_over_60() -> None:
    modules, functions = _sizes()
    assert "concsim.engine.driver" in modules and "concsim.engine.driver:resume" in functions
    assert {name: n for name, n in modules.items() if n > 400} == {}
    assert {name: n for name, n in functions.items() if n > 60} == {}
