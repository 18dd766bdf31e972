"""Waits that end on the lanes: each waiter a notify woke (↑), a wait whose timeout ran out
and returned (◷). Variants whose stories differ there no longer look the same."""

from __future__ import annotations

from concsim.engine import Simulation
from concsim.export.text import timeline as text_timeline
from concsim.palette import Cue
from concsim.replay import open_scenario
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario
from concsim.ui.timeline import Timeline


def _moments(name: str, variant: str | None, cue: Cue) -> list[tuple[float, str]]:
    sim = Simulation(load_scenario(find_scenario(name)).variant(variant))
    sim.run()
    timeline = Timeline()
    timeline.feed(list(sim.events))
    return [(m.t, m.row) for m in timeline.story.moments if m.cue is cue]


def test_notify_wakes_one_packer_and_notify_all_wakes_every_one() -> None:
    """CPython: ``Condition.notify()`` wakes one waiter, ``notify_all()`` every waiter; a
    packer woken with no order left waits again (``wait_for``'s loop) and is woken at 0.5 s."""
    assert _moments("asyncio-condition", None, Cue.WOKEN) == [
        (0.2, "packer-1"),
        (0.5, "packer-2"),
    ]
    assert _moments("asyncio-condition", "notify-all", Cue.WOKEN) == [
        (0.2, "packer-1"),
        (0.2, "packer-2"),
        (0.2, "packer-3"),
        (0.5, "packer-2"),
    ]


def test_join_with_a_timeout_is_marked_where_it_returns() -> None:
    """CPython: ``writer.join(0.5)`` returns None at 0.5 s with the writer still alive; main
    goes on (and terminates it). Without a timeout nothing times out."""
    assert _moments("terminate-skips-finally", "join-timeout", Cue.TIMED_OUT) == [(0.5, "main")]
    assert _moments("terminate-skips-finally", None, Cue.TIMED_OUT) == []


def test_the_marks_are_drawn_on_the_lanes_and_named_in_the_legend() -> None:
    """The text timeline (the app's rows) shows ◷ on main's row and names it."""
    sim = Simulation(open_scenario("terminate-skips-finally").variant("join-timeout"))
    sim.run()
    lines = [line.plain for line in text_timeline(sim.events, width=50).renderables]
    main = next(line for line in lines if line.startswith("main thread"))
    assert "◷" in main
    assert "◷ wait timed out" in lines[-1]
