"""What a coroutine prints, live, is its task's: asyncio runs every task on main's thread,
so the thread alone would credit it to main; ``asyncio.current_task()`` names the task."""

from __future__ import annotations

import textwrap

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import Event, OutputWritten
from concsim.live.session import LiveSession
from concsim.scenario.loader import load_scenario_text

SCENARIO = load_scenario_text(
    textwrap.dedent(
        """
        version: 1
        name: task-prints
        program: {model: asyncio, collect: gather}
        tasks:
          - name: fetch
            repeat: 2
            steps:
              - {io: 50ms}
              - print: fetched
            returns: page
        """
    ),
    "task-prints.yaml",
)


def _written(events: list[Event]) -> list[tuple[str, str | None, str]]:
    return sorted((e.lane, e.task, e.text) for e in events if isinstance(e, OutputWritten))


def test_a_print_in_an_asyncio_task_is_credited_to_that_task_as_the_simulator_does() -> None:
    live = LiveSession(SCENARIO, program=program(SCENARIO)).run_to_end(limit=20)
    sim = Simulation(SCENARIO)
    sim.run()
    expected = [
        ("fetch-1", "fetch-1", "\n"),
        ("fetch-1", "fetch-1", "fetched"),
        ("fetch-2", "fetch-2", "\n"),
        ("fetch-2", "fetch-2", "fetched"),
    ]
    assert _written(live) == expected
    assert _written(sim.events) == expected
