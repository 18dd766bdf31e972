"""Live mode follows children that ``spawn`` and ``forkserver`` start (concsim/live/spawned.py):
the new interpreter gets the probe's pipe and installs the probe before the program."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from concsim.live.check import check_one
from concsim.live.spawned import follow_spawned
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario


def _util() -> tuple[Any, list[tuple[str, list[str], tuple[int, ...]]]]:
    calls: list[tuple[str, list[str], tuple[int, ...]]] = []

    def spawnv_passfds(path: str, args: list[str], passfds: Any) -> int:
        calls.append((path, list(args), tuple(passfds)))
        return 42

    util = SimpleNamespace(spawnv_passfds=spawnv_passfds)
    follow_spawned(util, "/tmp/plan.json", 9)
    return util, calls


def test_a_spawned_child_installs_the_probe_first_and_inherits_its_pipe() -> None:
    """popen_spawn_posix.Popen._launch runs ``python -c 'from multiprocessing.spawn import
    spawn_main; spawn_main(...)' --multiprocessing-fork`` through util.spawnv_passfds."""
    util, calls = _util()
    prog = "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5, pipe_handle=7)"
    pid = util.spawnv_passfds("/py", ["/py", "-c", prog, "--multiprocessing-fork"], (5, 7))
    assert pid == 42
    assert calls == [
        (
            "/py",
            [
                "/py",
                "-c",
                "import concsim.live.spawned as _probe; _probe.install('/tmp/plan.json'); " + prog,
                "--multiprocessing-fork",
            ],
            (5, 7, 9),
        )
    ]


def test_the_resource_tracker_is_left_as_it_is() -> None:
    """resource_tracker.ensure_running starts its process the same way: not the program's."""
    util, calls = _util()
    args = ["/py", "-c", "from multiprocessing.resource_tracker import main;main(5)"]
    util.spawnv_passfds("/py", args, (5,))
    assert calls == [("/py", args, (5,))]


def test_check_sees_the_task_a_spawned_child_runs() -> None:
    """The child's task is traced: its outcome and exitcode agree with the simulator (times
    are not compared: the probe's own start in the new interpreter outweighs it)."""
    scenario = load_scenario(find_scenario("pickling-nested-function"))
    result = check_one(scenario, "process-spawn-fixed", loose=3.0)
    assert result.error is None
    assert [str(d) for d in result.disagreements] == []
    assert result.note.startswith("times not compared under spawn")
