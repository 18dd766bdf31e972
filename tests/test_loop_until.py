"""``loop: ... until: EVENT`` (version 2): ``while not EVENT.is_set():`` on any declared
event (threading.Event, asyncio.Event), or on the program's stop event."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Scenario
from concsim.scenario.schema import json_schema

POLLER = """\
    version: 2
    name: s
    events: {done: {}}
    queues: {gate: {}}
    program: {model: threads, executor: false, collect: join}
    tasks:
      - name: poller
        steps:
          - loop:
              - {io: 100ms, label: poll}
              - {print: polled}
            until: UNTIL
      - name: finisher
        steps:
          - {io: 250ms}
          - {set: done}
    variants:
      - name: aio
        program: {model: asyncio}
    """


def _load(until: str = "done") -> Scenario:
    return load_scenario_text(textwrap.dedent(POLLER).replace("UNTIL", until), "s.yaml")


def _error(until: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        _load(until)
    return str(caught.value)


@pytest.mark.parametrize("variant", [None, "aio"])
def test_a_loop_until_an_event_checks_it_before_each_round(variant: str | None) -> None:
    """``while not done.is_set():`` -- the check comes before each round: ``done`` set at
    250ms, mid-round, ends the loop at the next check, after the third round (300ms)."""
    sim = Simulation(_load().variant(variant))
    sim.run()
    out = outcome(sim.events)
    assert [line for line in out["output"] if line] == ["polled"] * 3
    ended = {t["name"]: (t["outcome"], t["ended"]) for t in out["tasks"]}
    assert ended["poller"] == ("ok", pytest.approx(0.3, abs=0.001))


def test_a_loop_until_stop_also_sees_a_declared_stop_event_set_by_a_step() -> None:
    """``until: stop`` with ``events: {stop: {}}``: ``set: stop`` is ``stop.set()``, which
    ``while not stop.is_set():`` sees as much as ``set_stop``."""
    text = textwrap.dedent(POLLER).replace("UNTIL", "stop").replace("done", "stop")
    sim = Simulation(load_scenario_text(text, "s.yaml"))
    sim.run()
    assert [line for line in outcome(sim.events)["output"] if line] == ["polled"] * 3


def test_the_program_loops_while_the_event_is_not_set() -> None:
    source = program(_load()).source
    assert "done_ = threading.Event()\n" in source
    assert "    while not done_.is_set():\n        time.sleep(0.1)  # poll\n" in source
    assert "while not stop.is_set():" in program(_load("stop")).source


def test_until_names_a_declared_event() -> None:
    assert _error("doen") == (
        "s.yaml:12:16: tasks[0].steps[0].until: no event `doen`; did you mean `done`?"
    )
    assert _error("later") == (
        "s.yaml:12:16: tasks[0].steps[0].until: no event `later`; declare it under "
        "`events:` (or use `stop`)"
    )
    assert _error("gate") == (
        "s.yaml:12:16: tasks[0].steps[0].until: `until` reads an event's is_set(), and "
        "`gate` is declared under `queues:`; expected an event (or `stop`)"
    )


def test_the_schema_takes_any_event_name() -> None:
    until = json_schema()["$defs"]["LoopStep"]["properties"]["until"]
    assert "enum" not in str(until)
    assert "declared under ``events:``" in until["description"]


def test_the_program_agrees_with_the_simulator_on_cpython() -> None:
    """The poller above, on threads and on asyncio, run for real."""
    for variant in (None, "aio"):
        result = check_one(_load(), variant, loose=3.0)
        assert result.error is None
        assert [str(d) for d in result.disagreements] == []
