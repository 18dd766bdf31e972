"""Locks, queues and the stop event shared with plain processes under ``spawn`` and
``forkserver`` (format version 2): main makes them and passes them as ``Process`` arguments.

CPython facts (measured on 3.11.7, the programs below): a spawned child imports the main
module again (``multiprocessing.spawn.prepare`` runs it as ``__mp_main__``), so a
module-level ``multiprocessing.Event()`` is a new event in the child and ``set()`` in the
parent never reaches it; the same event passed in ``Process(args=...)`` is pickled with the
Process object while spawning (``context.assert_spawning`` allows a ``SemLock`` then) and
is the parent's event in the child."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from faultkit import scenario

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario

SHARED = """
    version: 2
    name: shared
    machine: {start_method: METHOD}
    program:
      model: processes
      executor: false
      collect: join
      main:
        - submit
        - get: results
        - get: results
        - set_stop
        - collect
    queues: {results: {}}
    tasks:
      - name: saver
        repeat: 2
        steps:
          - with: db
            steps: [{io: 100ms}]
          - put: results
          - loop: [{io: 20ms}]
            until: stop
          - print: "saver {i} stopped"
"""


def shared(method: str) -> str:
    return SHARED.replace("METHOD", method)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_main_makes_the_primitives_and_passes_each_to_the_processes(method: str) -> None:
    source = program(scenario(shared(method))).source
    assert "def saver(i, db, results_, stop):\n" in source
    assert (
        "def main():\n"
        "    db = multiprocessing.Lock()\n"
        "    results_ = multiprocessing.Queue()\n"
        "    stop = multiprocessing.Event()\n"
        "    processes = [\n"
        "        multiprocessing.Process(target=saver, args=(i, db, results_, stop), "
        'name=f"saver-{i}")\n'
    ) in source
    assert "\ndb = " not in source and "\nstop = " not in source  # nothing at module level


def test_under_a_fork_the_program_sets_main_makes_them_too() -> None:
    """A module-level ``multiprocessing.Lock()`` fixes the default context as the program is
    imported, so ``set_start_method("fork")`` would raise RuntimeError('context has already
    been set') (tests/test_pool_spawn.py measures it)."""
    source = program(scenario(shared("fork"))).source
    assert "def saver(i, db, results_, stop):\n" in source
    assert "\ndb = " not in source and "\nstop = " not in source


def test_under_the_default_fork_they_stay_at_module_level() -> None:
    """No ``set_start_method``: the children fork and inherit them."""
    source = program(scenario(shared("fork").replace("machine: {start_method: fork}", ""))).source
    assert "\ndb = multiprocessing.Lock()\n" in source
    assert "def saver(i):\n" in source


def test_the_simulator_shares_them_as_under_fork_after_spawn_s_start() -> None:
    """The lock serialises the two savers, both get the stop main sets: the same run as
    under fork, each process starting 130 ms later instead of 10 ms."""

    def times(method: str) -> list[tuple[str, float, float]]:
        sim = Simulation(scenario(shared(method)))
        sim.run()
        out = outcome(sim.events)
        assert out["main"] == {"outcome": "ok", "error": None}
        return [(t["name"], t["started"], t["ended"]) for t in out["tasks"]]

    spawned = times("spawn")
    assert spawned == [
        ("saver-1", pytest.approx(0.130, abs=1e-3), pytest.approx(0.350, abs=2e-3)),
        ("saver-2", pytest.approx(0.130, abs=1e-3), pytest.approx(0.350, abs=2e-3)),
    ]
    forked = times("fork")
    assert [round(end - start, 3) for _, start, end in forked] == [
        round(end - start, 3) for _, start, end in spawned
    ]


def test_a_stop_event_used_by_an_atexit_handler_is_still_refused() -> None:
    text = shared("spawn").replace(
        "  collect: join\n", "  collect: join\n      atexit: [set_stop]\n"
    )
    with pytest.raises(Exception) as error:
        scenario(text)
    assert str(error.value).endswith(
        "machine.start_method: under `spawn` each child imports the program again and makes "
        "its own stop event, so the processes would not share it; expected fork"
    )


MODULE_LEVEL = """
import multiprocessing

ctx = multiprocessing.get_context("spawn")
stop = ctx.Event()


def child(passed):
    print(stop.is_set(), passed.is_set(), flush=True)


if __name__ == "__main__":
    passed = ctx.Event()
    stop.set()
    passed.set()
    p = ctx.Process(target=child, args=(passed,))
    p.start()
    p.join()
"""


def test_cpython_spawn_makes_module_level_events_again_and_passes_arguments(
    tmp_path: Path,
) -> None:
    """The tiny real check: the child sees the module-level event unset (its own), and the
    one passed as an argument set (the parent's)."""
    path = tmp_path / "module_level.py"
    path.write_text(MODULE_LEVEL)
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["False", "True"]


def test_the_generated_program_shares_them_under_spawn(tmp_path: Path) -> None:
    """Both gets return (the queue is main's) and both savers stop (the event is main's):
    the program ends instead of waiting forever."""
    path = tmp_path / "shared.py"
    path.write_text(program(scenario(shared("spawn"))).source)
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=True
    )
    assert sorted(done.stdout.splitlines()) == ["saver 1 stopped", "saver 2 stopped"]


def test_the_lesson_variant_stops_the_spawned_child() -> None:
    lesson = load_scenario(find_scenario("terminate-skips-finally"))
    sim = Simulation(lesson, variant="spawn")
    sim.run()
    out = outcome(sim.events)
    tasks = {t["name"]: t for t in out["tasks"]}
    assert (tasks["writer"]["outcome"], tasks["writer"]["exitcode"]) == ("killed", -15)
    assert (tasks["polite"]["outcome"], tasks["polite"]["cleanup"]) == ("cancelled", "ran")
    assert tasks["polite"]["ended"] == pytest.approx(2.130, abs=2e-3)
    assert "def polite(stop):" in program(lesson, "spawn").source


def test_cpython_agrees_on_the_lesson_variant() -> None:
    result = check_one(load_scenario(find_scenario("terminate-skips-finally")), "spawn", loose=3.0)
    assert result.error is None, result.error
    assert [str(d) for d in result.disagreements if not d.timing] == []
