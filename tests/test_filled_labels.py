"""``{i}`` and ``{name}`` in a step's ``label`` (format version 2): filled per task instance
on the lanes, as an f-string in the program fills them, and the code view still finds the
line the label stands for."""

from __future__ import annotations

from faultkit import scenario

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import LaneState, LaneStateChanged
from concsim.replay import open_scenario
from concsim.ui.codemap import lines_at

LABELLED = """
    version: {version}
    name: s
    program: {{model: threads, max_workers: 2}}
    tasks:
      - name: fetch
        repeat: 2
        steps:
          - {{io: 300ms, label: "download part {{i}}"}}
          - repeat: 2
            steps: [{{sleep: 100ms, label: "{{name}} backs off"}}]
          - {{cpu: 10ms, label: "parse {{e}} of {{name}}"}}
    """


def run(version: int) -> Simulation:
    sim = Simulation(scenario(LABELLED.format(version=version)))
    sim.run()
    return sim


def shown(sim: Simulation, lane: str) -> list[str]:
    steps: list[str] = []
    for event in sim.events:
        if (
            isinstance(event, LaneStateChanged)
            and event.lane == lane
            and event.step
            and event.state is not LaneState.DONE
            and event.step not in steps
        ):
            steps.append(event.step)
    return steps


def test_a_label_names_its_task_instance_in_version_2() -> None:
    """Each copy's lane reads its own number and name; ``{e}`` is no name of the run and
    stays as written (it changes while the function runs)."""
    sim = run(2)
    assert shown(sim, "thread-2")[:3] == [
        "download part 2",
        "fetch-2 backs off",
        "parse {e} of fetch-2",
    ]
    assert "download part 1" in shown(sim, "thread-1")


def test_a_version_1_label_is_shown_as_written() -> None:
    assert shown(run(1), "thread-1")[:2] == ["download part {i}", "{name} backs off"]


def test_the_code_view_finds_the_line_of_a_filled_label() -> None:
    """The program's line keeps the label as written (``# download part {i}``); the code
    view maps ``download part 2`` on a lane to it, and ``fetch-2 backs off`` to the sleep
    inside the loop."""
    text = LABELLED.format(version=2)
    sim = Simulation(scenario(text))
    sim.run()
    prog = program(scenario(text))
    source = prog.source.splitlines()
    at = [e for e in sim.events if e.t <= 0.1]
    lines = lines_at(prog, at)
    assert source[lines["thread-2"] - 1].strip() == "time.sleep(0.3)  # download part {i}"
    at = [e for e in sim.events if e.t <= 0.35]
    lines = lines_at(prog, at)
    assert source[lines["thread-2"] - 1].strip() == "time.sleep(0.1)  # {name} backs off"


def test_the_code_view_follows_a_filled_label_in_a_lesson() -> None:
    """task-tree-cancelled, child-fails: query-2's lane reads ``query 2: await
    db.fetch(sql)`` and stands on the line written with ``{i}``."""
    bundled = open_scenario("task-tree-cancelled")
    sim = Simulation(bundled, variant="child-fails")
    sim.run()
    assert "query 2: await db.fetch(sql)" in shown(sim, "query-2")
    prog = program(bundled, "child-fails")
    line = lines_at(prog, [e for e in sim.events if e.t <= 0.1])["query-2"]
    assert prog.source.splitlines()[line - 1].strip() == (
        "await asyncio.sleep(2.0)  # query {i}: await db.fetch(sql)"
    )
