"""``program.max_tasks_per_child``: ``ProcessPoolExecutor(max_tasks_per_child=N)``
(Lib/concurrent/futures/process.py, 3.11+).

CPython facts, measured on 3.11.7, 3.12.1 and 3.13.0 (the programs below):

- with no ``mp_context`` the pool takes ``mp.get_context("spawn")`` whatever
  ``set_start_method`` chose; a ``fork`` context given explicitly raises ``ValueError:
  max_tasks_per_child is incompatible with the 'fork' multiprocessing start method``;
- ``_process_worker`` returns after its N-th call, its result carrying ``exit_pid``; the
  manager then calls ``_adjust_process_count()``, which first takes a token of
  ``_idle_worker_semaphore`` (released after every result that was not a worker's last)
  and, if it got one, starts no replacement (gh-115634): two workers,
  ``max_tasks_per_child=2``, six calls: four results, then ``result()`` waits forever;
  ``max_tasks_per_child=1`` runs all six, each on a process of its own.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from faultkit import scenario

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import LaneCreated, LaneKind, LaneStateChanged, WorkerRetired
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.live.interpreters import interpreter_for
from concsim.scenario.errors import ScenarioError
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario, load_scenario_text
from concsim.scenario.model import Python

POOL = """
    version: 2
    name: mt
    program:
      model: processes
      max_workers: 2
      max_tasks_per_child: {limit}
      collect: result
    tasks:
      - name: job
        repeat: 6
        steps:
          - sleep: 50ms
        returns: "job {{i}}"
"""


def run(text: str) -> Simulation:
    sim = Simulation(scenario(text))
    sim.run()
    return sim


def test_a_worker_exits_after_its_second_call_and_a_stale_token_stops_its_replacement() -> None:
    """gh-115634: results of job-1 and job-2 (not a last call) release two tokens; each
    worker's exit takes one and starts nothing: job-5 and job-6 never start, main hangs."""
    sim = run(POOL.format(limit=2))
    out = outcome(sim.events)
    assert out["main"]["outcome"] == "hung"
    assert out["results"] == ["job 1", "job 2", "job 3", "job 4"]
    assert {t["name"]: t["outcome"] for t in out["tasks"]} == {
        "job-1": "ok",
        "job-2": "ok",
        "job-3": "ok",
        "job-4": "ok",
        "job-5": "never_started",
        "job-6": "never_started",
    }
    retired = [e for e in sim.events if isinstance(e, WorkerRetired)]
    assert [(e.lane, e.calls, e.replacement) for e in retired] == [
        ("process-1", 2, None),
        ("process-2", 2, None),
    ]
    assert retired[0].why == (
        "process-1 exited after 2 calls (max_tasks_per_child); the manager thread took an "
        "idle-worker token an earlier result left and started no process in its place "
        "(CPython gh-115634)."
    )
    manager = [
        e.step for e in sim.events if isinstance(e, LaneStateChanged) and e.lane == "thread-1"
    ]
    assert manager[-1] == "2 calls queued, no worker left to run them (gh-115634)"
    assert out["elapsed"] == pytest.approx(0.2308, abs=1e-6)


def test_one_call_per_child_leaves_no_token_so_every_exit_starts_a_process() -> None:
    """``max_tasks_per_child=1``: no result is a worker's not-last, the semaphore stays at
    0, and each exit spawns a replacement (130 ms, spawn): all six finish, on eight
    processes (the last two start only to read shutdown's sentinel)."""
    sim = run(POOL.format(limit=1))
    out = outcome(sim.events)
    assert out["main"]["outcome"] == "ok"
    assert out["results"] == [f"job {i}" for i in range(1, 7)]
    retired = [(e.lane, e.replacement) for e in sim.events if isinstance(e, WorkerRetired)]
    assert retired == [
        ("process-1", "process-3"),
        ("process-2", "process-4"),
        ("process-3", "process-5"),
        ("process-4", "process-6"),
        ("process-5", "process-7"),
        ("process-6", "process-8"),
    ]
    processes = [
        e.lane for e in sim.events if isinstance(e, LaneCreated) and e.lane_kind is LaneKind.PROCESS
    ]
    assert processes == [f"process-{n}" for n in range(1, 9)]
    assert [(t["started"], t["ended"]) for t in out["tasks"]][2] == pytest.approx(
        (0.311, 0.361), abs=1e-3
    )


def test_the_pool_spawns_its_workers_whatever_the_start_method() -> None:
    """``mp.get_context("spawn")`` with no mp_context: under ``start_method: fork`` the
    workers still start on demand and pay spawn's 130 ms."""
    text = POOL.format(limit=1).replace("name: mt", "name: mt\n    machine: {start_method: fork}")
    out = outcome(run(text).events)
    assert out["tasks"][0]["started"] == pytest.approx(0.130, abs=1e-3)


def test_a_written_process_start_wins() -> None:
    text = POOL.format(limit=1).replace("name: mt", "name: mt\n    machine: {process_start: 20ms}")
    out = outcome(run(text).events)
    assert out["tasks"][0]["started"] == pytest.approx(0.020, abs=1e-3)


def test_without_max_tasks_per_child_nothing_changes() -> None:
    text = POOL.format(limit=1).replace("      max_tasks_per_child: 1\n", "")
    sim = run(text)
    assert [e for e in sim.events if isinstance(e, WorkerRetired)] == []
    assert outcome(sim.events)["tasks"][0]["started"] == pytest.approx(0.010, abs=1e-3)


