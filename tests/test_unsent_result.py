"""A worker process's task that returned a value pickle refuses: its lane ends where the
result failed to be sent (↛), and the failed future main read is marked ✗."""

from __future__ import annotations

from concsim.engine import Simulation
from concsim.export.text import timeline as text_timeline
from concsim.palette import Cue
from concsim.replay import open_scenario
from concsim.ui.ledger import Ledger
from concsim.ui.panels import futures_text
from concsim.ui.timeline import Timeline


def test_a_result_that_cannot_be_pickled_ends_its_lane_as_not_sent() -> None:
    """CPython 3.11: connect() returns in the worker; ``_sendback_result`` fails to pickle
    the lock it returned and sends the TypeError instead, so the future fails: the lane ends
    ``↛`` (returned, result not sent), not ✓, and main's ``result()`` re-raise links to it."""
    sim = Simulation(open_scenario("unpicklable-values").variant("unpicklable-result"))
    sim.run()
    timeline = Timeline()
    timeline.feed(list(sim.events))
    moments = timeline.story.moments
    told = [(m.t, m.row, m.cue, m.task) for m in moments]
    assert told == [
        (0.0602, "process-1", Cue.UNSENT, "connect"),
        (
            0.0604,
            "main",
            Cue.RERAISED,
            "connect",
        ),
    ]
    assert moments[1].cause == 0
    lines = [line.plain for line in text_timeline(sim.events, width=60).renderables]
    worker = next(line for line in lines if line.startswith("process-1"))
    assert "↛" in worker and worker.index("↛") < worker.index("✓")  # then square-2 ends ✓
    assert "↛ returned, result not sent" in lines[-1]


def test_the_failed_result_main_read_shows_the_future_s_cross() -> None:
    """The futures panel's tail (what stays in view at 80x24) marks the failure ✗."""
    sim = Simulation(open_scenario("unpicklable-values").variant("unpicklable-result"))
    sim.run()
    ledger = Ledger()
    ledger.feed(sim.events)
    text = futures_text(ledger).plain
    assert text.splitlines()[-2:] == ["received, in order:", "1. ✗ connect raised TypeError"]
