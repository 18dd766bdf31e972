"""Moving the playhead to the moments that matter: the next and previous mark, a typed time.

A mark is a moment of the story (``concsim.ui.story``): an exception raised, one re-raised by
its reader, a fault landed, a cancel requested or delivered, a lost update, and a result
main received. The next one is found by showing the events one at a time from the playhead
(the engine makes more as needed) until one adds a mark: which events do is only known once
the story has folded them in (a write is a lost update only after others wrote since its
read). The previous one is read from what is shown already.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from concsim.durations import DURATION_PATTERN, parse_seconds
from concsim.events import (
    AwaitReraised,
    CancelDelivered,
    CancelRequested,
    ConditionNotified,
    Event,
    ExceptionRaised,
    FaultInjected,
    MainEnded,
    ResultPicklingFailed,
    ResultReceived,
    SharedWritten,
    TimeoutExpired,
)
from concsim.ui.history import Run, replayable

MARKING: frozenset[type[Event]] = frozenset(
    {
        ExceptionRaised,
        ResultReceived,
        AwaitReraised,
        FaultInjected,
        CancelRequested,
        CancelDelivered,
        SharedWritten,
        MainEnded,
        ConditionNotified,
        TimeoutExpired,
        ResultPicklingFailed,
    }
)
"""The events that may add a mark (the story decides whether they do)."""

_STEPS = 64  # engine steps between two looks for a mark among the events made


@dataclass(frozen=True, slots=True)
class Found:
    """Where a look for a mark ended: the mark's event (its index in the run's stream), or
    None with the reason (the run ended, nothing happens by itself, out of budget)."""

    index: int | None
    why: str = ""
    further: bool = False  # out of budget: a mark may still come, looking on finds it


def _marks(run: Run) -> tuple[int, int]:
    """What grows when a mark is added: the story's moments, the results main received."""
    return len(run.timeline.story.moments), len(run.ledger.results)


def next_mark(run: Run, budget: Callable[[], bool]) -> Found:
    """Show ``run``'s events up to and including the next one that adds a mark, making more
    with the engine as needed, until ``budget()`` says stop (the playhead then stays at the
    last event shown). A stalled run is never ended here: nothing comes by itself."""
    spent = False
    while True:
        events = run.sim.events
        count, k = len(events), run.seen
        while k < count and type(events[k]) not in MARKING:
            k += 1
        if k < count:
            before = _marks(run)
            run.show_upto(k + 1)
            if _marks(run) != before:
                return Found(k)
            continue
        run.show_upto(count)
        sim = run.sim
        if run.finished or sim.finished:
            return Found(None, "no mark after this one: the run has ended")
        if sim.stalled:
            return Found(None, "no mark to come: nothing can happen by itself any more")
        if not replayable(sim):
            return Found(None, "a live run is shown as its program runs: play it on")
        if spent:
            return Found(None, "no mark yet", further=True)
        for _ in range(_STEPS):
            run.step()
            if sim.finished or sim.stalled:
                break
        spent = budget()  # after the steps: each look makes progress, however short


def previous_mark(run: Run) -> int | None:
    """The index of the latest mark's event before the last event shown, if any."""
    events, limit = run.sim.events, run.seen - 1
    moments = run.timeline.story.moments
    best = -1
    for moment in reversed(moments):
        if moment.index < limit:
            best = moment.index
            break
    # Results main received are ticks, not moments: found among the events themselves.
    for k in range(limit - 1, best, -1):
        if type(events[k]) is ResultReceived:
            return k
    return best if best >= 0 else None


def read_time(text: str) -> float:
    """A time typed by a person, in seconds: ``1.2s``, ``350ms``, ``0.35`` (seconds),
    ``20us``; raises ValueError with a one-line message otherwise."""
    typed = text.strip()
    try:
        return parse_seconds(typed)
    except ValueError as error:
        if typed and DURATION_PATTERN.match(typed):
            raise ValueError(f"{typed} is too late: {error}") from None  # a huge number
    shown = typed if len(typed) <= 20 else typed[:19] + "…"
    said = f"{shown!r} is not a time" if typed else "No time typed"
    raise ValueError(f"{said}: type one such as 1.2s, 350ms or 0.35")
