"""The event log of a run: compact rows as the run records them, typed events when read.

Most of what a run records is a lane changing state, one ``LaneStateChanged`` per
resumption of a lane. Building a frozen event object for each costs time (an ``__init__``
call), memory (the object, and a fresh ``int`` for its ``seq``) and garbage-collector work
(every object with slots is tracked and walked again by each older generation's pass). So
the log keeps a state change as a plain tuple, ``(t, lane, state value, task, step)``: its
``seq`` is its place in the log, and a tuple of strings, floats and ``None`` is untracked by
the collector after its first pass. Every other kind of event is kept as a row too, with its
class's code in second place (rows.py); a run with ``keep`` records typed events.

Readers see only typed events: indexing, slicing and iterating build the typed event of a
row the first time it is read and put it in the row's place, so reading the same event
twice gives the same object, and a log read in full holds what a list of events would.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

from concsim.events import Event, LaneState, LaneStateChanged

from .rows import EventRow, typed_event

StateRow = tuple[float, str, str, str | None, str | None]
"""A ``LaneStateChanged`` as recorded: t, lane, the state's value, task, step."""

_STATES: dict[str, LaneState] = {state.value: state for state in LaneState}

# The events' classes define no ``__new__``: creating the instance and calling the
# generated ``__init__`` skips packing the keywords into a dict for a class call.
_new = object.__new__
_init_state_changed = LaneStateChanged.__init__


class EventLog(Sequence[Event]):
    """The run's events in ``seq`` order; ``seq`` is each event's index in the log."""

    __slots__ = ("rows", "typed_to")

    def __init__(self) -> None:
        self.rows: list[Event | StateRow | EventRow] = []
        """What the driver appends to: rows (rows.py), and typed events (``keep``)."""
        self.typed_to = 0
        """Every row before this index is typed: a reader that reads on from where it
        stopped (the app does) pays for each row once."""

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        rows = self.rows
        if isinstance(index, slice):
            start, stop, stride = index.indices(len(rows))
            if stride == 1:
                self._type(start, stop)
                return rows[start:stop]  # type: ignore[return-value]  # all typed now
            return [self[i] for i in range(start, stop, stride)]
        row = rows[index]
        if type(row) is tuple:
            return self._typed(index if index >= 0 else index + len(rows), row)
        return row  # type: ignore[return-value]  # a typed event

    def __iter__(self) -> Iterator[Event]:
        rows = self.rows
        index = 0
        # Not ``iter(rows)``: the run may append while a reader iterates (the app reads
        # a run its engine extends), and a row appended meanwhile is typed when reached.
        while index < len(rows):
            row = rows[index]
            yield self._typed(index, row) if type(row) is tuple else row  # type: ignore[misc]
            index += 1

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EventLog | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like the list it stands for

    def __repr__(self) -> str:
        return f"EventLog({len(self)} events)"

    def append(self, event: Event) -> None:
        self.rows.append(event)

    def _type(self, start: int, stop: int) -> None:
        """Build the typed event of every row in ``start:stop`` and keep it in its place."""
        rows = self.rows
        typed_to = self.typed_to
        for index in range(max(start, typed_to), stop):
            row = rows[index]
            if type(row) is tuple:
                self._typed(index, row)
        if start <= typed_to < stop:
            self.typed_to = stop

    def _typed(self, index: int, row: Any) -> Event:
        if type(row[1]) is int:  # any other event's row: (t, code, fields...)
            event = typed_event(row, index)
        else:
            t, lane, state, task, step = row
            event = _new(LaneStateChanged)
            _init_state_changed(
                event, t=t, seq=index, lane=lane, state=_STATES[state], task=task, step=step
            )
        rows = self.rows
        if rows[index] is not row:  # typed meanwhile by another reader (the app's threads)
            return rows[index]  # type: ignore[return-value]  # typed
        rows[index] = event
        return event
