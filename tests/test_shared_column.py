"""Marks that fall in one column never hide each other's story: the moment under a
higher-ranked mark is drawn in the nearest free column beside it, on the side of the order
they came in, and the legend names both; a raise under the ✗ of the task it ends stays
told by the ✗."""

from __future__ import annotations

from concsim import palette
from concsim.engine import Simulation
from concsim.events import CancelDelivered, CancelRequested, Event
from concsim.palette import Cue
from concsim.replay import open_scenario
from concsim.ui.cells import MARK, Window, lane_cells
from concsim.ui.draw import Columns, draw_lane
from concsim.ui.legend import Key, legend_of
from concsim.ui.timeline import CODE, CUE_CODE, Timeline

GLYPHS = {
    **{MARK + code: palette.LOOKS[state].mark for state, code in CODE.items()},
    **{MARK + code: palette.CUE_LOOKS[cue].mark for cue, code in CUE_CODE.items()},
}


def folded(name: str, upto: float | None = None) -> tuple[Timeline, list[Event]]:
    sim = Simulation(open_scenario(name))
    sim.run()
    timeline = Timeline()
    timeline.feed([e for e in sim.events if upto is None or e.t <= upto])
    return timeline, sim.events


def marks(timeline: Timeline, row: str, window: Window) -> str:
    """The row's marks as drawn, a dot for every other cell."""
    cells = lane_cells(timeline.tracks[row], window, timeline.now)
    return "".join(GLYPHS.get(cell, ".") for cell in cells)


def test_a_cancel_requested_beside_the_delivery_in_its_column() -> None:
    """task-tree-cancelled at 0.3: main's cancel reaches server (⊗), which at once cancels
    its handlers (⊖, drawn on the caller's row): both in server's column of 0.3 at 20 ms a
    column. The ⊗ wins the column, the ⊖ that came after it stands one column right, its
    own time kept in the story for m and >."""
    timeline, events = folded("task-tree-cancelled")
    server = [
        (type(e).__name__, e.t)
        for e in events
        if isinstance(e, CancelRequested | CancelDelivered)
        and (getattr(e, "by", None) == "server" or getattr(e, "lane", None) == "server")
    ]
    assert server[:2] == [("CancelDelivered", 0.3), ("CancelRequested", 0.3)]
    window = Window(0.0, 0.02, 20)
    assert window.column(0.3) == 15
    drawn = marks(timeline, "server", window)
    assert drawn[15:17] == "⊗⊖" and drawn.count("⊖") == 1
    # handler-1 re-raises 20 ms on (↯ at 0.32, the next column): its ⊖ is never put past
    # it, which would tell the order wrong; at 10 ms a column it has room.
    assert marks(timeline, "handler-1", window)[15:18] == "⊗↯."
    assert marks(timeline, "handler-1", Window(0.0, 0.01, 40))[30:33] == "⊗⊖↯"
    moments = [(m.t, m.cue) for m in timeline.story.moments if m.row == "server"]
    assert (0.3, Cue.CANCEL_ASKED) in moments  # selected at its own instant
    # Every glyph drawn is in the legend: ⊖ included, though it shares its column.
    keys: set[Key] = set()
    draw_lane(
        timeline.tracks["server"],
        window,
        timeline.now,
        Columns(name=12, bar=20, label=0),
        story=timeline.story,
        drawn=keys,
    )
    legend = legend_of(keys).plain
    assert "⊖ cancel requested" in legend and "⊗ cancel delivered" in legend


def test_a_moment_that_came_first_stands_to_the_left() -> None:
    """wait-for-cleanup at 1.0: wait_for's timeout runs out (◷), then main asks query to
    cancel (⊖): the ⊖ wins the column, the ◷ that came before it stands to its left."""
    timeline, _ = folded("wait-for-cleanup")
    window = Window(0.0, 0.02, 60)
    drawn = marks(timeline, "main", window)
    col = window.column(1.0)
    assert drawn[col - 1 : col + 1] == "◷⊖"


def test_a_raise_under_the_failure_it_ends_in_stays_told_by_it() -> None:
    """barrier-breaks' thread-2 raises BrokenBarrierError and fails in one instant: ✗ alone."""
    timeline, _ = folded("barrier-breaks")
    drawn = marks(timeline, "thread-2", Window(0.0, 0.02, 60))
    assert "✗" in drawn and "!" not in drawn


def test_a_moment_beside_the_playhead_waits_for_its_column() -> None:
    """Paused at the instant of server's ⊗ and ⊖: the column after it is the future, not
    drawn, so the ⊖ (which came after) is not put before the ⊗; one column on, it shows."""
    window = Window(0.0, 0.02, 20)
    timeline, _ = folded("task-tree-cancelled", upto=0.3)
    timeline.now = 0.3
    assert marks(timeline, "server", window)[14:16] == ".⊗"
    timeline, _ = folded("task-tree-cancelled", upto=0.32)
    timeline.now = 0.32
    assert marks(timeline, "server", window)[15:17] == "⊗⊖"
