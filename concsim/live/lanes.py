"""What the translator keeps per task, and the lane state each kind of line stands for."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import count
from typing import Any, assert_never

from concsim.codegen.sites import SiteKind
from concsim.events import Event, LaneCreated, LaneKind, LaneState, LaneStateChanged

Record = dict[str, Any]


def state_of_kind(kind: SiteKind) -> LaneState | None:
    """The state a lane enters at a line of this kind; None leaves it as it is (structure,
    or a line whose wait a record tells: ``LockWaited`` turns an ``acquire`` blocked)."""
    match kind:
        case SiteKind.CPU:
            return LaneState.RUNNING
        case SiteKind.NATIVE:
            return LaneState.NATIVE
        case SiteKind.IO | SiteKind.SLEEP | SiteKind.BLOCKING | SiteKind.TO_THREAD:
            return LaneState.IO
        case (
            SiteKind.ACQUIRE | SiteKind.RELEASE | SiteKind.READ | SiteKind.WRITE
            | SiteKind.RAISE | SiteKind.PRINT | SiteKind.LOG | SiteKind.CHECK_STOP
            | SiteKind.SET_STOP | SiteKind.SUBMIT | SiteKind.SET | SiteKind.CLEAR
            | SiteKind.ABORT | SiteKind.RESET | SiteKind.NOTIFY | SiteKind.NOTIFY_ALL
        ):  # fmt: skip
            return LaneState.RUNNING
        case (
            SiteKind.PUT | SiteKind.GET | SiteKind.CONSUME | SiteKind.COLLECT | SiteKind.RESULT
            | SiteKind.SHUTDOWN | SiteKind.WAIT | SiteKind.WAIT_FOR
        ):  # fmt: skip
            return LaneState.BLOCKED
        case (
            SiteKind.REPEAT | SiteKind.CREATE_TASK | SiteKind.AWAIT | SiteKind.GATHER
            | SiteKind.TASKGROUP | SiteKind.CANCEL | SiteKind.WITHIN | SiteKind.SHIELD
            | SiteKind.EXECUTOR | SiteKind.RETURN | SiteKind.CLEANUP | SiteKind.CATCH
            | SiteKind.ON_ERROR | SiteKind.TRY | SiteKind.RERAISE | SiteKind.LOOP
            | SiteKind.BREAK | SiteKind.CONTINUE | SiteKind.WITH | SiteKind.TASK_DONE
            | SiteKind.JOIN | SiteKind.TERMINATE | SiteKind.KILL | SiteKind.EXIT
            | SiteKind.OS_EXIT | SiteKind.ADD_DONE_CALLBACK | SiteKind.FUTURE
            | SiteKind.JOIN_PROCESS | SiteKind.RESCHEDULE
        ):  # fmt: skip
            return None
        case _:
            assert_never(kind)


STATE_OF_KIND: dict[str, LaneState] = {
    kind.value: state for kind in SiteKind if (state := state_of_kind(kind)) is not None
}
"""A line's kind (``concsim.codegen.SiteKind``) -> the state its lane enters there
(``state_of_kind``, which decides each kind)."""


@dataclass(slots=True)
class TaskTrack:
    """One task instance as the records tell it."""

    name: str
    spec: str
    lane: str | None = None
    pid: int | None = None
    started: float | None = None
    ended: bool = False
    outcome: str | None = None  # how it ended (the outcome's word), once it has
    killed: bool = False
    cleanup: bool = False  # its finally block began
    last_kind: str | None = None  # the kind of the last step line it ran
    raised: tuple[str, str] | None = None
    value: Any = None
    received: bool = False
    unknown_end: float | None = None  # it ended here by an exception its future will name


class LaneBook:
    """The events written so far, the clock they are on, and the lanes they name."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.t0: float | None = None
        self.last = 0.0
        self.main_begun = False
        self.main_pid = -1
        self.main_tid = -1
        self.lanes: dict[tuple[int, int], str] = {}  # (pid, thread ident) -> lane
        self.processes: dict[int, str] = {}  # pid -> lane
        self.lane_task: dict[str, str | None] = {}  # lane -> the task it runs now

    # --- emitting -----------------------------------------------------------------------

    def _t(self, record: Record) -> float:
        if self.t0 is None:
            self.t0 = record["t"]
        if record["k"] == "main_begin" and not self.main_begun:
            # Time 0 is when main() starts, as in the simulator: the module's imports and
            # the calibration of the cpu loop before it are not part of the run.
            self.main_begun = True
            self.t0 = record["t"]
            self.last = 0.0
        # Threads stamp a record, then may wait for the GIL before writing it: keep the
        # stream in order by never letting time go back (a few microseconds at most).
        self.last = max(self.last, round(record["t"] - self.t0, 6))
        if not self.main_begun:
            self.last = 0.0
        return self.last

    def emit(self, cls: type[Event], t: float, **fields: Any) -> None:
        self.events.append(cls(t=t, seq=len(self.events), **fields))

    def _lane(self, lane: str, t: float, kind: LaneKind, name: str, process: str) -> str:
        if lane not in self.lane_task:
            self.lane_task[lane] = None
            self.emit(LaneCreated, t, lane=lane, lane_kind=kind, name=name, process=process)
        return lane

    def _state(self, lane: str, t: float, state: LaneState, step: str | None) -> None:
        self.emit(
            LaneStateChanged, t, lane=lane, state=state, task=self.lane_task.get(lane), step=step
        )

    def lane_of(self, record: Record, t: float) -> str:
        """The lane of the thread that wrote a record, created on first sight."""
        key = (record["pid"], record["tid"])
        lane = self.lanes.get(key)
        if lane is not None:
            return lane
        pid = record["pid"]
        if pid != self.main_pid:
            lane = self._process(pid, t)
        elif record["tid"] == self.main_tid:
            lane = "main"
        else:
            lane = thread_lane(record.get("thread"))
            taken = set(self.lanes.values())
            if lane is None or lane in taken:
                lane = next(f"thread-{n}" for n in count(1) if f"thread-{n}" not in taken)
            self._lane(lane, t, LaneKind.THREAD, lane, "main")
        self.lanes[key] = lane
        return lane

    def _process(self, pid: int, t: float) -> str:
        lane = self.processes.get(pid)
        if lane is None:
            lane = self.processes[pid] = f"process-{len(self.processes) + 1}"
            self._lane(lane, t, LaneKind.PROCESS, lane, lane)
            self._state(lane, t, LaneState.IDLE, None)
        return lane


_NUMBERED = re.compile(r"^Thread-(\d+)\b|_(\d+)$")


def thread_lane(name: object) -> str | None:
    """``thread-N`` for the thread CPython named: ``Thread-3 (producer)`` is thread-3 and a
    pool's ``ThreadPoolExecutor-0_2`` (or asyncio's ``asyncio_2``) thread-3, numbered as
    they were created, whichever of them is first heard from."""
    if not isinstance(name, str):
        return None
    found = _NUMBERED.search(name)
    if found is None:
        return None
    plain, pooled = found.groups()
    return f"thread-{plain}" if plain is not None else f"thread-{int(pooled) + 1}"
