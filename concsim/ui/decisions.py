"""The evil scheduler's side of the session: the next decision point after the playhead, and
its choices in words (no Textual here; the screen is concsim.ui.screens.choose)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import assert_never

from concsim.durations import format_time
from concsim.engine.threads.ties import Decision, Maker
from concsim.events import Event, LaneState, LaneStateChanged
from concsim.ui.session import Session

PROBE_EVENTS = 500_000
"""How far past the playhead the next decision point is looked for."""
PAUSE_EVERY = 500
"""Engine steps between two pauses of a probe made on a worker."""

NOT_OFFERED = (
    "Only what CPython and the OS could do is offered: which waiting thread the OS wakes "
    "for the GIL (drop_gil signals its condition once) or for a threading.Lock (no order "
    "is defined). Coroutines are never offered: asyncio runs its ready callbacks in FIFO "
    "order (Lib/asyncio/base_events.py) and asyncio.Lock and asyncio.Queue wake their "
    "first waiter, so CPython could not reorder them."
)


@dataclass(frozen=True, slots=True)
class Choice:
    """One thread that could go next, as the choice screen lists it."""

    lane: str
    doing: str
    """``adder-2: with lock · blocked since 10ms``."""
    note: str
    """``first in line``, ``the run's choice``, or empty."""


def next_decision(
    session: Session, pause: Callable[[], None] | None = None
) -> tuple[Decision, Sequence[Event]] | None:
    """The first decision point the run makes after what the views have shown, and the
    events made up to it; None if the run makes none (within ``PROBE_EVENTS`` more).
    ``pause``, if given, is called every ``PAUSE_EVERY`` steps (a worker giving way)."""
    sim = session.fresh(session.injections).sim
    world = getattr(sim, "world", None)
    if world is None:
        return None
    shown = session.seen
    limit = shown + PROBE_EVENTS
    steps = 0
    while not sim.finished and len(sim.events) < limit:
        found = [d for d in world.decisions if d.events_before >= shown]
        if found:
            return found[0], sim.events
        sim.step()
        steps += 1
        if pause is not None and steps % PAUSE_EVERY == 0:
            pause()
    found = [d for d in world.decisions if d.events_before >= shown]
    return (found[0], sim.events) if found else None


def headline(decision: Decision) -> str:
    """``12.3ms: thread-1 lets go of the GIL; 3 threads wait for it. Who goes next?``"""
    by = f"{decision.holder} lets go of {decision.what}" if decision.holder else decision.what
    return (
        f"{format_time(decision.at / 1_000_000)}: {by}; {len(decision.waiting)} threads wait "
        "for it. Who goes next?"
    )


def choices(decision: Decision, events: Sequence[Event]) -> list[Choice]:
    """Each waiting thread, in the order they began to wait, with what it is doing."""
    last: dict[str, LaneStateChanged] = {}
    for event in events[: decision.events_before]:
        if isinstance(event, LaneStateChanged) and event.lane in decision.waiting:
            last[event.lane] = event
    rows = []
    for index, lane in enumerate(decision.waiting):
        change = last.get(lane)
        doing = ""
        if change is not None:
            what = f"{change.task}: " if change.task and change.task != lane else ""
            what += change.step or change.state.value
            doing = f"{what} · {_waiting(change.state)} since {format_time(change.t)}"
        notes = []
        if index == 0:
            notes.append("first in line")
        if index == decision.chosen:
            notes.append(_maker(decision.maker))
        rows.append(Choice(lane, doing, ", ".join(notes)))
    return rows


def _waiting(state: LaneState) -> str:
    if state is LaneState.GIL_WAIT:
        return "waits for the GIL"
    if state is LaneState.BLOCKED:
        return "blocked"
    return state.value


def _maker(maker: Maker) -> str:
    match maker:
        case Maker.FIFO:
            return "the run's choice"
        case Maker.SEED:
            return "the seed's choice"
        case Maker.CHOSEN:
            return "your choice"
        case _:
            assert_never(maker)