@pytest.mark.parametrize(
    ("model", "extra", "what"),
    [
        ("threads", "", "threads"),
        ("asyncio", "", "asyncio"),
        ("processes", "executor: false, collect: join, ", "plain processes"),
    ],
)
def test_max_tasks_per_child_needs_a_process_pool(model: str, extra: str, what: str) -> None:
    text = (
        f"version: 2\nname: m\nprogram: {{model: {model}, {extra}max_tasks_per_child: 2}}\n"
        "tasks:\n  - {name: a, steps: [{io: 1ms}]}\n"
    )
    with pytest.raises(ScenarioError) as error:
        load_scenario_text(text, "m.yaml")
    col = text.splitlines()[2].index("max_tasks_per_child") + 1
    assert str(error.value).splitlines() == [
        f"m.yaml:3:{col + len('max_tasks_per_child: ')}: program.max_tasks_per_child: "
        "`max_tasks_per_child` is an argument of ProcessPoolExecutor: it applies to model "
        f"processes with executor: true, not {what}"
    ]


def test_a_variant_that_leaves_the_pool_is_told_at_its_own_key() -> None:
    text = POOL.format(limit=2) + "    variants:\n      - {name: t, program: {model: threads}}\n"
    with pytest.raises(ScenarioError) as error:
        scenario(text)
    assert str(error.value).splitlines() == [
        "test.yaml:16:32: variants[0].program.model: `max_tasks_per_child` is an argument of "
        "ProcessPoolExecutor: it applies to model processes with executor: true, not threads"
    ]


def test_bad_values_and_version_1() -> None:
    with pytest.raises(ScenarioError) as zero:
        scenario(POOL.format(limit=0))
    assert str(zero.value) == (
        "test.yaml:7:24: program.max_tasks_per_child: expected a number 1 or more, got 0"
    )
    with pytest.raises(ScenarioError) as v1:
        scenario(POOL.format(limit=2).replace("version: 2", "version: 1"))
    assert "program.max_tasks_per_child: `max_tasks_per_child` is a version-2 key" in str(v1.value)


def test_the_json_schema_shows_it() -> None:
    from concsim.scenario.schema import json_schema

    program_schema = json_schema()["$defs"]["Program"]["properties"]["max_tasks_per_child"]
    assert program_schema["since"] == 2
    assert {"minimum": 1, "maximum": 1_000_000, "type": "integer"}.items() <= next(
        option for option in program_schema["anyOf"] if option.get("type") == "integer"
    ).items()


def test_the_program_passes_it_to_the_pool() -> None:
    source = program(scenario(POOL.format(limit=2))).source
    assert "with ProcessPoolExecutor(max_workers=2, max_tasks_per_child=2) as executor:" in source


HANGS = """
import os, sys
from concurrent.futures import ProcessPoolExecutor, TimeoutError


def job(i):
    return os.getpid()


if __name__ == "__main__":
    import multiprocessing
    multiprocessing.set_start_method("fork")
    ex = ProcessPoolExecutor(2, max_tasks_per_child=int(sys.argv[1]))
    print(ex._mp_context.get_start_method())
    futures = [ex.submit(job, i) for i in range(6)]
    done = 0
    try:
        for f in futures:
            f.result(timeout=5)
            done += 1
    except TimeoutError:
        pass
    print(done, flush=True)
    if done == len(futures):
        ex.shutdown()
    else:
        os._exit(0)  # shutdown() would wait for the stranded calls
"""


@pytest.mark.parametrize("version", [Python.PY311, Python.PY312, Python.PY313])
def test_cpython_strands_the_last_calls_with_two_calls_per_child(
    version: Python, tmp_path: Path
) -> None:
    """The tiny real check: the pool spawns even after set_start_method("fork"); with
    max_tasks_per_child=2 four of six results come, then none (gh-115634); with 1, six."""
    python = interpreter_for(version)
    if python is None:
        pytest.skip(f"this machine has no CPython {version.value}")
    script = tmp_path / "hangs.py"  # spawn imports the main module again: a file
    script.write_text(HANGS)
    for limit, results in ((2, "4"), (1, "6")):
        done = subprocess.run(
            [python, str(script), str(limit)], capture_output=True, text=True, timeout=120
        )
        assert done.stdout.split() == ["spawn", results], done.stderr


def test_the_lesson_teaches_the_hang_and_the_fix() -> None:
    lesson = load_scenario(find_scenario("worker-recycling"))
    hung = Simulation(lesson)
    hung.run()
    out = outcome(hung.events)
    assert out["main"] == {"outcome": "hung", "error": None}
    assert out["results"] == ["job 1", "job 2", "job 3", "job 4"]
    assert out["elapsed"] == pytest.approx(0.231, abs=1e-3)
    fixed = Simulation(lesson, variant="one-task-each")
    fixed.run()
    out = outcome(fixed.events)
    assert out["main"] == {"outcome": "ok", "error": None}
    assert len(out["results"]) == 6
    assert out["elapsed"] == pytest.approx(0.671, abs=1e-3)


@pytest.mark.parametrize("variant", [None, "one-task-each"])
def test_cpython_agrees_on_the_lesson(variant: str | None) -> None:
    result = check_one(load_scenario(find_scenario("worker-recycling")), variant, loose=3.0)
    assert result.error is None, result.error
    assert [str(d) for d in result.disagreements if not d.timing] == []
