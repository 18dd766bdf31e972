"""A valid option that no program of the file would use is a warning line, not silence."""

from __future__ import annotations

from pathlib import Path

from test_cli import invoke  # tests/ is on sys.path (rootdir-relative imports)

from concsim.scenario.library import bundled_scenarios
from concsim.scenario.loader import check_scenario


def warnings_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return [str(warning).replace(str(tmp_path) + "/", "") for warning in check_scenario(path)]


THREADS = """\
name: s
program: {model: threads, max_workers: 2}
tasks:
  - name: fetch
    timeout: 1s
    daemon: true
    steps: [{io: 1s}]
"""


def test_each_ignored_task_option_is_one_warning_at_its_key(tmp_path: Path) -> None:
    """CPython: only asyncio awaits a task with wait_for; ThreadPoolExecutor's workers are
    never daemon threads (3.9+), and a pool gives no way to ask for one."""
    assert warnings_of(tmp_path, THREADS) == [
        "s.yaml:5:5: warning: tasks[0].timeout: ignored: a task's timeout is "
        "`asyncio.wait_for(task, timeout)`, and this task only runs under threads with an "
        "executor",
        "s.yaml:6:5: warning: tasks[0].daemon: ignored: only a plain thread (model threads, "
        "executor: false) can be a daemon, and this task only runs under threads with an "
        "executor",
    ]


def test_an_option_one_variant_uses_is_not_a_warning(tmp_path: Path) -> None:
    text = (
        THREADS
        + """\
variants:
  - name: plain
    program: {executor: false, collect: join}
  - name: async
    program: {model: asyncio}
"""
    )
    assert warnings_of(tmp_path, text) == []


def test_a_variant_with_its_own_tasks_is_checked_against_its_own_program(
    tmp_path: Path,
) -> None:
    text = """\
name: s
program: {model: asyncio}
tasks:
  - {name: a, timeout: 1s, steps: [{sleep: 1s}]}
variants:
  - name: pool
    program: {model: threads}
    tasks:
      - {name: a, timeout: 1s, steps: [{io: 1s}]}
"""
    assert warnings_of(tmp_path, text) == [
        "s.yaml:9:19: warning: variants[0].tasks[0].timeout: ignored: a task's timeout is "
        "`asyncio.wait_for(task, timeout)`, and this task only runs under threads with an "
        "executor"
    ]


def test_chunksize_outside_a_process_pool_map(tmp_path: Path) -> None:
    """CPython: ThreadPoolExecutor.map takes chunksize and ignores it (the docs say so);
    only ProcessPoolExecutor.map batches tasks by it."""
    text = """\
name: s
program: {model: threads, collect: map, chunksize: 4}
tasks: [{name: a, steps: [{cpu: 1ms}]}]
variants:
  - name: processes
    program: {model: processes, collect: as_completed, chunksize: 8}
"""
    assert warnings_of(tmp_path, text) == [
        "s.yaml:2:41: warning: program.chunksize: ignored: ThreadPoolExecutor.map accepts "
        "chunksize and ignores it; only ProcessPoolExecutor.map sends tasks in chunks",
        "s.yaml:6:56: warning: variants[0].program.chunksize: ignored: only "
        "ProcessPoolExecutor.map (model processes, collect map) sends tasks in chunks",
    ]
    used = text.replace("collect: as_completed, chunksize: 8", "collect: map")
    assert warnings_of(tmp_path, used) == []


def test_validate_prints_warnings_and_still_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(THREADS)
    code, out, err = invoke("validate", str(path))
    assert code == 0 and out == ""
    assert [line.split(": ")[2] for line in err.splitlines()] == [
        "tasks[0].timeout",
        "tasks[0].daemon",
    ]


def test_no_bundled_scenario_has_a_warning() -> None:
    for path in bundled_scenarios():
        assert check_scenario(path) == [], path
