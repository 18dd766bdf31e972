"""The event log keeps state changes as rows and gives readers typed events, the same
ones (equal, and the same object on every read) a list of events would hold."""

from __future__ import annotations

import gc

from concsim.engine import Simulation
from concsim.engine.recording import EventLog
from concsim.events import LaneState, LaneStateChanged, RunStarted
from concsim.scenario.model import Scenario


def _scenario() -> Scenario:
    return Scenario.model_validate(
        {
            "name": "log",
            "program": {"model": "asyncio", "collect": "gather"},
            "tasks": [{"name": "co", "repeat": 3, "steps": [{"sleep": "10ms"}, {"cpu": "1ms"}]}],
        }
    )


def test_a_state_change_is_kept_as_a_row_until_read() -> None:
    sim = Simulation(_scenario())
    sim.run()
    rows = sim.events.rows
    states = [i for i, row in enumerate(rows) if type(row) is tuple]
    assert states and all(type(rows[i]) is tuple for i in states)
    first = states[0]
    event = sim.events[first]
    assert type(event) is LaneStateChanged and event.seq == first
    assert rows[first] is event  # typed once, then kept in its place
    assert sim.events[first] is event


def test_reading_gives_the_events_a_list_would_hold() -> None:
    sim = Simulation(_scenario())
    log = sim.run()
    assert isinstance(log, EventLog)
    events = list(log)
    assert [event.seq for event in events] == list(range(len(events)))
    assert isinstance(events[0], RunStarted)
    assert log[-1] is events[-1] and log[-len(events)] is events[0]
    assert log[2:9] == events[2:9] and log[::3] == events[::3]
    assert log == events and log == Simulation(_scenario()).run()
    assert log != events[:-1]
    cpu = [e for e in events if type(e) is LaneStateChanged and e.step == "cpu 1ms"]
    assert (cpu[0].t, cpu[0].lane, cpu[0].state, cpu[0].task) == (
        0.01,
        "co-1",
        LaneState.RUNNING,
        "co-1",
    )


def test_slices_and_iteration_see_what_is_appended_meanwhile() -> None:
    sim = Simulation(_scenario())
    seen = []
    for event in sim.events:  # the log grows while it is read, as the app reads it
        seen.append(event)
        if not sim.finished:
            sim.step()
    assert seen == list(sim.events)
    assert sim.events[: len(seen)] == seen


def test_rows_are_not_tracked_by_the_garbage_collector() -> None:
    sim = Simulation(_scenario())
    sim.run()
    gc.collect()
    rows = [row for row in sim.events.rows if type(row) is tuple]
    assert rows and not any(gc.is_tracked(row) for row in rows)
