"""The event log's rows: the events that tell the story, and the routine between them
folded into one line per stretch (``the GIL changed hands 180 times, 42 lane state
changes``).

What a learner reads the log for are starts and ends, raises, faults, cancels, results,
lock waits and output; a busy run buries them under GIL hand-offs, state changes and
shared reads. ``routine`` sorts each event; ``Rows`` keeps, in order, an event's index for
each event told and one ``Stretch`` for each run of routine events between two of them.
Rows grow at both ends: forward as the run is fed, backward while a new history or filter
is scanned newest first (so the rows on screen come first, whatever the run's length).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from concsim.engine.rows import row_class, row_field
from concsim.events import (
    AwaitReraised,
    CallbackInvoked,
    CancelDelivered,
    CancelRequested,
    CleanupSkipped,
    CleanupStarted,
    DeadlockDetected,
    Event,
    ExceptionRaised,
    ExecutorShutdown,
    FaultInjected,
    FaultRefused,
    FutureChanged,
    GilChanged,
    InterruptDelivered,
    LaneCreated,
    LaneStateChanged,
    LockAcquired,
    LockGaveUp,
    LockReleased,
    LockTimedWait,
    LockWaited,
    LoopBlocked,
    MainEnded,
    OutputWritten,
    PicklingFailed,
    PoolBroken,
    ProcessKilled,
    QueueGot,
    QueuePut,
    ResultPicklingFailed,
    ResultReceived,
    ResultUnpicklingFailed,
    SharedRead,
    SharedWritten,
    TaskEnded,
    TaskStarted,
    TaskSubmitted,
    TimeoutExpired,
    WarningIssued,
)

Keep = Callable[[Event], bool]


class Routine(Enum):
    """The kinds of routine event a stretch counts, in the order its line names them."""

    GIL = "the GIL changed hands {n} time{s}"
    STATE = "{n} lane state change{s}"
    FUTURE = "{n} future state change{s}"
    READ = "{n} shared read{s}"
    WRITE = "{n} shared write{s}"
    PUT = "{n} queue put{s}"
    GET = "{n} queue get{s}"
    RELEASE = "the GIL released {n} time{s}"

    # Members are compared by identity: hashed by it too, in C, not by ``Enum.__hash__``
    # (a Python call for each routine event a stretch counts).
    __hash__ = object.__hash__


_ROUTINE: dict[type[Event], Routine] = {
    GilChanged: Routine.GIL,  # a GIL freed is told apart below
    LaneStateChanged: Routine.STATE,
    FutureChanged: Routine.FUTURE,
    SharedRead: Routine.READ,
    SharedWritten: Routine.WRITE,  # a lost update is told, below
    QueuePut: Routine.PUT,
    QueueGot: Routine.GET,
}
_routine = _ROUTINE.get


_GIL_HOLDER = row_field(GilChanged, "holder")
_WRITE_LOST = row_field(SharedWritten, "lost")
_BY_CODE: list[Routine | None] = []
"""``_ROUTINE`` by the engine's row code of each class (``concsim.engine.rows``)."""


def row_routine(row: Any) -> Routine | None:
    """``routine`` of an event as the engine recorded it: a row, read without typing it
    (a lane's state ``(t, lane, state, ...)``, any other ``(t, code, fields...)``), or a
    typed event."""
    if type(row) is not tuple:
        return routine(row)
    code = row[1]
    if type(code) is str:
        return Routine.STATE
    if code >= len(_BY_CODE):
        for known in range(len(_BY_CODE), code + 1):
            _BY_CODE.append(_routine(row_class(known)))
    kind = _BY_CODE[code]
    if kind is Routine.GIL and row[_GIL_HOLDER] is None:
        return Routine.RELEASE
    if kind is Routine.WRITE and row[_WRITE_LOST]:
        return None
    return kind


