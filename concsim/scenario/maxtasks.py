"""``program.max_tasks_per_child``, checked on the file as written and on each variant: it
is an argument of ``ProcessPoolExecutor``, so it needs a process pool. One positioned line."""

from __future__ import annotations

from pydantic import ValidationError

from .document import Document, Loc
from .errors import Problem
from .model import Model, Scenario

_KEY: Loc = ("program", "max_tasks_per_child")


def max_tasks_problems(scenario: Scenario, doc: Document) -> list[Problem]:
    """``max_tasks_per_child`` needs model processes with ``executor: true``: a thread pool
    has no such argument (TypeError), and a plain ``multiprocessing.Process`` runs one
    target."""
    cases: list[tuple[Loc, Scenario]] = [(_KEY, scenario)]
    for index, variant in enumerate(scenario.variants):
        here: Loc = ("variants", index)
        loc = _KEY
        if variant.program.max_tasks_per_child is not None:
            loc = (*here, *_KEY)
        elif variant.program.model is not None:
            loc = (*here, "program", "model")
        elif variant.program.executor is not None:
            loc = (*here, "program", "executor")
        try:
            cases.append((loc, scenario.variant(variant.name)))
        except ValidationError:
            continue  # a variant that breaks the program: check_variants says how
    problems: list[Problem] = []
    for loc, applied in cases:
        program = applied.program
        if program.max_tasks_per_child is None:
            continue
        if program.model is Model.PROCESSES and program.executor:
            continue
        what = "plain processes" if program.model is Model.PROCESSES else program.model.value
        problem = doc.problem(
            loc,
            "`max_tasks_per_child` is an argument of ProcessPoolExecutor: it applies to model "
            f"processes with executor: true, not {what}",
        )
        if problem not in problems:
            problems.append(problem)
    return problems
