"""``program.task_factory``, checked on the file as written and on each variant: it needs
model asyncio and a CPython that has the factory. One positioned line each."""

from __future__ import annotations

from pydantic import ValidationError

from .document import Document, Loc
from .errors import Problem
from .model import Model, Scenario, TaskFactory

EAGER_SINCE = (3, 12)
"""``asyncio.eager_task_factory`` is new in 3.12 (gh-97696)."""


def task_factory_problems(scenario: Scenario, doc: Document) -> list[Problem]:
    """``task_factory: eager`` needs model asyncio, and Python 3.12 or later: 3.11's
    asyncio has no ``eager_task_factory`` (the program would fail with AttributeError)."""
    cases: list[tuple[Loc, Loc, Scenario]] = [(_FACTORY, _FACTORY, scenario)]
    for index, variant in enumerate(scenario.variants):
        here: Loc = ("variants", index)
        model_loc = python_loc = _FACTORY
        if variant.program.task_factory is not None:
            model_loc = python_loc = (*here, *_FACTORY)
        if variant.program.model is not None:
            model_loc = (*here, "program", "model")
        if variant.machine.python is not None:
            python_loc = (*here, "machine", "python")
        try:
            cases.append((model_loc, python_loc, scenario.variant(variant.name)))
        except ValidationError:
            continue  # a variant that breaks the program: check_variants says how
    problems: list[Problem] = []
    for model_loc, python_loc, applied in cases:
        problem = _problem(applied, doc, model_loc, python_loc)
        if problem is not None and problem not in problems:
            problems.append(problem)
    return problems


_FACTORY: Loc = ("program", "task_factory")


def _problem(applied: Scenario, doc: Document, model_loc: Loc, python_loc: Loc) -> Problem | None:
    if applied.program.task_factory is not TaskFactory.EAGER:
        return None
    python = applied.machine.python
    if applied.program.model is not Model.ASYNCIO:
        return doc.problem(
            model_loc,
            "`task_factory` sets the event loop's task factory: it applies to model "
            f"asyncio, not {applied.program.model.value}",
        )
    if python.at_least >= EAGER_SINCE:
        return None
    return doc.problem(
        python_loc,
        "`task_factory: eager` needs Python 3.12 or later (asyncio.eager_task_factory is new "
        f'in 3.12), but machine.python is {python.value}; expected python: "3.12" or later',
    )
