"""Checks of ``expect:`` across the file: the tasks and shared variables it names must exist.

An expectation about a task that does not exist could never match, or (forbidden) never
fail: a typo would pass silently, so it is an error, with the name it should have been.
"""

from __future__ import annotations

import re
from typing import Any

from concsim.scenario.checks import _is_task, _named
from concsim.scenario.document import Document, Loc
from concsim.scenario.errors import Problem, did_you_mean

_Tasks = list[tuple[int, dict[Any, Any]]]
_COPY = re.compile(r"^(.+)-([1-9][0-9]*)$")


def check_expect(doc: Document) -> list[Problem]:
    """Problems of reference in every ``expect:`` list, the variants' included."""
    data = doc.data if isinstance(doc.data, dict) else {}
    tasks = _named(data, "tasks")
    shared = data.get("shared")
    problems = _expectations(doc, ("expect",), data.get("expect"), tasks, shared)
    variants = data.get("variants")
    for index, variant in enumerate(variants if isinstance(variants, list) else []):
        if not isinstance(variant, dict):
            continue
        own = _named(variant, "tasks") if "tasks" in variant else None
        if "expect" in variant:
            loc: Loc = ("variants", index, "expect")
            problems += _expectations(doc, loc, variant["expect"], own or tasks, shared)
        elif own is not None:
            # The variant keeps the file's expectations but not its tasks: what they name
            # must be in the variant's own task list too.
            for problem in _expectations(doc, ("expect",), data.get("expect"), own, shared):
                problems.append(
                    doc.problem(
                        ("variants", index, "tasks"),
                        f"with this variant, {problem.dotted}: {problem.message}",
                    )
                )
    return problems


def _expectations(doc: Document, loc: Loc, items: Any, tasks: _Tasks, shared: Any) -> list[Problem]:
    problems: list[Problem] = []
    otherwise: Loc | None = None
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        when = item.get("when")
        at: Loc = (*loc, index, "when")
        if when == "otherwise":
            if otherwise is not None:
                first = doc.problem(otherwise, "")
                problems.append(
                    doc.problem(
                        at,
                        f"a second `otherwise` (first at {first.line}:{first.col}); expected "
                        "one expectation for the outcomes no other one matches",
                    )
                )
            otherwise = otherwise or at
        if not isinstance(when, dict):
            continue
        named = when.get("tasks")
        for name in named if isinstance(named, dict) else {}:
            if isinstance(name, str) and not _is_task(name, tasks):
                problems.append(
                    doc.problem(
                        (*at, "tasks", name),
                        f"no task named `{name}`; {_task_hint(name, tasks)}",
                        at_key=True,
                    )
                )
        values = when.get("shared")
        declared = shared if isinstance(shared, dict) else {}
        for name in values if isinstance(values, dict) else {}:
            if isinstance(name, str) and name not in declared:
                hint = did_you_mean(name, declared, listing=False) or "declare it under `shared:`"
                problems.append(
                    doc.problem(
                        (*at, "shared", name), f"no shared variable `{name}`; {hint}", at_key=True
                    )
                )
    return problems


def _task_hint(name: str, tasks: _Tasks) -> str:
    """What a task name in ``expect`` should have been."""
    if name == "main":
        return "the main program has its own condition; expected `main:` beside `tasks:`"
    repeats = {task["name"]: task.get("repeat", 1) for _, task in tasks}
    copy = _COPY.match(name)
    if copy and isinstance(repeats.get(copy[1]), int):
        base, repeat = copy[1], repeats[copy[1]]
        if repeat > 1:
            every = f"expected `{base}` (every copy)"
            return f"`{base}` repeats {repeat} times; {every} or {base}-1 to {base}-{repeat}"
        return f"`{base}` is not repeated; expected `{base}`"
    return did_you_mean(name, repeats) or "expected a task of the file (it has none)"
