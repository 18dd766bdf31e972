"""The lanes draw asyncio's task tree as a tree: a task created by another task sits one
step in under it, by its own name, so no name is cut to make room for its parent's."""

from __future__ import annotations

from pathlib import Path

from concsim.engine import Simulation
from concsim.scenario.loader import load_scenario
from concsim.ui.draw import Columns, longest_title, row_name
from concsim.ui.timeline import Timeline

SCENARIOS = Path(__file__).parent.parent / "scenarios"


def _rows(stem: str, width: int) -> list[str]:
    sim = Simulation(load_scenario(SCENARIOS / f"{stem}.yaml"))
    sim.run()
    timeline = Timeline()
    timeline.feed(sim.events)
    return [row_name(track, width) for track in timeline.rows]


def test_a_task_made_by_a_task_is_drawn_under_it_by_its_own_name() -> None:
    """task-tree-cancelled: main creates server, server's TaskGroup the handlers, each
    handler its query (the lanes' events still name the parent: ``query-1 (in handler-1)``)."""
    assert _rows("task-tree-cancelled", 17) == [
        "event loop       ",
        "  GIL            ",
        "main()           ",
        "  server         ",
        "    handler-1    ",
        "    handler-2    ",
        "      query-1    ",
        "      query-2    ",
    ]


def test_the_name_column_is_sized_by_the_tree_not_by_the_parents_names() -> None:
    """At 120 columns with the notes open (84 for the lanes) every name fits whole."""
    sim = Simulation(load_scenario(SCENARIOS / "task-tree-cancelled.yaml"))
    sim.run()
    timeline = Timeline()
    timeline.feed(sim.events)
    columns = Columns.for_width(84, longest_title(timeline.rows))
    assert all("…" not in row_name(track, columns.name - 1) for track in timeline.rows)
