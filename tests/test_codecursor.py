"""The code view's fold at the playhead: forward, back from kept copies, another history."""

from __future__ import annotations

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import Event
from concsim.replay import open_scenario
from concsim.ui.codecursor import SPACING, CodeCursor
from concsim.ui.codemap import SiteIndex, lines_at


def _run(name: str) -> tuple[CodeCursor, list[Event]]:
    scenario = open_scenario(name)
    sim = Simulation(scenario)
    sim.run()
    return CodeCursor(SiteIndex(program(scenario))), sim.events


def test_back_and_forth_gives_the_lines_a_fold_from_the_start_gives() -> None:
    """Anywhere in a run of 1,000 tasks, moved to from before or after, the lines are those
    of a fold of the events up to there."""
    cursor, events = _run("process-overhead")
    prog = cursor.sites.program
    assert len(events) > 2 * SPACING
    for count in (len(events), 3 * SPACING + 7, SPACING + 1, 5, 2 * SPACING + 100, len(events)):
        assert cursor.at(events, count).lines() == lines_at(prog, events[:count]), count


def test_a_step_back_refolds_only_from_the_nearest_copy() -> None:
    """From the end back one event: the events since the last kept copy, not the run."""
    cursor, events = _run("process-overhead")
    cursor.at(events, len(events))
    before = cursor.refolded
    cursor.at(events, len(events) - 1)
    assert cursor.refolded - before == (len(events) - 1) % SPACING


def test_another_event_list_starts_again() -> None:
    """A new history (another seed, a fault, a variant) is another list: folded anew."""
    cursor, events = _run("io-threads")
    first = cursor.at(events, len(events) // 2).lines()
    again = list(events)  # the same events in another list
    assert cursor.at(again, len(events) // 2).lines() == first
    assert cursor.fed == len(events) // 2 and cursor.events is again
