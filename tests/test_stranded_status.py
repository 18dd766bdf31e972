"""The manager thread's status when gh-115634 strands calls says the essential in the
status column a lane has at 80 and at 120 columns."""

from __future__ import annotations

import pytest

from concsim.engine import Simulation
from concsim.replay import open_scenario
from concsim.ui.cells import Window
from concsim.ui.draw import Columns, draw_lane
from concsim.ui.timeline import Timeline


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        (29, "· 2 calls queued, no worker …"),  # 80x24: the status column's 29 cells
        (30, "· 2 calls queued, no worker l…"),  # 120x36, the notes beside the lanes
    ],
)
def test_the_stranded_calls_come_first_in_the_manager_thread_s_status(
    label: int, shown: str
) -> None:
    sim = Simulation(open_scenario("worker-recycling"))
    sim.run()
    timeline = Timeline()
    timeline.feed(list(sim.events))
    manager = timeline.row_for("thread-1")
    assert manager is not None and manager.name == "Thread-1"
    columns = Columns(14, 30, label)
    row = draw_lane(manager, Window(0.0, 0.01, 30), 0.2308, columns)
    assert "".join(segment.text for segment in row[-2:]) == shown
