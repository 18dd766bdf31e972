"""What ``machine.start_method`` (``multiprocessing.set_start_method``) allows, checked on
the file as written and on each variant: one positioned line per combination concsim does
not model."""

from __future__ import annotations

from typing import Any

from .document import Document, Loc
from .errors import Problem
from .model import CheckStopStep, Model, Scenario, SetStopStep, StartMethod


def start_method_problems(scenario: Scenario, doc: Document) -> list[Problem]:
    """Under ``spawn`` or ``forkserver``: no process pool (it starts its workers one per
    submit, Lib/concurrent/futures/process.py ``_adjust_process_count``, not modelled), and
    no program stop event (a module-level ``multiprocessing.Event()`` is made again by each
    child that imports the program, so ``stop.set()`` would not reach it)."""
    problems: list[Problem] = []
    cases: list[tuple[Loc, Scenario]] = [(("machine", "start_method"), scenario)]
    for index, variant in enumerate(scenario.variants):
        loc: Loc = ("variants", index, "machine", "start_method")
        if variant.machine.start_method is None:
            loc = ("machine", "start_method")
        cases.append((loc, scenario.variant(variant.name)))
    seen: set[tuple[Loc, str]] = set()
    for loc, applied in cases:
        method = applied.machine.start_method
        if method is None or method is StartMethod.FORK:
            continue
        program = applied.program
        if program.model is not Model.PROCESSES:
            continue
        text: str | None = None
        if program.executor:
            text = (
                f"`{method}` is modelled for plain processes: a ProcessPoolExecutor under "
                f"{method} starts its workers one per submit, which concsim does not model; "
                "expected fork, or executor: false"
            )
        elif _uses_stop(applied):
            text = (
                f"under `{method}` each child imports the program again and makes its own "
                "stop event, so `set_stop` would not reach it; expected fork"
            )
        if text is not None and (loc, text) not in seen:
            seen.add((loc, text))
            problems.append(doc.problem(loc, text))
    return problems


def _uses_stop(scenario: Scenario) -> bool:
    stack: list[Any] = [*scenario.program.main, *scenario.program.on_error]
    for task in scenario.tasks:
        stack += [*task.steps, *task.cleanup]
    while stack:
        step = stack.pop()
        if isinstance(step, SetStopStep | CheckStopStep):
            return True
        for value in vars(step).values() if hasattr(step, "__dict__") else ():
            if isinstance(value, tuple):
                stack += [item for item in value if hasattr(item, "__dict__")]
    return False
