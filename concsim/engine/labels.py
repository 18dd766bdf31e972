"""A step's ``label`` with ``{i}`` and ``{name}`` filled per task instance (format version 2):
the lane of ``fetch-2`` reads ``download part 2``, as the program's own f-string would."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .runtime import TaskRun

_RUN_FIELD = re.compile(r"\{(i|name)\}")


def names_its_run(label: str | None) -> bool:
    """Whether a written label has ``{i}`` or ``{name}`` in it."""
    return bool(label) and _RUN_FIELD.search(label or "") is not None


def fill_label(label: str, run: TaskRun | None) -> str:
    """``{i}`` is the copy number and ``{name}`` the instance's name (``fetch-2``), as
    ``Flow.fill`` fills them in what a step writes; in main() both stay as written.
    ``{e}``, ``{attempt}`` and other names change while the function runs: a label keeps
    them as written."""
    return label if run is None else fill_for(label, run.copy, run.name)


def fill_for(label: str, copy: int, name: str) -> str:
    """``label`` as the lane of task instance ``name``, copy ``copy``, shows it."""

    def one(found: re.Match[str]) -> str:
        return str(copy) if found.group(1) == "i" else name

    return _RUN_FIELD.sub(one, label)


def per_run(make: Callable[[str], Any], label: str) -> Any:
    """A step call (``Interpreter._make_call``) made once per task instance, by ``make``
    from the label filled for it: ``(lane, run, consumed)`` in, what to ``yield from`` out."""
    calls: dict[str | None, Any] = {}

    def call(lane: Any, run: TaskRun | None, consumed: list[Any]) -> Any:
        key = run.name if run is not None else None
        made = calls.get(key)
        if made is None:
            made = calls[key] = make(fill_label(label, run))
        return made(lane, run, consumed)

    return call
