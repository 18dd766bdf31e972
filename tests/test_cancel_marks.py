"""A cancel requested is drawn where ``cancel()`` was called, its delivery where
``CancelledError`` is thrown in: two moments on two rows, both visible."""

from __future__ import annotations

from concsim.engine import Injection, Simulation
from concsim.events import CancelRequested, Event
from concsim.export.text import timeline as text_timeline
from concsim.palette import Cue
from concsim.replay import open_scenario
from concsim.ui.timeline import Timeline


def _folded(name: str, *injections: Injection) -> tuple[Timeline, list[Event]]:
    sim = Simulation(open_scenario(name), injections=list(injections))
    sim.run()
    timeline = Timeline()
    timeline.feed(list(sim.events))
    return timeline, list(sim.events)


def _cancels(timeline: Timeline) -> list[tuple[float, str, Cue, str | None]]:
    cues = (Cue.CANCEL_ASKED, Cue.CANCEL_DELIVERED)
    return [(m.t, m.row, m.cue, m.task) for m in timeline.story.moments if m.cue in cues]


ASKED, DELIVERED = Cue.CANCEL_ASKED, Cue.CANCEL_DELIVERED


def test_each_cancel_is_asked_on_the_caller_s_row_and_delivered_on_the_target_s() -> None:
    """CPython: main calls ``server.cancel()``; the group in server cancels its handlers
    (``TaskGroup.__aexit__``); each handler's ``Task.cancel`` passes the cancel on to the
    query it awaits (``self._fut_waiter.cancel()``)."""
    timeline, events = _folded("task-tree-cancelled")
    assert _cancels(timeline) == [
        (0.3, "main", ASKED, "server"),
        (0.3, "server", DELIVERED, "server"),
        (0.3, "server", ASKED, "handler-1"),
        (0.3, "server", ASKED, "handler-2"),
        (0.3, "handler-1", DELIVERED, "handler-1"),
        (0.3, "handler-1", ASKED, "query-1"),
        (0.3, "handler-2", DELIVERED, "handler-2"),
        (0.3, "handler-2", ASKED, "query-2"),
        (0.3, "query-1", DELIVERED, "query-1"),
        (0.3, "query-2", DELIVERED, "query-2"),
    ]
    asked = [(e.task, e.by) for e in events if isinstance(e, CancelRequested)]
    assert asked == [
        ("server", "main"),
        ("handler-1", "server"),
        ("handler-2", "server"),
        ("query-1", "handler-1"),
        ("query-2", "handler-2"),
    ]


def test_the_cancel_asked_is_seen_on_main_s_lane_beside_the_delivery() -> None:
    """The text timeline draws ⊖ on main's row at 0.3 s and ⊗ on server's, in one column."""
    sim = Simulation(open_scenario("task-tree-cancelled"))
    sim.run()
    lines = [line.plain for line in text_timeline(sim.events, width=60).renderables]
    rows = {line[:24].strip(): line[24:] for line in lines}
    assert rows["main()"].index("⊖") == rows["server"].index("⊗")
    assert "⚑" not in "".join(rows.values())


def test_a_cancel_from_a_key_is_the_fault_s_flag_with_no_caller() -> None:
    """``c`` on query-1 at 0.1 s: the fault landed (⚑) is the request; no lane called it."""
    timeline, events = _folded(
        "task-tree-cancelled", Injection(at=0.1, fault="cancel", target="query-1")
    )
    [first] = [e for e in events if isinstance(e, CancelRequested) and e.t == 0.1]
    assert (first.task, first.by) == ("query-1", None)
    marks = [(m.t, m.row, m.cue) for m in timeline.story.moments if m.t == 0.1]
    assert marks[:2] == [(0.1, "query-1", Cue.FAULT), (0.1, "query-1", ASKED)]


def test_a_timeout_s_cancel_is_asked_by_the_event_loop() -> None:
    """``asyncio.timeout()``: ``Timeout._on_timeout`` is a callback the loop runs
    (``loop.call_at``), so its ``task.cancel()`` is drawn on the event loop's row."""
    timeline, events = _folded("idle-timeout")
    asked = [(e.task, e.by) for e in events if isinstance(e, CancelRequested)]
    assert asked == [("stalled", "loop")]
    assert [(m.row, m.cue) for m in timeline.story.moments if m.cue is ASKED] == [("loop", ASKED)]
