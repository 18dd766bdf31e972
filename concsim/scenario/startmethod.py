"""What ``machine.start_method`` (``multiprocessing.set_start_method``) allows, checked on
the file as written and on each variant: one positioned line per combination concsim does
not model."""

from __future__ import annotations

from typing import Any, assert_never

from pydantic import BaseModel, ValidationError

from .document import Document, Loc
from .errors import Problem
from .kinds import STEP_KIND_NAMES, Shared, shared_by
from .model import STEP_KINDS, Model, Scenario, StartMethod


def start_method_problems(scenario: Scenario, doc: Document) -> list[Problem]:
    """Under ``spawn`` or ``forkserver`` a module-level lock, queue or event would be made
    again by each child that imports the program (``stop.set()`` would not reach it). Main
    makes them and hands them over (codegen/passed.py): plain processes as ``Process``
    arguments, a pool's workers through its ``initializer``. Refused: one an ``atexit``
    handler uses (a module-level function: main's local is not in its scope)."""
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
        shared = _unpassable(applied)
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
    """Processes under ``spawn`` or ``forkserver``, or under a ``fork`` the program sets:
    main makes the locks, queues and events and hands them to the processes. A module-level
    ``multiprocessing.Lock()`` would fix the default context as the program is imported, and
    ``set_start_method`` would then raise RuntimeError('context has already been set'), even
    for the method already in use; under fork an ``atexit`` handler's primitive stays at
    module level (its handler has no argument to be given it by)."""
    machine = scenario.machine
    if scenario.program.model is not Model.PROCESSES:
        return False
    if machine.resolved_start_method is not StartMethod.FORK:
        return True
    return machine.start_method is StartMethod.FORK and _unpassable(scenario) is None


def _unpassable(scenario: Scenario) -> str | None:
    """What main cannot pass to plain processes under spawn: a lock, queue or the stop event
    an ``atexit`` handler uses (a module-level function: main's local is not in its scope)."""
    return _shared_in(list(scenario.program.atexit))


def _shared_in(steps: list[Any]) -> str | None:
    """The first lock, queue, event or stop event these steps (or steps nested in them) use."""
    stack = list(reversed(steps))
    while stack:
        step = stack.pop()
        kinds = zip(STEP_KIND_NAMES, STEP_KINDS.values(), strict=True)
        kind = next((k for k, cls in kinds if type(step) is cls), None)
        shared = shared_by(kind) if kind is not None else None
        name = getattr(step, _ATTRIBUTE.get(kind, kind), None) if kind is not None else None
        match shared:
            case Shared.STOP:
                return "stop event"
            case Shared.QUEUE:
                return f"queue `{name}`"
            case Shared.LOCK:
                return f"lock `{name}`"
            case Shared.PRIMITIVE:
                return f"`{name}`"
            case None:
                pass
            case _:
                assert_never(shared)
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
