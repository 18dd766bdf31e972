"""A step's ``label`` with ``{i}`` and ``{name}`` filled per task instance (format version 2):
the lane of ``fetch-2`` reads ``download part 2``, as the program's own f-string would."""

from __future__ import annotations

import re

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
