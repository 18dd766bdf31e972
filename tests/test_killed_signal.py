"""A process a signal ended says which on its lane: terminate() is SIGTERM (exitcode -15),
kill() is SIGKILL (-9); the lane's label names the signal, not only "killed"."""

from __future__ import annotations

import pytest

from concsim.engine import Simulation
from concsim.replay import open_scenario
from concsim.ui.draw import lane_label
from concsim.ui.timeline import Timeline


def _labels(variant: str | None) -> dict[str, str]:
    scenario = open_scenario("terminate-skips-finally")
    sim = Simulation(scenario.variant(variant) if variant else scenario)
    sim.run()
    timeline = Timeline()
    timeline.feed(list(sim.events))
    return {
        track.row_id: lane_label(track, room=28)[2]
        for track in timeline.rows
        if not track.is_gil and track.row_id != "main"
    }


@pytest.mark.parametrize(
    ("variant", "writer"),
    [(None, "writer killed by SIGTERM"), ("kill", "writer killed by SIGKILL")],
)
def test_the_killed_process_names_its_signal(variant: str | None, writer: str) -> None:
    assert _labels(variant) == {"process-1": writer, "process-2": "polite stopped early"}


def test_a_thread_os_exit_ended_names_no_signal() -> None:
    """``os._exit(0)`` ends the process with no signal: its threads are just killed."""
    assert _labels("os-exit") == {"thread-1": "writer killed", "thread-2": "polite killed"}
