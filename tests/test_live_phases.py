"""The wind-down phases, live (concsim.live.phases): leaving a pool's ``with`` block, a
TaskGroup's ``__aexit__``, ``asyncio.run()``'s teardown and interpreter exit are told as
the simulator tells them."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import Event, PhaseBegan, PhaseEnded
from concsim.live.session import LiveSession
from concsim.scenario.loader import load_scenario_text

POOL = """\
    version: 1
    name: pool
    program: {model: threads, max_workers: 2, collect: as_completed}
    tasks:
      - {name: fetch, repeat: 2, steps: [{io: 50ms}], returns: page}
    """

TASKGROUP = """\
    version: 1
    name: group
    program: {model: asyncio, collect: taskgroup}
    tasks:
      - {name: fetch, repeat: 2, steps: [{io: 50ms}], returns: page}
    """


def _phases(events: list[Event]) -> list[tuple[str, str, str, str]]:
    return [
        (type(e).__name__, e.lane, str(e.phase), e.step)
        for e in events
        if isinstance(e, PhaseBegan | PhaseEnded)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            POOL,
            [
                ("PhaseBegan", "main", "shutdown", "shutdown(wait=True)"),
                ("PhaseEnded", "main", "shutdown", "shutdown(wait=True)"),
                ("PhaseBegan", "main", "exit", "interpreter exit"),
                ("PhaseEnded", "main", "exit", "interpreter exit"),
            ],
        ),
        (
            TASKGROUP,
            [
                ("PhaseBegan", "main", "shutdown", "TaskGroup.__aexit__"),
                ("PhaseEnded", "main", "shutdown", "TaskGroup.__aexit__"),
                ("PhaseBegan", "main", "teardown", "asyncio.run() teardown"),
                ("PhaseEnded", "main", "teardown", "asyncio.run() teardown"),
            ],
        ),
    ],
    ids=["pool-with-block-and-exit", "taskgroup-and-asyncio-run"],
)
def test_live_phases_are_the_simulators(text: str, expected: list[tuple[str, ...]]) -> None:
    scenario = load_scenario_text(textwrap.dedent(text), "s.yaml")
    live = LiveSession(scenario, program=program(scenario)).run_to_end(limit=20)
    sim = Simulation(scenario)
    sim.run()
    assert _phases(sim.events) == expected
    assert _phases(live) == expected
