"""The timeline index: each row's state intervals as parallel arrays, built event by event.

Drawing asks "what was row R doing at time t" for each visible column; with the interval
starts in a sorted list that is one ``bisect`` per column, so a frame costs O(columns * log n)
however long the run has been, and feeding an event costs O(1).
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from concsim.events import (
    Event,
    GilChanged,
    LaneCreated,
    LaneKind,
    LaneState,
    LaneStateChanged,
    ProcessExited,
    RunEnded,
    RunStarted,
    TaskStarted,
)
from concsim.palette import MARKED, Cue
from concsim.ui.changelog import BLANK as BLANK  # re-exported: the code every view reads
from concsim.ui.changelog import ChangeLog
from concsim.ui.story import HANDLERS, Story

if TYPE_CHECKING:
    from concsim.ui.aside import Placed

MADE_IN = re.compile(r"(?P<name>.+) \(in (?P<parent>[^()]+)\)")
"""The name of a task's lane when another task created it (engine/coroutines/tasks.py)."""

ENDED_STATES = frozenset(
    {LaneState.DONE, LaneState.FAILED, LaneState.CANCELLED, LaneState.STOPPED, LaneState.KILLED}
)

LOOP_KIND = LaneKind.LOOP.value
STATES: tuple[LaneState, ...] = tuple(LaneState)
"""Lane codes: 0 is "nothing yet", code ``i + 1`` is ``STATES[i]``."""
CODE: dict[LaneState, int] = {state: i + 1 for i, state in enumerate(STATES)}
CUES: tuple[Cue, ...] = tuple(Cue)
CUE_BASE = 100  # mark codes from here are moments: code ``CUE_BASE + i`` is ``CUES[i]``
CUE_CODE: dict[Cue, int] = {cue: CUE_BASE + i for i, cue in enumerate(CUES)}
MARK = 1000  # drawn cells at or above MARK show the mark of lane code ``cell - MARK``
GIL_FREE = 1  # GIL codes: 0 nothing yet, 1 free, 2 + i held by ``holders[i]``

GIL_KIND = "gil"


@dataclass(slots=True, eq=False)
class Track:
    """One row of the lanes view: a lane, or the GIL of one process."""

    row_id: str  # the lane id, or "gil:<process>"
    kind: str  # a LaneKind value, or "gil"
    name: str
    process: str
    # Flat arrays, not lists of float objects: a bisect over a million boxed floats scattered
    # across the heap is cache-miss bound (~8x slower, measured by benchmarks/render.py).
    starts: array[float] = field(default_factory=lambda: array("d"))
    # codes[k] is the code of the interval that begins at starts[k - 1]; codes[0] stands for
    # the time before the first interval, so codes[bisect_right(starts, t)] is the code at t.
    codes: array[int] = field(default_factory=lambda: array("H", [BLANK]))
    mark_times: array[float] = field(default_factory=lambda: array("d"))
    mark_codes: list[int] = field(default_factory=list)
    # Completions are kept apart: a busy pool finishes a task every few columns, and those
    # ticks must never hide a failure (see cells._overlay_marks).
    done_times: array[float] = field(default_factory=lambda: array("d"))
    result_times: array[float] = field(default_factory=lambda: array("d"))  # main's results
    memo: dict[float, tuple[int, list[int], Placed]] = field(default_factory=dict)  # ui/cells.py
    holders: list[str] = field(default_factory=list)  # GIL rows: who held it, by code - 2
    log: ChangeLog | None = None  # the timeline's log of all rows, if the row has a timeline
    slot: int = 0  # this row's place in the log's arrays
    state: LaneState | None = None
    version: int = 0  # bumped on every change; the lanes view caches strips by it
    task: str | None = None
    step: str | None = None
    title: str = ""  # the name shown: a task made by a task drops its "(in PARENT)"
    depth: int = 0  # a coroutine lane: how many tasks up the task that made it is
    signal: str | None = None  # a process a signal ended: SIGTERM, SIGKILL (ProcessExited)

    @property
    def is_gil(self) -> bool:
        return self.kind == GIL_KIND

    @property
    def code(self) -> int:
        """The code of the latest interval."""
        return self.codes[-1]

    def enter(self, t: float, code: int) -> None:
        """Start a new interval; one that began at the same instant is replaced, never drawn."""
        self.version += 1
        if self.starts and self.starts[-1] == t:
            self.codes[-1] = code
            if len(self.codes) >= 2 and self.codes[-2] == code:
                self.starts.pop()
                self.codes.pop()
        elif self.codes[-1] == code:
            return
        else:
            self.starts.append(t)
            self.codes.append(code)
        if self.log is not None:
            # The row's code from t on, whatever happened above: the log keeps the last one.
            self.log.record(t, self.slot, code)

    def copy(self, log: ChangeLog | None) -> Track:
        """A copy to feed on its own, recording into ``log`` (its cell memo starts empty)."""
        return Track(
            self.row_id,
            self.kind,
            self.name,
            self.process,
            starts=self.starts[:],
            codes=self.codes[:],
            mark_times=self.mark_times[:],
            mark_codes=self.mark_codes.copy(),
            done_times=self.done_times[:],
            result_times=self.result_times[:],
            holders=self.holders.copy(),
            log=log,
            slot=self.slot,
            state=self.state,
            version=self.version,
            task=self.task,
            step=self.step,
            title=self.title,
            depth=self.depth,
            signal=self.signal,
        )

    def code_at(self, t: float) -> int:
        return self.codes[bisect_right(self.starts, t)]

    def marks_between(self, t0: float, t1: float) -> tuple[int, int]:
        """Index range of the marks in [t0, t1)."""
        return bisect_left(self.mark_times, t0), bisect_left(self.mark_times, t1)

    @property
    def gil_holder(self) -> str | None:
        code = self.codes[-1]
        return self.holders[code - 2] if code >= 2 else None