def routine(event: Event) -> Routine | None:
    """The kind of routine ``event`` is, or None for an event the story tells (a write
    that lost an update is told; a GIL taken counts as a hand-off, a GIL freed apart)."""
    kind = _routine(type(event))
    if kind is Routine.GIL and event.holder is None:  # type: ignore[attr-defined]
        return Routine.RELEASE
    if kind is Routine.WRITE and event.lost:  # type: ignore[attr-defined]
        return None
    return kind


class LogKind(Enum):
    """What the log shows (``E`` cycles): the story with the routine folded, every event,
    or the events of one kind."""

    STORY = "story"
    EVERY = "every event"
    ERRORS = "errors, faults, cancels"
    TASKS = "tasks and results"
    SYNC = "locks, queues, shared state"
    GIL = "GIL"
    STATES = "lane states"
    OUTPUT = "output"

    @property
    def folds(self) -> bool:
        return self is LogKind.STORY

    def keeps(self) -> Callable[[Event], bool] | None:
        """Which events this kind shows (None: all, possibly folded). Errors include a
        result that re-raised its task's exception, and a task that ended with one."""
        kinds = _KINDS.get(self)
        if kinds is None:
            return None
        if self is LogKind.ERRORS:
            return lambda event: (
                type(event) in kinds
                or (
                    type(event) in _ENDINGS and event.error is not None  # type: ignore[attr-defined]
                )
            )
        return lambda event: type(event) in kinds

    def next(self) -> LogKind:
        kinds = list(LogKind)
        return kinds[(kinds.index(self) + 1) % len(kinds)]


_KINDS: dict[LogKind, frozenset[type[Event]]] = {
    LogKind.ERRORS: frozenset(
        {
            ExceptionRaised,
            AwaitReraised,
            FaultInjected,
            FaultRefused,
            CancelRequested,
            CancelDelivered,
            TimeoutExpired,
            InterruptDelivered,
            ProcessKilled,
            PoolBroken,
            PicklingFailed,
            ResultPicklingFailed,
            ResultUnpicklingFailed,
            DeadlockDetected,
            LoopBlocked,
            CleanupStarted,
            CleanupSkipped,
            WarningIssued,
            MainEnded,
        }
    ),
    LogKind.TASKS: frozenset(
        {
            TaskSubmitted,
            TaskStarted,
            TaskEnded,
            FutureChanged,
            ResultReceived,
            ExecutorShutdown,
            CallbackInvoked,
        }
    ),
    LogKind.SYNC: frozenset(
        {
            LockAcquired,
            LockWaited,
            LockReleased,
            QueuePut,
            QueueGot,
            SharedRead,
            SharedWritten,
            LockGaveUp,
            LockTimedWait,
        }
    ),
    LogKind.GIL: frozenset({GilChanged}),
    LogKind.STATES: frozenset({LaneCreated, LaneStateChanged}),
    LogKind.OUTPUT: frozenset({OutputWritten, WarningIssued}),
}


FEW = 3
"""A stretch of up to this many routine events is shown as the events themselves: a line
that counts them would say less in as much room."""


_ENDINGS = frozenset({ResultReceived, TaskEnded})
"""Results and task ends, which the errors view keeps when they carry an exception."""


@dataclass
class Stretch:
    """Routine events ``first`` to ``last`` (indices into the run's events), counted; while
    they are ``FEW``, their indices."""

    first: int
    last: int
    counts: dict[Routine, int] = field(default_factory=dict)
    few: list[int] | None = None

    def count(self, index: int, kind: Routine, *, before: bool = False) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        few = self.few
        if few is not None:
            if len(few) >= FEW:
                self.few = None
            elif before:
                few.insert(0, index)
            else:
                few.append(index)

    def words(self) -> str:
        """``the GIL changed hands 12 times, 20 lane state changes``."""
        counts = self.counts
        parts = [
            kind.value.format(n=n, s="" if n == 1 else "s")
            for kind in Routine
            if (n := counts.get(kind, 0))
            and not (kind is Routine.RELEASE and Routine.GIL in counts)  # said by hand-offs
        ]
        return ", ".join(parts)


