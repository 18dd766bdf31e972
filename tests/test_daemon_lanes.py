"""A daemon thread's row says it is one: interpreter exit joins every other thread and
stops a daemon where it stands, so ``daemon-threads`` and ``thread-pool`` differ on the
lanes before any Ctrl-C."""

from __future__ import annotations

from concsim.engine import Simulation
from concsim.events import LaneCreated, LaneKind
from concsim.replay import open_scenario
from concsim.ui.draw import row_name
from concsim.ui.timeline import Timeline


def _rows(variant: str) -> list[str]:
    sim = Simulation(open_scenario("ctrl-c-shutdown").variant(variant))
    sim.run()
    timeline = Timeline()
    timeline.feed(list(sim.events))
    return [row_name(track, 17) for track in timeline.rows]


def test_daemon_threads_are_named_daemon_on_their_rows() -> None:
    assert _rows("daemon-threads") == [
        "main thread      ",
        "  GIL            ",
        "  daemon thread-1",
        "  daemon thread-2",
        "  daemon thread-3",
    ]
    assert _rows("thread-pool")[2:] == [
        "  thread-1       ",
        "  thread-2       ",
        "  thread-3       ",
    ]


def test_the_lane_of_a_daemon_thread_is_announced_as_one() -> None:
    sim = Simulation(open_scenario("ctrl-c-shutdown").variant("daemon-threads"))
    sim.run()
    made = [e for e in sim.events if isinstance(e, LaneCreated) and e.lane_kind is LaneKind.THREAD]
    assert [(e.lane, e.name, e.why) for e in made] == [
        (f"thread-{k}", f"daemon thread-{k}", f"A new thread: daemon thread-{k}.")
        for k in (1, 2, 3)
    ]
