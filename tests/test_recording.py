"""The event log keeps state changes as rows and gives readers typed events, the same
ones (equal, and the same object on every read) a list of events would hold."""

from __future__ import annotations

import gc

from concsim.engine import Simulation
from concsim.engine.recording import EventLog
from concsim.engine.rows import row_maker, typed_event
from concsim.events import (
    Cleanup,
    LaneCreated,
    LaneState,
    LaneStateChanged,
    Outcome,
    RunStarted,
    TaskEnded,
)
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
    # A state change's row: (t, lane, state value, task, step); any other event's row has
    # its class's code in second place (rows.py).
    states = [i for i, row in enumerate(rows) if type(row) is tuple and type(row[1]) is str]
    assert states and all(len(rows[i]) == 5 for i in states)
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
    gc.collect()  # a row holding a tuple (the run's task names) is untracked after it
    rows = [row for row in sim.events.rows if type(row) is tuple]
    assert len(rows) == len(sim.events) and not any(gc.is_tracked(row) for row in rows)


def test_every_event_is_kept_as_a_row_and_typed_as_it_was_emitted() -> None:
    """Each kind of event round-trips through its row: the events read from a run's rows
    are those a run that builds every event at once (``keep``) records."""
    sim = Simulation(_scenario())
    log = sim.run()
    assert all(type(row) is tuple for row in log.rows)
    kinds = {type(event) for event in Simulation(_scenario()).run()}
    typed_at_once = Simulation(_scenario(), keep=kinds).run()
    assert all(not isinstance(row, tuple) for row in typed_at_once.rows)
    assert [event.to_dict() for event in log] == [event.to_dict() for event in typed_at_once]
    assert log == typed_at_once and len(kinds) >= 8


def test_an_event_row_holds_enums_as_their_values_and_types_them_back() -> None:
    make = row_maker(TaskEnded)
    row = make(0.5, task="co-1", outcome=Outcome.FAILED, error="ValueError")
    assert row[0] == 0.5 and row[2:] == ("co-1", "failed", "ValueError", "none")
    gc.collect()
    assert not gc.is_tracked(row)
    assert typed_event(row, 7) == TaskEnded(
        t=0.5, seq=7, task="co-1", outcome=Outcome.FAILED, error="ValueError"
    )
    assert typed_event(row, 7).cleanup is Cleanup.NONE


def test_each_kind_of_row_is_made_by_code_a_profile_names() -> None:
    assert row_maker(TaskEnded).__code__.co_filename == "<row TaskEnded>"
    assert row_maker(LaneCreated).__code__.co_filename == "<row LaneCreated>"
