"""A process pool's future marked running that no worker took: the futures panel says so
with its own glyph, and at the end says "never started", as the log does."""

from __future__ import annotations

from concsim.engine import Simulation
from concsim.events import Event, FutureChanged, TaskEnded, TaskStarted
from concsim.replay import open_scenario
from concsim.ui.ledger import Ledger
from concsim.ui.panels import futures_text


def _rows(events: list[Event]) -> list[str]:
    ledger = Ledger()
    ledger.feed(events)
    return futures_text(ledger).plain.splitlines()[:7]


KEY = "◔ marked running in the call queue; no worker took it"


def test_calls_left_in_the_call_queue_read_never_started_in_the_panel_and_the_log() -> None:
    """CPython: ``_add_call_item_to_queue`` calls ``set_running_or_notify_cancel()`` as the
    manager thread moves job-5 and job-6 into the call queue (180 ms); with gh-115634 no
    worker process is left to take them, so their futures stay running and they never
    start."""
    sim = Simulation(open_scenario("worker-recycling"))
    sim.run()
    events = list(sim.events)
    end = next(k for k, e in enumerate(events) if isinstance(e, TaskEnded) and e.task == "job-5")
    assert events[end].why == "job-5 never started."
    assert _rows(events[:end])[4:] == [
        "◔ job-5 running, in queue",
        "◔ job-6 running, in queue",
        KEY,
    ]
    assert _rows(events)[4:] == ["◔ job-5 never started", "◔ job-6 never started", KEY]


def test_a_call_a_worker_took_is_running_as_before() -> None:
    """In ``one-task-each`` job-5 waits in the call queue from 180 ms until process-5 takes
    it at 491 ms: ◔ until then, ◐ running from then on."""
    sim = Simulation(open_scenario("worker-recycling").variant("one-task-each"))
    sim.run()
    events = list(sim.events)
    began = next(
        k for k, e in enumerate(events) if isinstance(e, TaskStarted) and e.task == "job-5"
    )
    assert _rows(events[:began])[4:] == [
        "◔ job-5 running, in queue",
        "◔ job-6 running, in queue",
        KEY,
    ]
    assert _rows(events[: began + 1])[4:] == [
        "◐ job-5 running",
        "◔ job-6 running, in queue",
        KEY,
    ]


def test_a_sequential_call_started_before_it_was_submitted_is_running() -> None:
    """Sequential calls: main starts each (TaskStarted) before its future is made."""
    sim = Simulation(open_scenario("sequential-io"))
    sim.run()
    events = list(sim.events)
    done = next(
        k
        for k, e in enumerate(events)
        if isinstance(e, FutureChanged) and e.task == "request-2" and e.state.value == "running"
    )
    assert _rows(events[: done + 1])[:2] == ["✓ request-1 done", "◐ request-2 running"]