class Timeline:
    """Every row's history, in display order, fed with events as the run produces them."""

    def __init__(self) -> None:
        self.tracks: dict[str, Track] = {}
        self.log = ChangeLog()
        self.gil = True
        self.now = 0.0
        self.elapsed: float | None = None  # set by RunEnded
        # Tuples, replaced on a change: a copy of the dict (``copy``) shares them.
        self.task_lanes: dict[str, tuple[str, ...]] = {}
        self.story = Story()
        self._groups: dict[str, list[Track]] = {}
        self._rows: list[Track] | None = None
        self.count = 0

    def copy(self) -> Timeline:
        """A copy to feed on its own: the run's models at a checkpoint (``ui.checkpoints``)."""
        copied = Timeline()
        copied.log = self.log.copy()
        copied.tracks = {key: track.copy(copied.log) for key, track in self.tracks.items()}
        copied.gil, copied.now, copied.elapsed = self.gil, self.now, self.elapsed
        copied.task_lanes = self.task_lanes.copy()
        copied.story = self.story.copy()
        copied._groups = {
            key: [copied.tracks[track.row_id] for track in group]
            for key, group in self._groups.items()
        }
        copied.count = self.count
        return copied

    @property
    def rows(self) -> list[Track]:
        """Main first, then each process's lanes in creation order, its GIL row second."""
        if self._rows is None:
            keys = sorted(self._groups, key=lambda key: key != "main")
            self._rows = [track for key in keys for track in self._groups[key]]
        return self._rows

    def feed(self, events: Sequence[Event]) -> None:
        story, handlers = self.story, HANDLERS
        for event in events:
            self.count += 1
            self.now = max(self.now, event.t)
            # By exact type, the two most frequent first: events are never subclassed.
            kind = type(event)
            if kind is LaneStateChanged:
                self._state(event)  # type: ignore[arg-type]  # its type was just checked
                continue
            if kind is GilChanged:
                self._gil(event)  # type: ignore[arg-type]
                continue
            handler = handlers.get(kind)
            if handler is not None:
                handler(story, self, event, self.count - 1)  # what Story.take does
            if isinstance(event, LaneCreated):
                self._lane(event)
            elif isinstance(event, TaskStarted):
                self.runs(event.task, event.lane)
            elif isinstance(event, RunStarted):
                self.gil = event.gil
            elif isinstance(event, RunEnded):
                self.elapsed = event.elapsed
            elif isinstance(event, ProcessExited) and event.lane in self.tracks:
                self.tracks[event.lane].signal = event.signal

    def _lane(self, event: LaneCreated) -> None:
        if event.lane in self.tracks:
            return
        group = event.lane if event.lane_kind is LaneKind.PROCESS else event.process
        track = Track(event.lane, event.lane_kind.value, event.name, group, title=event.name)
        made_in = MADE_IN.fullmatch(event.name)
        parent = None if made_in is None else self.tracks.get(made_in["parent"])
        if made_in is not None and parent is not None:
            # A task created by a task: drawn one step in under it, as a tree, named alone
            # (one created by main's own coroutine is a top-level task, under main()).
            track.title = made_in["name"]
            track.depth = parent.depth + 1 if parent.kind == track.kind else 0
        track.log, track.slot = self.log, self.log.add_slot()
        self.tracks[event.lane] = track
        self._groups.setdefault(group, []).append(track)
        self._rows = None
        if self.gil and f"gil:{group}" not in self.tracks:
            # A process has its GIL from its first moment, free until a thread takes it.
            self._gil_row(group).enter(event.t, GIL_FREE)

    def _state(self, event: LaneStateChanged) -> None:
        self.state_of(event.t, event.lane, event.state, event.task, event.step, event.seq)

    def state_of(
        self,
        t: float,
        lane: str,
        state: LaneState,
        task: str | None,
        step: str | None,
        seq: int,
    ) -> None:
        """A lane enters ``state`` at ``t`` (a ``LaneStateChanged``, typed or a row's fields)."""
        track = self.tracks.get(lane)
        if track is None:
            # A lane the engine never announced still gets a row rather than vanishing.
            self._lane(
                LaneCreated(
                    t=t, seq=seq, lane=lane, lane_kind=LaneKind.THREAD, name=lane, process="main"
                )
            )
            track = self.tracks[lane]
        code = CODE[state]
        story = self.story
        if story.lock_waits or story.timed_waits:
            story.state(lane, state)
        track.enter(t, code)
        # The event loop's lane takes the state of the coroutine it runs; that coroutine's
        # ending is marked on its own lane, so on the loop a mark would only repeat it.
        borrowed = track.kind == LOOP_KIND and state in ENDED_STATES
        if state is not track.state and not borrowed:
            if state is LaneState.DONE:
                track.done_times.append(t)
            elif state in MARKED:
                track.mark_times.append(t)
                track.mark_codes.append(code)
        track.state = state
        track.version += 1
        track.task = task
        track.step = step
        if task:
            self.runs(task, lane)

    def row_for(self, name: str) -> Track | None:
        """The row of a lane, or of the lane a task last ran on; main's if it never ran."""
        track = self.tracks.get(name)
        if track is None and name in self.task_lanes:
            track = self.tracks.get(self.task_lanes[name][-1])
        if track is None:
            track = self.tracks.get("main") or next(iter(self.tracks.values()), None)
        return track

    def touch(self, lane: str) -> None:
        """A lane's row is drawn anew (its lock spans or waits changed)."""
        track = self.tracks.get(lane)
        if track is not None:
            track.version += 1

    def add_cue(self, track: Track, t: float, cue: Cue) -> None:
        """Mark a moment on a row; it wins its column at any zoom (see cells._overlay_marks).
        Results are ticks like completions: a pool's main receives one every few columns."""
        if cue is Cue.RESULT:
            track.result_times.append(t)
        else:
            track.mark_times.append(t)
            track.mark_codes.append(CUE_CODE[cue])
        track.version += 1

    def _gil(self, event: GilChanged) -> None:
        self.gil_of(event.t, event.process, event.holder, event.reason)

    def gil_of(self, t: float, process: str, holder: str | None, reason: str) -> None:
        """A process's GIL changes hands (a ``GilChanged``, typed or a row's fields)."""
        if not self.gil:
            return
        track = self._gil_row(process)
        if holder is None:
            code = GIL_FREE
        else:
            if holder not in track.holders:
                track.holders.append(holder)
            code = track.holders.index(holder) + 2
        track.enter(t, code)
        track.step = reason

    def _gil_row(self, process: str) -> Track:
        row_id = f"gil:{process}"
        track = self.tracks.get(row_id)
        if track is None:
            track = Track(row_id, GIL_KIND, "GIL", process)
            track.log, track.slot = self.log, self.log.add_slot()
            self.tracks[row_id] = track
            group = self._groups.setdefault(process, [])
            group.insert(min(1, len(group)), track)  # right under the process's own lane
            self._rows = None
        return track

    def runs(self, task: str, lane: str) -> None:
        """``task`` ran on ``lane`` (a lane a task ran on is its row in the event log's filter)."""
        lanes = self.task_lanes.get(task, ())
        if lane not in lanes:
            self.task_lanes[task] = (*lanes, lane)

    def involves(self, event: Event, row_id: str) -> bool:
        """Whether an event concerns a row (the event log's filter)."""
        names = _names(event)
        if not names:
            return row_id == "main"  # run-wide events belong to the main program
        if row_id in names:
            return True
        if row_id.startswith("gil:"):
            return isinstance(event, GilChanged) and event.process == row_id[4:]
        return any(row_id in self.task_lanes.get(name, ()) for name in names)


_NAME_FIELDS = ("lane", "task", "holder", "target", "waiter", "process")


def _names(event: Event) -> set[str]:
    names: set[str] = set()
    for attr in _NAME_FIELDS:
        value = getattr(event, attr, None)
        if isinstance(value, str):
            names.add(value)
    return names
