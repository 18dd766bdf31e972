"""Python spellings: identifiers for task names, literals for values and durations."""

from __future__ import annotations

import builtins
import keyword
import re
from typing import Any

from concsim.scenario import model as m

RESERVED = frozenset(
    {
        "main", "spin", "crunch", "call", "results", "futures", "executor", "tasks", "threads",
        "processes", "outputs", "stop", "item", "handled", "tmp", "asyncio", "hashlib",
        "logging", "multiprocessing", "queue", "sys", "threading", "time", "functools",
        "concurrent", "BLOCK", "LOOPS_PER_SECOND", "HASHES_PER_SECOND", "i", "tg", "task",
        "thread", "future", "result", "done", "not_done", "next_done", "process",
    }
)  # fmt: skip


def identifier(name: str, taken: set[str]) -> str:
    """A scenario name as a Python identifier no one else uses: ``a-to-b`` -> ``a_to_b``."""
    base = re.sub(r"\W", "_", name)
    if base[0].isdigit():
        base = "_" + base
    if keyword.iskeyword(base) or base in RESERVED or hasattr(builtins, base):
        base += "_"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    taken.add(candidate)
    return candidate


def seconds(us: int) -> str:
    """Microseconds as a seconds literal: 500_000 -> ``0.5``, 1_000_000 -> ``1.0``."""
    return repr(us / 1_000_000)


def literal(value: Any) -> str:
    """A value as Python source: ``repr`` of plain data, strings in double quotes."""
    text = repr(value)
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1].replace("\\'", "'") + '"'
    return text


def instance_name(spec: m.Task, i: int) -> str:
    """The name concsim gives copy ``i`` of a task: ``request-3``, or just ``request``."""
    return spec.name if spec.repeat == 1 else f"{spec.name}-{i}"


def name_expr(spec: m.Task) -> str:
    """A task instance's name as an expression inside its own function (``f"fetch-{i}"``)."""
    if spec.repeat == 1:
        return literal(spec.name)
    return 'f"' + _fstring_text(spec.name) + '-{i}"'


def _fstring_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("{", "{{").replace("}", "}}")


def returns_expr(spec: m.Task) -> str:
    """What the task returns, as the simulator computes it (``runtime_core.expand_tasks``)."""
    value = spec.returns
    if value is None:
        value = "{name} done"
    if not isinstance(value, str):
        return literal(value)
    if "{name}" not in value and "{i}" not in value:
        return literal(value)
    name = spec.name if spec.repeat == 1 else None
    parts = re.split(r"(\{name\}|\{i\})", value)
    out = []
    for part in parts:
        if part == "{name}":
            out.append(
                _fstring_text(name) if name is not None else _fstring_text(spec.name) + "-{i}"
            )
        elif part == "{i}":
            out.append("{i}" if spec.repeat > 1 else "1")
        else:
            out.append(_fstring_text(part))
    text = "".join(out)
    if "{" not in text.replace("{{", ""):
        return literal(text.replace("{{", "{").replace("}}", "}"))
    return 'f"' + text + '"'
