"""The views' fold: the engine's events into the timeline (with its story) and the ledger.

The engine records most events as compact rows (``concsim.engine.recording``): a lane's
state change as ``(t, lane, state, task, step)``, any other event as ``(t, code, fields...)``.
Building the typed event of each row costs as much as folding it, so the fold reads the
rows of the frequent kinds directly (a lane's state, the GIL changing hands, a future's
state, a task submitted, started or ended, a result received) and types only the rest, on
demand: the engine's log keeps each typed event in its row's place, for the next reader.
One loop feeds both models, one dispatch per event. A row the log typed already (a reader
read it) and a live run's list of typed events take the typed path: the models after the
first ``n`` events are the same either way (``tests/test_ui_fold.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import Enum
from typing import Any, overload

from concsim.engine.rows import row_class, row_classes, row_field
from concsim.events import (
    Cleanup,
    Event,
    FutureChanged,
    FutureState,
    GilChanged,
    LaneState,
    LaneStateChanged,
    Outcome,
    ResultReceived,
    TaskEnded,
    TaskStarted,
    TaskSubmitted,
)
from concsim.palette import MARKED, Cue
from concsim.ui.ledger import Ledger
from concsim.ui.story import MAIN
from concsim.ui.timeline import CODE, ENDED_STATES, LOOP_KIND, Timeline

_STATES = {state.value: state for state in LaneState}
_FUTURES = {state.value: state for state in FutureState}
_OUTCOMES = {outcome.value: outcome for outcome in Outcome}
_CLEANUPS = {cleanup.value: cleanup for cleanup in Cleanup}


class Kind(Enum):
    """What the fold does with a row of each class (by the class's row code)."""

    GIL = "gil"
    FUTURE = "future"
    SUBMITTED = "submitted"
    STARTED = "started"
    ENDED = "ended"
    RESULT = "result"
    TYPED = "typed"  # typed on demand, then folded as a typed event


_KINDS: dict[type[Event], Kind] = {
    GilChanged: Kind.GIL,
    FutureChanged: Kind.FUTURE,
    TaskSubmitted: Kind.SUBMITTED,
    TaskStarted: Kind.STARTED,
    TaskEnded: Kind.ENDED,
    ResultReceived: Kind.RESULT,
}
_BY_CODE: list[Kind] = []
"""``_KINDS`` by row code, grown as the engine makes the rows of new classes."""


def _kinds() -> list[Kind]:
    """``_KINDS`` by row code, for every class the engine has made rows of so far (a row
    read was made before the fold began: its class's code is in the list)."""
    for code in range(len(_BY_CODE), row_classes()):
        _BY_CODE.append(_KINDS.get(row_class(code), Kind.TYPED))
    return _BY_CODE


# The fields the fold reads, where it reads them: (t, code, then the class's own fields).
assert [row_field(GilChanged, name) for name in ("process", "holder", "reason")] == [2, 3, 4]
assert [row_field(FutureChanged, name) for name in ("task", "state", "error")] == [2, 3, 4]
assert row_field(TaskSubmitted, "task") == 2
assert [row_field(TaskStarted, name) for name in ("task", "lane")] == [2, 3]
_ENDED_FIELDS = ("task", "outcome", "error", "cleanup")
assert [row_field(TaskEnded, name) for name in _ENDED_FIELDS] == [2, 3, 4, 5]
assert [row_field(ResultReceived, name) for name in ("task", "value", "error")] == [2, 3, 4]


def feed(
    timeline: Timeline, ledger: Ledger, events: Sequence[Event], start: int, end: int
) -> list[int]:
    """Fold events ``start`` to ``end`` (the timeline and the ledger hold those before
    ``start``) into both; returns the indices of the results main received among them
    (the ticks on main's row, which the history's index of marks keeps)."""
    rows: list[Any] | None = getattr(events, "rows", None)
    results: list[int] = []
    if rows is None or start >= end:
        typed = events[start:end]
        timeline.feed(typed)
        ledger.feed(typed)
        results.extend(start + k for k, e in enumerate(typed) if type(e) is ResultReceived)
        return results
    story, tracks = timeline.story, timeline.tracks
    by_code = _kinds()
    state_of, gil_of, runs = timeline.state_of, timeline.gil_of, timeline.runs
    states, futures, outcomes, cleanups = _STATES, _FUTURES, _OUTCOMES, _CLEANUPS
    unfinished, ends = story.unfinished, story.ends
    lock_waits, timed_waits = story.lock_waits, story.timed_waits
    done, marked, endings = LaneState.DONE, MARKED, ENDED_STATES
    gil, future, started, submitted = Kind.GIL, Kind.FUTURE, Kind.STARTED, Kind.SUBMITTED
    ended, result = Kind.ENDED, Kind.RESULT
    base = timeline.count - start  # the timeline's count at each index: base + index
    changes = 0  # the ledger's changes, counted once at the end
    t = timeline.now
    for index in range(start, end):
        row = rows[index]
        if type(row) is tuple:
            second = row[1]
            if type(second) is str:  # a lane's state: (t, lane, state, task, step)
                t = row[0]
                state = states[row[2]]
                track = tracks.get(second)
                if track is None or lock_waits or timed_waits:
                    state_of(t, second, state, row[3], row[4], index)
                    continue
                # Timeline.state_of, inline: the most frequent event of all.
                code = CODE[state]
                track.enter(t, code)
                if state is not track.state and not (track.kind == LOOP_KIND and state in endings):
                    if state is done:
                        track.done_times.append(t)
                    elif state in marked:
                        track.mark_times.append(t)
                        track.mark_codes.append(code)
                track.state = state
                track.version += 1
                task = track.task = row[3]
                track.step = row[4]
                if task:
                    runs(task, second)
                continue
            kind = by_code[second]
            t = row[0]
            if kind is gil:
                gil_of(t, row[2], row[3], row[4])
                continue
            if kind is future:
                ledger.future_of(row[2], futures[row[3]], row[4])
                changes += 1
                continue
            if kind is started:
                runs(row[2], row[3])
                if ledger.began_of(row[2]):
                    changes += 1
                continue
            if kind is submitted:
                unfinished[row[2]] = None
                ledger.submitted_of(row[2])
                changes += 1
                continue
            if kind is ended:
                task = row[2]
                unfinished.pop(task, None)
                ends[task] = index
                ledger.ended_of(task, outcomes[row[3]], row[4], cleanups[row[5]])
                changes += 1
                continue
            if kind is result and row[4] is None:
                # A tick on main's row (Story._result), not a moment of the story.
                main = tracks.get(MAIN)
                if main is not None:
                    timeline.add_cue(main, t, Cue.RESULT)
                ledger.received_of(row[2], row[3], None)
                changes += 1
                results.append(index)
                continue
            event = events[index]  # typed on demand, kept in the row's place
        else:
            event = row
            t = event.t
            cls = type(event)
            # The frequent kinds typed already (read by another view, or a live run's).
            if cls is LaneStateChanged:
                state_of(t, event.lane, event.state, event.task, event.step, index)
                continue
            if cls is GilChanged:
                gil_of(t, event.process, event.holder, event.reason)
                continue
            if cls is FutureChanged:
                ledger.future_of(event.task, event.state, event.error)
                changes += 1
                continue
        if type(event) is ResultReceived:
            results.append(index)
        # The rare kinds, and rows typed already: the models' own folds, one event.
        timeline.count, timeline.now = base + index, max(timeline.now, t)
        timeline.feed((event,))
        ledger.feed((event,))
    timeline.count = base + end
    timeline.now = max(timeline.now, t)
    ledger.version += changes
    return results


def time_of(events: Sequence[Event], index: int) -> float:
    """The time of event ``index``, read from its row if it is one (never typing it)."""
    rows: list[Any] | None = getattr(events, "rows", None)
    if rows is None:
        return events[index].t
    row = rows[index]
    return row[0] if type(row) is tuple else row.t  # type: ignore[no-any-return]


class Fed(Sequence[Event]):
    """Events ``start`` to ``end`` of a run's log, typed only when read: what a move of the
    playhead fed to the views, for a caller that may look at them (most only ask whether
    there were any)."""

    __slots__ = ("end", "events", "start")

    def __init__(self, events: Sequence[Event], start: int, end: int) -> None:
        self.events, self.start, self.end = events, start, max(start, end)

    def __len__(self) -> int:
        return self.end - self.start

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        size = len(self)
        if not -size <= index < size:
            raise IndexError(index)
        return self.events[self.start + index % size]

    def __iter__(self) -> Iterator[Event]:
        events = self.events
        for index in range(self.start, self.end):
            yield events[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Fed | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compared like the list it stands for

    def __repr__(self) -> str:
        return f"Fed({self.start}:{self.end})"
