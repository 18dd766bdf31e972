"""The task tree of an asyncio program (version 2): which tasks other tasks create, and what
a step's task reference (``NAME``, ``NAME-2``, ``NAME-{i}``) names."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from concsim.scenario import model as m

CREATING = (m.CreateTaskStep, m.GatherStep, m.TaskGroupStep)
"""The steps that start tasks of their own: those tasks are children, not main's."""

_COPY = re.compile(r"^(.+)-([1-9][0-9]*)$")


def nested(steps: Sequence[Any]) -> Iterator[Any]:
    """Every step of ``steps``, the steps inside a ``repeat`` or ``consume`` included."""
    for step in steps:
        yield step
        if isinstance(step, m.RepeatStep | m.WithinStep | m.TaskGroupStep):
            yield from nested(step.steps)
        elif isinstance(step, m.ConsumeStep):
            yield from nested(step.each)


def created_refs(step: Any) -> tuple[str, ...]:
    """The task references a creating step starts (empty for any other step)."""
    match step:
        case m.CreateTaskStep():
            return (step.create_task,)
        case m.GatherStep():
            return step.gather
        case m.TaskGroupStep():
            return step.taskgroup
    return ()


def ref_base(ref: str) -> str:
    """The task a reference names: ``fetch`` for ``fetch``, ``fetch-2`` and ``fetch-{i}``."""
    if ref.endswith("-{i}"):
        return ref[: -len("-{i}")]
    copy = _COPY.match(ref)
    return copy[1] if copy else ref


def child_tasks(scenario: m.Scenario) -> frozenset[str]:
    """The tasks (by name) that some step creates: main's ``submit`` leaves them alone."""
    return children_of(scenario.tasks, scenario.program.main_steps)


def children_of(tasks: Sequence[m.Task], main_steps: Sequence[Any]) -> frozenset[str]:
    """``child_tasks`` of a program with these tasks and main steps."""
    names = {task.name for task in tasks}
    steps: list[Any] = list(main_steps)
    for task in tasks:
        steps += [*task.steps, *task.cleanup]
    found: set[str] = set()
    for step in nested(steps):
        for ref in created_refs(step):
            base = ref if ref in names else ref_base(ref)
            if base in names:
                found.add(base)
    return frozenset(found)


def resolve(ref: str, index: int | None, instances: dict[str, list[str]]) -> list[str]:
    """The task instances ``ref`` names, for a task whose copy number is ``index``:
    ``instances`` maps each task's name to its instances' names (NAME, or NAME-1..NAME-N)."""
    if ref in instances:
        return list(instances[ref])
    if ref.endswith("-{i}"):
        ref = ref.replace("{i}", str(index if index is not None else 1))
    base = ref_base(ref)
    return [name for name in instances.get(base, ()) if name == ref]
