"""The wind-down phases, live (concsim.live.phases): leaving a pool's ``with`` block, a
TaskGroup's ``__aexit__``, ``asyncio.run()``'s teardown and interpreter exit are told as
the simulator tells them."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import Event, LaneState, LaneStateChanged, MainEnded, PhaseBegan, PhaseEnded
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


RAISES = """\
    version: 1
    name: raises
    program: {model: asyncio, collect: gather}
    tasks:
      - name: fetch
        steps: [{io: 50ms}, {raise: ValueError, message: bad payload}]
    """


def _main_end(events: list[Event]) -> list[str]:
    """What main's lane says from asyncio.run()'s teardown to its end, as the views show it
    (the simulator's blocked state inside the teardown is not observed live)."""
    start = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, PhaseBegan) and e.step == ("asyncio.run() teardown")
    )
    said = []
    for event in events[start:]:
        if isinstance(event, LaneStateChanged) and event.lane == "main":
            if event.state in (LaneState.DONE, LaneState.FAILED):
                said.append(event.why)
        elif isinstance(event, PhaseBegan | PhaseEnded | MainEnded):
            said.append(event.why)
        if isinstance(event, MainEnded):
            break
    return said


@pytest.mark.parametrize(
    ("text", "last_words"),
    [
        (
            TASKGROUP,
            [
                "main finished (asyncio.run() returned).",
                "The main program returned normally.",
            ],
        ),
        (
            RAISES,
            [
                "main failed (asyncio.run() raised).",
                "The main program ended with ValueError: bad payload.",
            ],
        ),
    ],
    ids=["returned", "raised"],
)
def test_live_asyncio_run_returns_or_raises_after_runner_close(
    text: str, last_words: list[str]
) -> None:
    """CPython (Lib/asyncio/runners.py, 3.11-3.13): ``Runner.run`` takes main()'s outcome,
    and ``asyncio.run()`` returns it or raises it only after ``Runner.close`` (the
    teardown) in its ``with`` block's exit: live tells main's end there, in the
    simulator's words."""
    scenario = load_scenario_text(textwrap.dedent(text), "s.yaml")
    live = LiveSession(scenario, program=program(scenario)).run_to_end(limit=20)
    sim = Simulation(scenario)
    sim.run()
    expected = [
        "main() is over: asyncio.run() cancels the pending tasks and waits for them, shuts the "
        "default executor down, then returns or raises what main() did.",
        "main is done with asyncio.run() teardown.",
        *last_words,
    ]
    assert _main_end(sim.events) == expected
    assert _main_end(live) == expected
