"""Checkpoints of the views' models: a run shown back from one holds exactly what a run fed
from the start holds, field for field, and moving back never feeds more than the spacing."""

from __future__ import annotations

from array import array
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import Any

import pytest

from concsim.engine import Simulation
from concsim.replay import open_scenario
from concsim.ui import checkpoints, fold
from concsim.ui.ledger import Ledger
from concsim.ui.session import Session
from concsim.ui.timeline import Timeline

# Caches, not state: the cells memo and the rows order are remade on demand; a track's log
# is the timeline's, compared there.
_CACHES = {"memo", "_rows", "_frame", "log", "lock"}


def state(value: Any, depth: int = 0) -> Any:
    """Every field of a model, recursively, as plain values (a new field is compared too)."""
    assert depth < 12
    if value is None or isinstance(value, (str, int, float, Enum)):
        return value
    if isinstance(value, array):
        return (value.typecode, value.tolist())
    if isinstance(value, (list, tuple)):
        return [state(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return [(key, state(item, depth + 1)) for key, item in value.items()]
    names: list[str] = []
    if is_dataclass(value):
        names = [f.name for f in fields(value)]
    elif hasattr(value, "__dict__"):
        names = list(vars(value))
    if not names:
        return value
    return {
        name: state(getattr(value, name), depth + 1) for name in names if name not in _CACHES
    } | {"type": type(value).__name__}


def fed(events: list[Any]) -> tuple[Any, Any]:
    timeline, ledger = Timeline(), Ledger()
    timeline.feed(events)
    ledger.feed(events)
    timeline.now = max(timeline.now, events[-1].t if events else 0.0)
    return state(timeline), state(ledger)


@pytest.mark.parametrize("name", ["race-lost-update", "failure-during-as-completed"])
def test_a_run_shown_back_from_a_checkpoint_holds_what_a_run_fed_from_the_start_holds(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN checkpoints every 16 events, WHEN the playhead is put after k events for k
    across the run (on, beside and between checkpoints), THEN the timeline (with its story)
    and the ledger equal, field by field, those fed the first k events from the start."""
    monkeypatch.setattr(checkpoints, "SPACING", 16)
    monkeypatch.setattr(checkpoints, "MOST", 10_000)
    session = Session(open_scenario(name), source=name)
    session.run_to_end()
    events = session.events
    assert len(session.run.made.checkpoints) == len(events) // 16
    for upto in sorted({1, 15, 16, 17, 33, len(events) // 2, len(events) - 1, len(events)}):
        session.show_event(upto)
        assert session.seen == upto and session.now == events[upto - 1].t
        assert (state(session.timeline), state(session.ledger)) == fed(events[:upto])


def test_a_checkpoint_is_a_copy_the_run_fed_on_never_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run fed past a checkpoint leaves the checkpoint as it was when taken."""
    monkeypatch.setattr(checkpoints, "SPACING", 16)
    session = Session(open_scenario("deadlock-lock-order"), source="deadlock-lock-order")
    session.advance_to(0.0)
    first = session.run.made.checkpoints.before(16)
    assert first is not None and first.seen == 16
    taken = (state(first.timeline), state(first.ledger))
    session.run_to_end()
    assert (state(first.timeline), state(first.ledger)) == taken == fed(session.events[:16])


def test_the_checkpoints_thin_out_past_the_most_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most MOST checkpoints: past that, every other goes and the spacing doubles."""
    monkeypatch.setattr(checkpoints, "SPACING", 8)
    monkeypatch.setattr(checkpoints, "MOST", 4)
    session = Session(open_scenario("process-overhead"), source="process-overhead")
    session.advance_to(0.01)
    kept = session.run.made.checkpoints
    assert len(kept) <= 4 and session.seen >= 8 * 4
    assert kept.seens == [kept.spacing * (k + 1) for k in range(len(kept))]
    assert kept.spacing * (len(kept) + 1) > session.seen


def test_seek_moves_the_playhead_back_and_on_to_the_time_given() -> None:
    """io-threads: seek to 0.2 s from 0.5 s shows exactly the events up to 0.2 s with the
    playhead at 0.2 s; a seek on to 0.35 s shows those up to 0.35 s."""
    session = Session(open_scenario("io-threads"), source="io-threads")
    session.advance_to(0.5)
    engine = session.sim
    direct = Simulation(open_scenario("io-threads"))
    for t in (0.2, 0.35):
        session.seek(t)
        direct_events = [e.to_dict() for e in direct.events if e.t <= t]
        if len(direct_events) == len(direct.events):
            direct.advance(t)
            direct_events = [e.to_dict() for e in direct.events if e.t <= t]
        assert session.now == t and session.sim is engine
        assert [e.to_dict() for e in session.events[: session.seen]] == direct_events


def steps_back_fed(events_wanted: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[int]]:
    """process-overhead run to its end with checkpoints every 64 events and at most 8 kept
    (the spacing grows with the history, as past a million events at the real sizes): the
    events the first step back feeds, and the most each of the next 200 feeds."""
    monkeypatch.setattr(checkpoints, "SPACING", 64)
    monkeypatch.setattr(checkpoints, "MOST", 8)
    session = Session(open_scenario("process-overhead"), source="process-overhead")
    session.run_to_end()
    assert len(session.events) > events_wanted
    session.show_event(events_wanted)
    fed_now: list[int] = []
    feed = fold.feed

    def counted(timeline: Any, ledger: Any, events: Any, start: int, end: int) -> Any:
        fed_now.append(max(0, end - start))
        return feed(timeline, ledger, events, start, end)

    monkeypatch.setattr(fold, "feed", counted)
    per_step = []
    for _ in range(201):
        fed_now.clear()
        assert session.step_back()
        per_step.append(sum(fed_now))
    monkeypatch.setattr(fold, "feed", feed)
    assert session.seen == events_wanted - 201
    assert len(session.run.made.checkpoints.near) <= checkpoints.NEAR
    return session.run.made.checkpoints.spacing, per_step


def test_steps_back_feed_the_spacing_but_once_in_every_spacing_however_long_the_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 2,000 and at 10,000 events of the history (the checkpoints kept 16 times the
    first spacing apart by then): a step back from a place no checkpoint is near feeds at
    most what lies between two checkpoints kept, and leaves one near the playhead; of the
    200 steps back after it, each feeds at most SPACING events, but the one in every
    SPACING that passes below the checkpoint near the playhead (it leaves the next one)."""
    for place in (2_000, 10_000):
        spacing, per_step = steps_back_fed(place, monkeypatch)
        assert spacing >= 16 * 64
        assert per_step[0] <= spacing
        far = [k for k, fed in enumerate(per_step) if fed > 64]
        assert all(per_step[k] <= spacing for k in far)
        # Where the playhead passed below a multiple of SPACING, never elsewhere.
        crossed = [k for k in range(1, 201) if (place - k - 1) % 64 == 63]
        assert set(far) - {0} <= set(crossed), (place, per_step)
        assert len(crossed) <= 4
