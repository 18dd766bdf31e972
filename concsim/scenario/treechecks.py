"""Checks of the asyncio task tree (format version 2): a task reference names a task, a
task is created once, and a coroutine awaits or cancels only a task it created."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from concsim.scenario.document import Document, Loc
from concsim.scenario.errors import Problem, did_you_mean
from concsim.scenario.model import (
    AwaitStep,
    CancelStep,
    ConsumeStep,
    Model,
    RepeatStep,
    Scenario,
    ShieldStep,
    Task,
    TaskGroupStep,
    WithinStep,
)
from concsim.scenario.tree import CREATING, created_refs, ref_base

_KIND = {AwaitStep: "await", CancelStep: "cancel", ShieldStep: "shield"}


def check_tree(scenario: Scenario, doc: Document) -> list[Problem]:
    """One positioned line per mistake in the steps that create, await or cancel tasks."""
    problems: list[Problem] = []
    programs: list[tuple[Loc, Scenario]] = [((), scenario)]
    for index, variant in enumerate(scenario.variants):
        try:
            programs.append((("variants", index), scenario.variant(variant.name)))
        except ValueError:
            continue  # check_variants reports it
    seen: set[tuple[Loc, int]] = set()
    for base, chosen in programs:
        for loc, owner, steps in _functions(base, chosen, doc):
            key = (loc, id(steps))
            if key in seen:
                continue
            seen.add(key)
            problems += _function(doc, chosen, loc, owner, steps)
        problems += _created_once(doc, base, chosen)
    return problems


def _functions(
    base: Loc, chosen: Scenario, doc: Document
) -> Iterator[tuple[Loc, Task | None, Sequence[Any]]]:
    """Each function's step list as written: main's, then each task's steps and cleanup."""
    own_tasks = base == () or "tasks" in _raw(doc, base)
    program = ("program", "main")
    if "main" in _raw(doc, (*base, "program")):
        yield (*base, *program), None, chosen.program.main
    elif base and "main" in _raw(doc, ("program",)):
        yield program, None, chosen.program.main
    for index, task in enumerate(chosen.tasks):
        where: Loc = (*base, "tasks", index) if own_tasks else ("tasks", index)
        yield (*where, "steps"), task, task.steps
        yield (*where, "cleanup"), task, task.cleanup


def _raw(doc: Document, loc: Loc) -> dict[Any, Any]:
    data: Any = doc.data
    for part in loc:
        data = data.get(part) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _nested(loc: Loc, steps: Sequence[Any]) -> Iterator[tuple[Loc, Any]]:
    for index, step in enumerate(steps):
        yield (*loc, index), step
        if isinstance(step, RepeatStep | WithinStep | TaskGroupStep):
            yield from _nested((*loc, index, "steps"), step.steps)
        elif isinstance(step, ConsumeStep):
            yield from _nested((*loc, index, "each"), step.each)


def _refs(step: Any) -> list[tuple[Any, str]]:
    """(the key, the reference) of each task a step names; a list's items by index."""
    kind = next((k for cls, k in _KIND.items() if isinstance(step, cls)), None)
    if kind is not None:
        return [(kind, getattr(step, {"await": "await_"}.get(kind, kind)))]
    if isinstance(step, WithinStep):
        return [("within", "")]
    if isinstance(step, CREATING):
        refs = created_refs(step)
        key = next(k for k in ("create_task", "gather", "taskgroup") if hasattr(step, k))
        return (
            [(key, refs[0])]
            if key == "create_task"
            else [((key, i), r) for i, r in enumerate(refs)]
        )
    return []


def _function(
    doc: Document, chosen: Scenario, loc: Loc, owner: Task | None, steps: Sequence[Any]
) -> list[Problem]:
    problems: list[Problem] = []
    tasks = {task.name: task.repeat for task in chosen.tasks}
    created: set[str] = set()
    for at, step in _nested(loc, steps):
        for key, ref in _refs(step):
            where = (*at, *key) if isinstance(key, tuple) else (*at, key)
            kind = key[0] if isinstance(key, tuple) else key
            message = _ref_problem(ref, tasks, owner, chosen.program.model)
            if message is None and kind in _KIND.values() and ref not in created:
                message = (
                    f"`{kind}: {ref}` needs the task created first in the same "
                    f"{'task' if owner else 'main program'}; expected `create_task: {ref}` "
                    "before it"
                )
            if message is not None:
                problems.append(doc.problem(where, message))
            elif kind == "create_task":
                created.add(ref)
    return problems


def _ref_problem(ref: str, tasks: dict[str, int], owner: Task | None, model: Model) -> str | None:
    if model is not Model.ASYNCIO:
        return (
            "a coroutine creates, awaits or cancels tasks, or awaits under asyncio.timeout(); "
            f"expected `model: asyncio`, not `{model.value}`"
        )
    if not ref:
        return None  # a `within` block: it names no task
    base = ref if ref in tasks else ref_base(ref)
    if base not in tasks:
        return f"no task named `{base}`; " + did_you_mean(base, tasks)
    if owner is not None and owner.name == base:
        return f"task `{base}` cannot create or await itself; expected another task"
    if ref == base:
        return None
    if ref.endswith("-{i}"):
        if owner is None or owner.repeat == 1:
            return (
                "`{i}` is the copy number of a repeated task; expected it in the steps of a "
                f"task with `repeat:`, or a copy `{base}-1`"
            )
        if tasks[base] < owner.repeat:
            return (
                f"`{base}` has {tasks[base]} copies, fewer than the {owner.repeat} of "
                f"`{owner.name}`; expected `repeat: {owner.repeat}` or more"
            )
        return None
    copy = int(ref.rsplit("-", 1)[1])
    if tasks[base] == 1 or copy > tasks[base]:
        return f"`{base}` has no copy {copy}; " + (
            f"expected `{base}`"
            if tasks[base] == 1
            else f"expected {base}-1 to {base}-{tasks[base]}"
        )
    return None


def _created_once(doc: Document, base: Loc, chosen: Scenario) -> list[Problem]:
    """A task (or a copy) is created by one step only: CPython would run it twice."""
    problems: list[Problem] = []
    first: dict[str, Loc] = {}
    for loc, _, steps in _functions(base, chosen, doc):
        for at, step in _nested(loc, steps):
            if not isinstance(step, CREATING):
                continue
            for key, ref in _refs(step):
                where = (*at, *key) if isinstance(key, tuple) else (*at, key)
                if ref in first and first[ref] != where:
                    line = doc.problem(first[ref], "")
                    problems.append(
                        doc.problem(
                            where,
                            f"task `{ref}` is created twice (first at {line.line}:{line.col}); "
                            "expected one step that creates it",
                        )
                    )
                first.setdefault(ref, where)
    return problems
