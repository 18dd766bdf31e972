"""A task that returns at its stop check (``if stop.is_set(): return``) stopped early: one
word and one glyph on its lane, in the legend, the log and the tasks panel. Its outcome
stays ``cancelled`` (docs/outcome.md), its future is done (the function returned None)."""

from __future__ import annotations

import pytest

from concsim import palette
from concsim.engine import Simulation
from concsim.events import LaneState, LaneStateChanged, TaskEnded
from concsim.export.outcome import outcome
from concsim.replay import open_scenario
from concsim.ui.draw import lane_label
from concsim.ui.legend import legend_of
from concsim.ui.timeline import Timeline


@pytest.mark.parametrize("name", ["cooperative-thread-cancel", "event-wait-stop"])
def test_a_lane_that_returned_at_its_check_stopped_early(name: str) -> None:
    sim = Simulation(open_scenario(name))
    events = list(sim.run())
    ends = [e for e in events if isinstance(e, LaneStateChanged) and e.lane == "thread-1"]
    assert (ends[-1].state, ends[-1].why) == (
        LaneState.STOPPED,
        "thread-1 stopped early in worker-1.",
    )
    ended = next(e for e in events if isinstance(e, TaskEnded) and e.task == "worker-1")
    assert ended.why == "worker-1 stopped early: it returned at its stop check."
    assert [t["outcome"] for t in outcome(events)["tasks"]] == ["cancelled", "cancelled"]
    timeline = Timeline()
    timeline.feed(events)
    glyph, _, words = lane_label(timeline.tracks["thread-1"])
    assert (glyph, words) == ("∎", "worker-1 stopped early")
    assert "∎ stopped early" in legend_of({LaneState.STOPPED}).plain


def test_a_cancelled_coroutine_is_still_cancelled() -> None:
    """A CancelledError is a cancellation, not a stop: ⊘ and 'cancelled'."""
    events = list(Simulation(open_scenario("task-tree-cancelled")).run())
    ended = next(e for e in events if isinstance(e, TaskEnded) and e.task == "query-1")
    assert ended.why == "query-1 ended cancelled with CancelledError."
    assert palette.LOOKS[LaneState.CANCELLED].mark == "⊘"
    assert not any(isinstance(e, LaneStateChanged) and e.state is LaneState.STOPPED for e in events)