class Rows(Sequence[int]):
    """The log's rows, ascending: an event's index (``>= 0``), or ``~k`` for stretch ``k``.

    Those found scanning back from where the view was set are kept newest first (so a scan
    only appends); those fed since, oldest first. ``version`` changes with every change,
    a stretch growing included, so a view knows when to draw again."""

    def __init__(self, *, fold: bool) -> None:
        self.fold = fold
        self.back: list[int] = []
        self.forward: list[int] = []
        self.stretches: list[Stretch] = []
        self.version = 0

    def __len__(self) -> int:
        return len(self.back) + len(self.forward)

    def __getitem__(self, k: Any) -> Any:
        if not isinstance(k, int) or not 0 <= k < len(self):
            raise IndexError(k)
        back = self.back
        return back[len(back) - 1 - k] if k < len(back) else self.forward[k - len(back)]

    def stretch(self, row: int) -> Stretch | None:
        return self.stretches[~row] if row < 0 else None

    def truncate(self, events: Sequence[Event], count: int, keep: Keep | None) -> None:
        """Only the rows of the first ``count`` events (the history shown back to an earlier
        event); a stretch cut short is counted again over what is left of it."""
        self.version += 1
        if self.back:  # one list, oldest first, to cut from its end
            self.forward[:0] = self.back[::-1]
            self.back.clear()
        forward = self.forward
        while forward and self._first(forward[-1]) >= count:
            forward.pop()
        if forward and forward[-1] < 0:
            stretch = self.stretches[~forward[-1]]
            if stretch.last >= count:
                forward.pop()
                self.feed(events, stretch.first, count, keep)

    def _first(self, row: int) -> int:
        """The first event a row shows: its own, or its stretch's."""
        return row if row >= 0 else self.stretches[~row].first

    def feed(self, events: Sequence[Event], start: int, stop: int, keep: Keep | None) -> None:
        """Events ``start`` to ``stop``, newer than every row: those ``keep`` keeps. With no
        filter, the engine's rows are sorted as they are, never typed for it."""
        self.version += 1
        forward, fold, stretches = self.forward, self.fold, self.stretches
        rows: list[Any] | None = getattr(events, "rows", None)
        plain = rows is not None and keep is None
        for index in range(start, stop):
            if plain:
                kind = row_routine(rows[index]) if fold else None  # type: ignore[index]
            else:
                event = events[index]
                if keep is not None and not keep(event):
                    continue
                kind = routine(event) if fold else None
            if kind is None:
                forward.append(index)
                continue
            last = forward[-1] if forward else (self.back[0] if self.back else 0)
            if last < 0:
                found = stretches[~last]
                found.last = index
                if found.few is None:  # the common case, inline: one more counted
                    found.counts[kind] = found.counts.get(kind, 0) + 1
                    continue
            else:
                found = Stretch(index, index, few=[])
                stretches.append(found)
                forward.append(~(len(stretches) - 1))
            found.count(index, kind)

    def scan_back(self, events: Sequence[Event], start: int, stop: int, keep: Keep | None) -> None:
        """Events ``start - 1`` down to ``stop``, older than every row: those ``keep``
        keeps (a scan going back)."""
        self.version += 1
        back, fold, stretches = self.back, self.fold, self.stretches
        rows: list[Any] | None = getattr(events, "rows", None)
        plain = rows is not None and keep is None
        for index in range(start - 1, stop - 1, -1):
            if plain:
                kind = row_routine(rows[index]) if fold else None  # type: ignore[index]
            else:
                event = events[index]
                if keep is not None and not keep(event):
                    continue
                kind = routine(event) if fold else None
            if kind is None:
                back.append(index)
                continue
            first = back[-1] if back else (self.forward[0] if self.forward else 0)
            if first < 0:
                found = stretches[~first]
                found.first = index
                if found.few is None:  # the common case, inline: one more counted
                    found.counts[kind] = found.counts.get(kind, 0) + 1
                    continue
            else:
                found = Stretch(index, index, few=[])
                stretches.append(found)
                back.append(~(len(stretches) - 1))
            found.count(index, kind, before=True)
