"""The Python names a scenario's parts have in the program it stands for."""

from __future__ import annotations

import keyword
import re

_NOT_IN_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]")


def function_name(task: str) -> str:
    """The function that runs a task: its name with every `-` and `.` as `_`
    (``fetch-page`` is ``def fetch_page()``); a Python keyword gets a trailing `_`."""
    name = _NOT_IN_IDENTIFIER.sub("_", task)
    return f"{name}_" if keyword.iskeyword(name) else name


def thread_name(lane: str, task: str) -> str:
    """``threading.Thread(target=f).name`` (Lib/threading.py, _newname and Thread.__init__,
    3.10+): ``Thread-N (f)``, numbered like the lane ``thread-N`` that shows it."""
    number = lane.rpartition("-")[2]
    return f"Thread-{number} ({function_name(task)})"


def callback_functions(tasks: list[str]) -> list[str]:
    """The functions of the program's done-callbacks, one per ``add_done_callback`` step in
    order, given the task each names: ``fetch_done``, then ``fetch_done_2`` for the
    same task's second callback."""
    names: list[str] = []
    for task in tasks:
        base = f"{function_name(task)}_done"
        name, number = base, 1
        while name in names:
            number += 1
            name = f"{base}_{number}"
        names.append(name)
    return names


POOL_THREAD = "ThreadPoolExecutor-0_{}"
"""A ``ThreadPoolExecutor`` worker's name, by its number from 0 (Lib/concurrent/futures/
thread.py: ``thread_name_prefix`` defaults to ``ThreadPoolExecutor-%d`` of a counter of
executors, and ``_adjust_thread_count`` names worker N ``PREFIX_N``); the program's only
pool is the first one, counter 0."""
