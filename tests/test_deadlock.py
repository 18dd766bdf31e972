"""A deadlock cycle from who holds and who waits: found, said in one sentence, drawn at the
playhead across the rows it joins, and named in the legend."""

from __future__ import annotations

from pathlib import Path

import pytest
from appkit import build, sync

from concsim import palette
from concsim.deadlock import Link, find_cycle, links_of_chain, sentence
from concsim.engine import Simulation
from concsim.events import DeadlockDetected
from concsim.replay import open_scenario
from concsim.ui.cells import Window
from concsim.ui.draw import Columns, draw_lane
from concsim.ui.legend import CYCLE, Key, legend_of
from concsim.ui.timeline import Timeline
from concsim.ui.widgets.panels import Legend

AB = (Link("thread-1", "lock_a", "lock_b"), Link("thread-2", "lock_b", "lock_a"))


def test_two_lanes_each_holding_what_the_other_waits_for() -> None:
    """thread-1 holds lock_a and waits for lock_b, held by thread-2, which waits for lock_a."""
    held = {"thread-1": ["lock_a"], "thread-2": ["lock_b"]}
    waits = {"thread-1": ("lock_b", "thread-2"), "thread-2": ("lock_a", "thread-1")}
    assert find_cycle(held, waits) == AB
    assert find_cycle(held, waits, order=["main", "thread-2", "thread-1"]) == (AB[1], AB[0])


def test_a_wait_on_a_running_holder_is_no_cycle() -> None:
    """thread-2 holds lock_b and runs: thread-1 waits, but not forever."""
    held = {"thread-1": ["lock_a"], "thread-2": ["lock_b"]}
    assert find_cycle(held, {"thread-1": ("lock_b", "thread-2")}) is None
    assert find_cycle({}, {}) is None


def test_a_wait_for_a_lock_released_since_is_no_cycle() -> None:
    """The holder a wait names no longer holds the lock: the wait is over, not a cycle."""
    held = {"thread-1": ["lock_a"], "thread-2": []}
    waits = {"thread-1": ("lock_b", "thread-2"), "thread-2": ("lock_a", "thread-1")}
    assert find_cycle(held, waits) is None


def test_a_lane_waiting_on_the_cycle_is_not_part_of_it() -> None:
    """Three lanes in a ring, and a fourth waiting for one of them: the ring only."""
    held = {"t1": ["a"], "t2": ["b"], "t3": ["c"], "t4": []}
    waits = {"t4": ("a", "t1"), "t1": ("b", "t2"), "t2": ("c", "t3"), "t3": ("a", "t1")}
    assert find_cycle(held, waits, order=["t1", "t2", "t3", "t4"]) == (
        Link("t1", "a", "b"),
        Link("t2", "b", "c"),
        Link("t3", "c", "a"),
    )


def test_a_lane_waiting_for_a_lock_it_holds_itself() -> None:
    """threading.Lock is not reentrant: acquiring it twice in one thread waits forever."""
    assert find_cycle({"t1": ["a"]}, {"t1": ("a", "t1")}) == (Link("t1", "a", "a"),)


def test_the_sentence_and_the_engines_chain() -> None:
    """DeadlockDetected's cycle (lane, lock, lane, lock, first lane) gives the same links."""
    assert sentence(AB) == (
        "Deadlock: thread-1 holds lock_a and waits for lock_b; "
        "thread-2 holds lock_b and waits for lock_a."
    )
    chain = ("thread-2", "lock_a", "thread-1", "lock_b", "thread-2")
    assert links_of_chain(chain) == [AB[1], AB[0]]


def folded(name: str) -> Timeline:
    sim = Simulation(open_scenario(name))
    sim.run()
    timeline = Timeline()
    timeline.feed(list(sim.events))
    return timeline


def test_the_story_finds_deadlock_lock_orders_cycle() -> None:
    """From the events alone: each transfer holds one lock and waits for the other."""
    timeline = folded("deadlock-lock-order")
    rows = [track.row_id for track in timeline.rows]
    assert timeline.story.deadlock(rows) == AB
    assert folded("race-with-lock").story.deadlock(rows) is None


@pytest.mark.parametrize("link", ["┐", None])
def test_a_row_with_its_piece_of_the_cycle_puts_it_in_the_legend(link: str | None) -> None:
    """The connector is drawn at the playhead's column, and the legend names it."""
    timeline = folded("deadlock-lock-order")
    track = timeline.tracks["thread-1"]
    columns = Columns.for_width(80)
    drawn: set[Key] = set()
    window = Window(0.0, 0.0025, columns.bar)  # the playhead, 50ms, at column 20
    row = draw_lane(track, window, 0.05, columns, link=link, drawn=drawn)
    text = "".join(segment.text for segment in row)
    assert len(text) == 80
    assert (text[columns.name + window.column(0.05)] == "┐") is (link is not None)
    assert text.count("┐") == (link is not None)
    assert (CYCLE in drawn) is (link is not None)
    assert (palette.CYCLE_WORDS in legend_of(drawn).plain) is (link is not None)


@sync
async def test_the_cycle_is_drawn_across_the_rows_it_joins(tmp_path: Path) -> None:
    """deadlock-lock-order at its end: ┐ on thread-1, ┘ on thread-2, the labels name the
    locks, the legend names the cycle and the log says it in one sentence."""
    app, _ = build("deadlock-lock-order", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        app.advance_to(1.0)
        await pilot.press("n")  # the notes out of the way: the labels at their widest
        await pilot.pause()
        lanes = app.run_screen.lanes
        assert lanes.cycle_links() == {"thread-1": "┐", "thread-2": "┘"}
        rows = [track.row_id for track in lanes.timeline.rows]
        lines = {
            row: "".join(seg.text for seg in lanes.render_line(k + 1)) for k, row in enumerate(rows)
        }
        head = lanes.columns.name + lanes.window.column(lanes.now)
        assert lines["thread-1"][head] == "┐" and lines["thread-2"][head] == "┘"
        assert lines["thread-1"].rstrip().endswith("= lock_b held by thread-2")
        assert lines["thread-2"].rstrip().endswith("= lock_a held by thread-1")
        await pilot.pause()
        assert palette.CYCLE_WORDS in str(app.run_screen.query_one(Legend).render())


def test_the_log_says_the_cycle_in_one_sentence() -> None:
    """DeadlockDetected's why is the sentence the lanes' cycle gives: the engine and the
    view, each from what it knows, say the same thing."""
    sim = Simulation(open_scenario("deadlock-lock-order"))
    sim.run()
    found = [event for event in sim.events if isinstance(event, DeadlockDetected)]
    assert [event.why for event in found] == [
        "Deadlock: thread-1 holds lock_a and waits for lock_b; "
        "thread-2 holds lock_b and waits for lock_a."
    ]
    timeline = Timeline()
    timeline.feed(list(sim.events))
    cycle = timeline.story.deadlock([track.row_id for track in timeline.rows])
    assert cycle is not None and sentence(cycle) == found[0].why
