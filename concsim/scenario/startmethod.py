"""What ``machine.start_method`` (``multiprocessing.set_start_method``) allows, checked on
the file as written and on each variant: one positioned line per combination concsim does
not model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from .document import Document, Loc
from .errors import Problem
from .model import STEP_KINDS, Model, Scenario, StartMethod


def start_method_problems(scenario: Scenario, doc: Document) -> list[Problem]:
    """Under ``spawn`` or ``forkserver`` a module-level lock, queue or event would be made
    again by each child that imports the program (``stop.set()`` would not reach it). Plain
    processes are given theirs by main, as ``Process`` arguments (codegen/passed.py): a lock,
    semaphore, queue or the stop event is allowed there, unless an ``atexit`` handler, which
    has no such argument, uses it. Refused: a pool sharing any (``submit`` cannot pickle a
    ``SemLock``: it may be shared only through inheritance)."""
    problems: list[Problem] = []
    cases: list[tuple[Loc, Scenario]] = [(("machine", "start_method"), scenario)]
    for index, variant in enumerate(scenario.variants):
        loc: Loc = ("variants", index, "machine", "start_method")
        if variant.machine.start_method is None:
            loc = ("machine", "start_method")
        try:
            cases.append((loc, scenario.variant(variant.name)))
        except ValidationError:
            continue  # a variant that breaks the program: check_variants says how
    seen: set[tuple[Loc, str]] = set()
    for loc, applied in cases:
        method = applied.machine.start_method
        if method is None or method is StartMethod.FORK:
            continue
        program = applied.program
        if program.model is not Model.PROCESSES:
            continue
        text: str | None = None
        plain = not applied.program.executor
        shared = _unpassable(applied) if plain else _shared_object(applied)
        if shared is not None:
            text = (
                f"under `{method}` each child imports the program again and makes its own "
                f"{shared}, so the processes would not share it; expected fork"
            )
        if text is not None and (loc, text) not in seen:
            seen.add((loc, text))
            problems.append(doc.problem(loc, text))
    return problems


def passes_primitives(scenario: Scenario) -> bool:
    """Plain processes under ``spawn`` or ``forkserver``: main makes the locks, queues and
    events and passes them to the processes."""
    program = scenario.program
    return (
        program.model is Model.PROCESSES
        and not program.executor
        and scenario.machine.resolved_start_method is not StartMethod.FORK
    )


def _unpassable(scenario: Scenario) -> str | None:
    """What main cannot pass to plain processes under spawn: a lock, queue or the stop event
    an ``atexit`` handler uses (a module-level function: main's local is not in its scope)."""
    return _shared_in(list(scenario.program.atexit))


_QUEUE_STEPS = frozenset({"put", "get", "consume", "task_done", "join"})
_LOCK_STEPS = frozenset({"acquire", "release", "with"})
_PRIMITIVE_STEPS = frozenset(
    {"set", "clear", "wait", "wait_for", "notify", "notify_all", "abort", "reset"}
)


def _shared_object(scenario: Scenario) -> str | None:
    """The first module-level object the processes would share under fork (a lock, a
    queue, an event, the stop event), named as the refusal says it."""
    steps: list[Any] = [*scenario.program.main, *scenario.program.on_error]
    for task in scenario.tasks:
        steps += [*task.steps, *task.cleanup]
    return _shared_in(steps)


def _shared_in(steps: list[Any]) -> str | None:
    """The first lock, queue, event or stop event these steps (or steps nested in them) use."""
    stack = list(reversed(steps))
    while stack:
        step = stack.pop()
        kind = next((k for k, cls in STEP_KINDS.items() if type(step) is cls), "")
        name = getattr(step, _ATTRIBUTE.get(kind, kind), None) if kind else None
        if kind in {"check_stop", "set_stop"}:
            return "stop event"
        if kind in _QUEUE_STEPS:
            return f"queue `{name}`"
        if kind in _LOCK_STEPS:
            return f"lock `{name}`"
        if kind in _PRIMITIVE_STEPS:
            return f"`{name}`"
        nested = [
            item
            for value in (vars(step).values() if isinstance(step, BaseModel) else ())
            if isinstance(value, tuple)
            for item in value
            if isinstance(item, BaseModel)
        ]
        stack += reversed(nested)
    return None


_ATTRIBUTE = {"with": "with_"}
