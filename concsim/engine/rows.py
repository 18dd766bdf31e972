"""Events recorded as rows: a plain tuple per event, its typed event built when read.

A run records an event as ``(t, code, field, field, ...)``: the code of its class, then its
fields in the class's order, an enum as its value. Such a tuple holds only strings, numbers,
``None`` and tuples of them, so the garbage collector stops tracking it after its first
pass: a run of many tasks (each leaves a few events behind: created, submitted, started,
ended, ...) no longer piles up tracked objects that make the collector walk the whole heap.
``LaneStateChanged``, the most frequent event, has a shorter row of its own (recording.py).

The function that makes a class's rows and the one that types them again are generated
once per class, as ``dataclasses`` generates an ``__init__``: a call with the class's own
keywords, no loop over its fields per event. Each is compiled under a file name of its own,
``<row LaneCreated>``, so that a profile shows what each kind of event costs.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any

from concsim.events import Event

EventRow = tuple[Any, ...]
"""An event other than ``LaneStateChanged`` as recorded: t, its class's code, its fields."""

MakeRow = Callable[..., EventRow]
"""``make(t, **fields)``: the row of an event at ``t`` (seconds) with these fields."""

TypeRow = Callable[[EventRow, int], Event]
"""``typed(row, seq)``: the typed event of a row, ``seq`` its place in the log."""

_MAKERS: dict[type[Event], MakeRow] = {}
_TYPERS: list[TypeRow] = []  # by code
_CLASSES: list[type[Event]] = []  # by code


def row_maker(cls: type[Event]) -> MakeRow:
    """How rows of ``cls`` events are made (generated at the first one)."""
    maker = _MAKERS.get(cls)
    if maker is None:
        maker = _MAKERS[cls] = _generate(cls)
    return maker


def row_class(code: int) -> type[Event]:
    """The class of the events whose rows carry ``code``."""
    return _CLASSES[code]


def row_classes() -> int:
    """How many classes have row codes so far (codes ``0`` to this, excluded)."""
    return len(_CLASSES)


def row_field(cls: type[Event], name: str) -> int:
    """Where field ``name`` of a ``cls`` event stands in its row (an enum as its value)."""
    names = [f.name for f in dataclasses.fields(cls) if f.name not in ("t", "seq")]
    return 2 + names.index(name)


def typed_event(row: EventRow, seq: int) -> Event:
    """The typed event a row was made from; ``seq`` is its place in the log."""
    return _TYPERS[row[1]](row, seq)


def _enum_of(annotation: Any) -> type[Enum] | None:
    """The enum a field holds (``LaneKind``, or ``Outcome | None``), if it holds one."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        found = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(found) == 1 and isinstance(found[0], type) and issubclass(found[0], Enum):
            return found[0]
    return None


def _generate(cls: type[Event]) -> MakeRow:
    """Compile the pair of functions for ``cls``: make its rows, and type them back."""
    code = len(_TYPERS)
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.name not in ("t", "seq")]
    names = [f.name for f in fields]
    assert not any(name.endswith("_") or name.startswith("_") for name in names), cls
    space: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_init": cls.__init__}
    params, stored, typed = [], [], []
    for f in fields:
        name = f.name
        if f.default is not dataclasses.MISSING:
            space[f"_default_{name}"] = f.default
            params.append(f"{name}=_default_{name}")
        else:
            assert f.default_factory is dataclasses.MISSING, f"{cls.__name__}.{name}"
            params.append(name)
        enum = _enum_of(hints[name])
        if enum is None:
            stored.append(name)
            typed.append(f"{name}={name}")
            continue
        space[f"_members_{name}"] = {member.value: member for member in enum}
        stored.append(f"None if {name} is None else {name}._value_")
        typed.append(f"{name}=None if {name} is None else _members_{name}[{name}]")
    unpacked = "".join(f", {name}" for name in names)
    # The functions' own names end in ``_``: no event field is named so.
    source = (
        f"def make(t_, *, {', '.join(params)}):\n"
        f"    return (t_, {code}, {''.join(f'{s}, ' for s in stored)})\n"
        f"def typed(row_, seq_):\n"
        f"    t_, code_{unpacked} = row_\n"
        f"    event_ = _new(_cls)\n"
        f"    _init(event_, t=t_, seq=seq_{''.join(f', {s}' for s in typed)})\n"
        f"    return event_\n"
    )
    exec(compile(source, f"<row {cls.__name__}>", "exec"), space)
    _TYPERS.append(space["typed"])
    _CLASSES.append(cls)
    return space["make"]  # type: ignore[no-any-return]
