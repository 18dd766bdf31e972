"""What the translator keeps per task, and the lane state each kind of line stands for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from concsim.events import LaneState

STATE_OF_KIND: dict[str, LaneState] = {
    "cpu": LaneState.RUNNING,
    "native": LaneState.NATIVE,
    "io": LaneState.IO,
    "sleep": LaneState.IO,
    "blocking": LaneState.IO,
    "to_thread": LaneState.IO,
    "acquire": LaneState.RUNNING,  # a LockWaited record turns it to blocked if it must wait
    "release": LaneState.RUNNING,
    "read": LaneState.RUNNING,
    "write": LaneState.RUNNING,
    "put": LaneState.BLOCKED,
    "get": LaneState.BLOCKED,
    "consume": LaneState.BLOCKED,
    "raise": LaneState.RUNNING,
    "print": LaneState.RUNNING,
    "log": LaneState.RUNNING,
    "check_stop": LaneState.RUNNING,
    "set_stop": LaneState.RUNNING,
    "submit": LaneState.RUNNING,
    "collect": LaneState.BLOCKED,
    "result": LaneState.BLOCKED,
    "shutdown": LaneState.BLOCKED,
}
"""A line's kind (``concsim.codegen.SiteKind``) -> the state its lane enters there. Kinds
not listed (structure: ``return``, ``executor``, ``catch``) leave the state as it is."""


@dataclass(slots=True)
class TaskTrack:
    """One task instance as the records tell it."""

    name: str
    spec: str
    lane: str | None = None
    pid: int | None = None
    started: float | None = None
    ended: bool = False
    killed: bool = False
    cleanup: bool = False  # its finally block began
    last_kind: str | None = None  # the kind of the last step line it ran
    raised: tuple[str, str] | None = None
    value: Any = None
    received: bool = False
    unknown_end: float | None = None  # it ended here by an exception its future will name
