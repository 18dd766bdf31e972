"""A run shows a history its engine made: step back and rewind show it again without running
the engine, a step shows what ``Simulation.step()`` made, and an engine that ran ahead of
the playhead changes nothing on screen."""

from __future__ import annotations

import threading
import time

from concsim.engine import Simulation
from concsim.events import FaultInjected
from concsim.replay import open_scenario
from concsim.ui.session import Session
from concsim.ui.turns import Turns


def dicts(events: list) -> list[dict]:
    return [event.to_dict() for event in events]


def shown(session: Session) -> list[dict]:
    return dicts(session.events[: session.seen])


def test_step_back_and_rewind_show_the_same_history_again_without_the_engine() -> None:
    """GIVEN process-overhead at 50 ms, WHEN stepped back and rewound, THEN the engine is
    the same object (nothing simulated again), a step back hides exactly the last event
    shown and the playhead stands at the time of the one before it."""
    session = Session(open_scenario("process-overhead"), source="process-overhead")
    session.advance_to(0.05)
    engine, made, seen = session.sim, len(session.events), session.seen
    before = shown(session)
    assert session.step_back()
    assert session.sim is engine and len(session.events) == made
    assert session.seen == seen - 1 and shown(session) == before[:-1]
    assert session.now == before[-2]["t"] and session.timeline.count == seen - 1
    session.rewind()
    fresh = Simulation(open_scenario("process-overhead"))
    fresh.advance(0.0)
    assert session.sim is engine and session.now == 0.0
    assert shown(session) == dicts(fresh.events)


def test_a_step_shows_one_event_made_now_or_made_before() -> None:
    """io-threads at 250 ms: . shows exactly the next event of the engine's own history,
    made now; after a step back the same step shows it again, made before."""
    session = Session(open_scenario("io-threads"), source="io-threads")
    session.advance_to(0.25)
    direct = Simulation(open_scenario("io-threads"))
    direct.advance(0.25)
    following = direct.step()
    first = dicts(session.step())
    assert first == dicts(following[:1]) and session.now == following[0].t
    stepped = shown(session)
    second = dicts(session.step())
    assert second == dicts((following + direct.step())[1:2])
    assert session.step_back() and session.step_back() and session.step_back()
    assert shown(session) == stepped[:-2]
    assert dicts(session.step()) == stepped[-2:-1] and dicts(session.step()) == first
    assert shown(session) == stepped


def test_an_engine_ahead_of_the_playhead_changes_nothing_shown() -> None:
    """The engine runs to 100 ms, the view shows 40 ms: exactly the events up to 40 ms, the
    playhead at 40 ms, and a step shows the next events, not the engine's position."""
    session = Session(open_scenario("process-overhead"), source="process-overhead")
    session.run.advance(0.1)  # the engine alone, as the worker running ahead does
    session.advance_to(0.04)
    assert session.sim.now == 0.1 and session.now == 0.04
    assert all(e.t <= 0.04 for e in session.events[: session.seen])
    assert session.events[session.seen].t > 0.04
    fresh = Simulation(open_scenario("process-overhead"))
    fresh.advance(0.04)
    assert shown(session) == dicts(fresh.events)
    count = session.seen
    session.step()
    fresh.step()
    assert shown(session) == dicts(fresh.events[: count + 1])
    assert session.now == fresh.events[count].t


def test_a_fault_at_a_playhead_the_engine_passed_lands_where_it_would_have() -> None:
    """fail on main at 40 ms while the engine stands at 100 ms: the history is made
    again up to 40 ms and the fault lands there, event for event as without running ahead."""
    scenario = open_scenario("process-overhead")
    ahead = Session(scenario, source="process-overhead")
    ahead.run.advance(0.1)
    ahead.advance_to(0.04)
    ahead.inject("fail", "main")
    plain = Session(scenario, source="process-overhead")
    plain.advance_to(0.04)
    plain.inject("fail", "main")
    assert shown(ahead) == shown(plain)
    assert [e.target for e in ahead.events if isinstance(e, FaultInjected)] == ["main"]
    assert ahead.injections == plain.injections and ahead.now == 0.04
    ahead.advance_to(0.2)
    plain.advance_to(0.2)
    assert shown(ahead) == shown(plain)


def test_a_worker_sleeps_through_the_views_claim() -> None:
    """A claim of 50 ms: give_way in a worker returns no sooner than 50 ms after the claim
    (time.sleep never wakes early); with no claim it returns at once."""
    turns = Turns()
    returned: list[float] = []

    def worker() -> None:
        turns.give_way()
        returned.append(time.perf_counter())

    claimed = time.perf_counter()
    turns.claim(0.05)
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert returned and returned[0] - claimed >= 0.05
    start = time.perf_counter()
    Turns().give_way()
    assert time.perf_counter() - start < 1.0


def test_a_refused_fault_with_the_engine_ahead_leaves_the_history_as_it_was() -> None:
    """fail on a task not started yet, the engine ahead: refused, and the session keeps its
    engine (still ahead), its playhead and no injection."""
    session = Session(open_scenario("process-overhead"), source="process-overhead")
    session.run.advance(0.1)
    session.advance_to(0.04)
    engine, before = session.sim, shown(session)
    new = session.inject("fail", "square-900")
    assert [type(e).__name__ for e in new] == ["FaultInjected", "FaultRefused"]
    assert new[-1].reason == "square-900 has not started yet"
    assert session.sim is engine and session.sim.now == 0.1 and session.now == 0.04
    assert session.injections == () and shown(session) == before
