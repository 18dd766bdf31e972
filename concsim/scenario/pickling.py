"""Checks for what a process pool cannot pickle: an unpicklable argument or result only
means something where a ``ProcessPoolExecutor`` sends the call (``executor.submit``)."""

from __future__ import annotations

from pydantic import ValidationError

from concsim.scenario.document import Document, Loc
from concsim.scenario.errors import Problem
from concsim.scenario.model import Model, Pattern, Program, Scenario, Task


def check_pickling(scenario: Scenario, doc: Document) -> list[Problem]:
    """One line per task key that no process pool would send, as written or in a variant."""
    problems: list[Problem] = []
    runs: list[tuple[Loc, tuple[Task, ...], Program, str | None]] = [
        (("tasks",), scenario.tasks, scenario.program, None)
    ]
    for index, declared in enumerate(scenario.variants):
        try:
            applied = scenario.variant(declared.name)
        except ValidationError:
            continue  # check_variants reports a variant that breaks the program
        loc: Loc = ("variants", index, "tasks") if declared.tasks is not None else ("tasks",)
        runs.append((loc, applied.tasks, applied.program, declared.name))
    seen: set[Loc] = set()
    for loc, tasks, program, variant in runs:
        for index, task in enumerate(tasks):
            for key in ("unpicklable_arg", "unpicklable_result"):
                where = (*loc, index, key)
                why = _refused(key, task, program)
                if why is None or where in seen:
                    continue
                seen.add(where)
                under = f" (in variant {variant!r})" if variant else ""
                problems.append(doc.problem(where, why + under, at_key=True))
    return problems


def _refused(key: str, task: Task, program: Program) -> str | None:
    if getattr(task, key) is None:
        return None
    pool = program.model is Model.PROCESSES and program.executor
    if not pool:
        return (
            f"`{key}` is a value a process pool cannot pickle; expected model processes "
            "with executor: true (a thread pool or a forked Process sends no pickle)"
        )
    if key == "unpicklable_arg" and program.collect.pattern is Pattern.MAP:
        return (
            "`unpicklable_arg` is passed with executor.submit; expected a collect other "
            "than map (as_completed, result, wait or none)"
        )
    return None
