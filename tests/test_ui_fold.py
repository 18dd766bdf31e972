"""The views' fold reads the engine's rows: the timeline (with its story), the ledger and the
marks it makes from a run's rows are those made from its typed events, field for field,
whichever rows were typed before and however the run is cut into parts."""

from __future__ import annotations

import random
import sys
from itertools import pairwise
from typing import Any

import pytest
from test_ui_checkpoints import state

from concsim.engine import Simulation
from concsim.engine.recording import EventLog
from concsim.events import Event, ResultReceived
from concsim.replay import open_scenario
from concsim.scenario.library import bundled_scenarios
from concsim.ui import fold
from concsim.ui.ledger import Ledger
from concsim.ui.logrows import Rows
from concsim.ui.session import Session
from concsim.ui.timeline import Timeline

NAMES = sorted(path.stem for path in bundled_scenarios())


def recorded(name: str, variant: str | None = None) -> EventLog:
    """A finished run's log, its rows untyped (as the engine recorded them)."""
    sim = Simulation(open_scenario(name), variant=variant)
    sim.run()
    events = sim.events
    assert isinstance(events, EventLog)
    return events


def typed_fold(events: list[Event]) -> tuple[Any, Any]:
    timeline, ledger = Timeline(), Ledger()
    timeline.feed(events)
    ledger.feed(events)
    return state(timeline), state(ledger)


def row_fold(log: EventLog, cuts: list[int]) -> tuple[Any, Any, list[int]]:
    timeline, ledger = Timeline(), Ledger()
    results: list[int] = []
    for start, end in pairwise(cuts):
        results += fold.feed(timeline, ledger, log, start, end)
    return state(timeline), state(ledger), results


@pytest.mark.parametrize("name", NAMES)
def test_the_fold_of_the_rows_is_the_fold_of_the_typed_events(name: str) -> None:
    """Every bundled scenario, its main program and each variant: fed all at once, then in
    random parts with a random third of the rows typed first, the models equal those fed
    the typed events, and the results found are exactly the ``ResultReceived`` events."""
    scenario = open_scenario(name)
    for variant in (None, *scenario.variant_names):
        log = recorded(name, variant)
        count = len(log)
        untyped = sum(type(row) is tuple for row in log.rows)
        whole = row_fold(log, [0, count])
        rng = random.Random(count)
        for index in rng.sample(range(count), count // 3):
            log[index]  # typed in its place, as a reader leaves it
        cuts = sorted({0, count, *rng.sample(range(count), min(count, 7))})
        parts = row_fold(log, cuts)
        typed = list(log)
        expected = typed_fold(typed)
        results = [k for k, event in enumerate(typed) if type(event) is ResultReceived]
        assert untyped > count // 2, (name, variant)  # the rows were there to read
        assert whole == parts == (*expected, results), (name, variant)


def test_a_live_runs_list_of_typed_events_folds_as_typed() -> None:
    """A list of typed events (a live run's) takes the typed fold."""
    log = recorded("race-lost-update")
    typed = list(log)
    assert row_fold(log, [0, len(typed)])[:2] == typed_fold(typed)
    timeline, ledger = Timeline(), Ledger()
    fold.feed(timeline, ledger, typed, 0, len(typed))
    assert (state(timeline), state(ledger)) == typed_fold(typed)


def test_what_was_fed_is_typed_only_when_read() -> None:
    """``Fed`` stands for events start to end: its length costs nothing; reading an event
    types that row alone; it equals the list of those events."""
    log = recorded("process-overhead")
    fed = fold.Fed(log, 100, 110)
    assert len(fed) == 10 and fed and not fold.Fed(log, 5, 5)
    assert sum(type(row) is not tuple for row in log.rows[100:110]) < 10
    event = fed[3]
    assert event is log.rows[103] and fed[-1] is log[109]
    assert fed == log[100:110] and list(fed) == log[100:110] and fed[2:4] == log[102:104]
    with pytest.raises(IndexError):
        fed[10]


@pytest.mark.parametrize("name", NAMES)
def test_the_logs_rows_of_the_engines_rows_are_those_of_the_typed_events(name: str) -> None:
    """The event log's folded rows, fed on and scanned back, from the engine's rows (left
    untyped) are those made from the typed events: the same events told, the same
    stretches with the same counts."""
    log, typed = recorded(name), list(recorded(name))
    count = len(typed)
    for start in (0, count // 2):
        made = []
        for events in (log, typed):
            rows = Rows(fold=True)
            rows.scan_back(events, start, 0, None)
            rows.feed(events, start, count, None)
            made.append((list(rows), rows.stretches))
        assert made[0] == made[1], name
    assert sum(type(row) is tuple for row in log.rows) > count // 2  # read, never typed


def test_the_engines_work_for_the_views_leaves_its_events_as_rows() -> None:
    """A session played on, stepped and run to its end never types the events it feeds
    its views: the engine's log still holds rows (the fold read them), and the engine
    made the events ``Simulation.advance`` makes."""
    name = "process-overhead"
    session = Session(open_scenario(name), source=name)
    session.advance_to(0.02)
    session.step()
    session.run_to_end()
    log = session.events
    assert isinstance(log, EventLog) and session.finished
    untyped = sum(type(row) is tuple for row in log.rows)
    assert untyped > len(log) * 9 // 10
    assert list(log) == list(recorded(name))


def python_calls(work: Any) -> int:
    """Python functions ``work()`` calls (builtins left out), counted by a profile hook."""
    calls = 0

    def hook(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        calls += event == "call"

    sys.setprofile(hook)
    try:
        work()
    finally:
        sys.setprofile(None)
    return calls


def test_the_fold_costs_a_few_python_calls_per_event() -> None:
    """process-overhead's 11,318 events, as recorded: the views' fold makes fewer than three
    Python calls per event (a lane's state: the row's interval and the change log; a task
    that ran), the event log's folded rows fewer than two (sorting the row); typing the
    events first would cost one more per event for each."""
    log = recorded("process-overhead")
    count = len(log)
    timeline, ledger = Timeline(), Ledger()
    fed = python_calls(lambda: fold.feed(timeline, ledger, log, 0, count))
    logged = python_calls(lambda: Rows(fold=True).feed(log, 0, count, None))
    assert fed < 3 * count and logged < 2 * count, (fed / count, logged / count)
    assert sum(type(row) is tuple for row in log.rows) > count * 8 // 10  # none typed
