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
