"""Moving the playhead to the moments that matter: the next and previous mark, a typed time.

A mark is a moment of the story (``concsim.ui.story``): an exception raised, one re-raised by
its reader, a fault landed, a cancel requested or delivered, a lost update, and a result
main received. Which events add one is only known once the story has folded them in (a write
is a lost update only after others wrote since its read), and every history keeps an index of
the marks folded so far (``concsim.ui.markindex``): a mark it holds is found by bisection
and shown from the nearest checkpoint, whatever the length of the run. Past what was ever
folded, the next one is found by showing the events one at a time from the playhead (the
engine makes more as needed) until one adds a mark.
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


def known_next(run: Run) -> int | None:
    """The index of the next mark's event at or after the playhead, if the history's index
    holds it (it was folded before: shown, then stepped back from, or fed ahead)."""
    return run.made.marks.after(run.seen)


def far(run: Run, index: int) -> bool:
    """Whether showing the first ``index + 1`` events is shorter from a checkpoint than by
    feeding ``run`` on from its playhead."""
    if not replayable(run.sim):
        return False
    checkpoint = run.made.checkpoints.before(index + 1)
    return checkpoint is not None and checkpoint.seen > run.seen


def next_mark(run: Run, budget: Callable[[], bool]) -> Found:
    """Show ``run``'s events up to and including the next one that adds a mark, making more
    with the engine as needed, until ``budget()`` says stop (the playhead then stays at the
    last event shown). A stalled run is never ended here: nothing comes by itself. A mark
    the history's index holds is shown at once (see ``known_next`` for one far ahead)."""
    known = known_next(run)
    if known is not None:
        run.show_upto(known + 1)
        return Found(known)
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
    """The index of the latest mark's event before the last event shown, if any: from the
    history's index, which holds every event any run over this engine has shown."""
    return run.made.marks.before(run.seen - 1)


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
