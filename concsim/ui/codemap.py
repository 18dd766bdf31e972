"""Where each lane is in the program's code: the line of ``concsim code`` it is executing.

A fold of the event stream, like the timeline: a lane's line follows from the step it is on
(``LaneStateChanged.task`` and ``.step``) through the program's site map
(``concsim.codegen.Program.sites``: line -> owner, kind, label), and the main program's from
what it waits in (``as_completed()``, ``job-1.result()``, ``shutdown(wait=True)``) and what it
receives (``ResultReceived``: the ``.result()`` line, where a stored error is re-raised).

Events name a step by its label, not its place in the task; where one task has the same label
on several lines the fold takes the next of them after the lane's line. A coroutine resumed by
the event loop moves on to the next line of the same label (the five ``await
asyncio.sleep(0.1)`` of a heartbeat); a thread running two consecutive steps of one label with
no change of state between them is shown on the first.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from concsim.codegen import Program, SiteKind
from concsim.events import (
    Event,
    ExceptionRaised,
    ExecutorShutdown,
    LaneCreated,
    LaneKind,
    LaneState,
    LaneStateChanged,
    ResultReceived,
)
from concsim.ui.codesites import SiteIndex as SiteIndex  # re-exported: the fold's input
from concsim.ui.codesites import guard_line as guard_line

MAIN = "main"
_FINALLY = "finally: "  # a cleanup step's label, as the engine says it (driver.py)
_TO_THREAD = "to_thread: "  # a default-pool thread running a coroutine's to_thread call
_NOT_STARTED = frozenset({LaneState.QUEUED, LaneState.STARTING})
# States that take a lane off its line whatever its step (a hung lane stays on it).
_LEAVING = _NOT_STARTED | {state for state in LaneState if state.is_final} - {LaneState.HUNG}
# The main program's waits that are its collect statement (as_completed, wait, join,
# gather, a TaskGroup's exit), by the engine's labels (mainprog.py, coroutines/collecting.py).
_COLLECT_WAITS = ("as_completed()", "wait(", "join ", "await gather(", "TaskGroup.__aexit__")
# Past main(): asyncio.run's teardown and interpreter exit, in the guard's call of main().
_EXIT_WAITS = ("interpreter exit", "asyncio.run()", "shutdown_default_executor()")
# main() over: threads' main(), or asyncio.run(main()) after its teardown (runners.py).
_MAIN_ENDED = frozenset({"main() ended", "asyncio.run() returned", "asyncio.run() raised"})


class Where(NamedTuple):
    """One lane at the playhead: the task and step it is on, and the line they stand for.
    (A named tuple: the fold makes one per change of a lane, and a tuple is quickest made.)"""

    task: str | None = None
    label: str | None = None
    line: int | None = None  # None: not in the program's own code (idle, ended, machinery)
    anchor: int | None = None  # the line its own label last placed it on
    since: float = 0.0  # when it came to ``line``


class Whereabouts:
    """Each lane's line after the events fed so far (lanes in the order they appeared)."""

    def __init__(self, sites: SiteIndex) -> None:
        self.sites = sites
        self.lanes: dict[str, Where] = {}
        self.kinds: dict[str, LaneKind] = {}
        self.received = 0  # results main has received: its n-th ``results.append`` line
        self.moves = 0  # times a lane changed lines: a view redraws only when this grows
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            LaneCreated: self._created,
            ResultReceived: self._received,
            ExceptionRaised: self._raised,
            ExecutorShutdown: self._shutdown,
        }

    def copy(self) -> Whereabouts:
        twin = Whereabouts(self.sites)
        twin.lanes, twin.kinds, twin.received = dict(self.lanes), dict(self.kinds), self.received
        twin.moves = self.moves
        return twin

    def lines(self) -> dict[str, int]:
        """Lane -> the line it is on, for the lanes in the program's code."""
        return {lane: where.line for lane, where in self.lanes.items() if where.line is not None}

    def on_line(self, line: int) -> list[str]:
        """The lanes on ``line``, in the order they appeared."""
        return [lane for lane, where in self.lanes.items() if where.line == line]

    def feed(self, events: Iterable[Event]) -> None:
        lanes, handlers = self.lanes, self._handlers
        for event in events:
            kind = type(event)
            if kind is LaneStateChanged:
                # Most changes are the same step in another state (a GIL hand-off, a wait
                # ending): the line stays, nothing to do.
                before = lanes.get(event.lane)  # type: ignore[attr-defined]
                if (
                    before is not None
                    and before.line is not None
                    and event.step == before.label  # type: ignore[attr-defined]
                    and event.task == before.task  # type: ignore[attr-defined]
                    and event.state not in _LEAVING  # type: ignore[attr-defined]
                ):
                    continue
                self._state(event)  # type: ignore[arg-type]  # its type was just checked
            else:
                handler = handlers.get(kind)
                if handler is not None:
                    handler(event)

    # --- events ------------------------------------------------------------------------

    def _created(self, event: LaneCreated) -> None:
        self.kinds[event.lane] = event.lane_kind
        self.lanes.setdefault(event.lane, Where(since=event.t))

    def _state(self, event: LaneStateChanged) -> None:
        lane = event.lane
        kind = self.kinds.get(lane, LaneKind.THREAD)
        if kind is LaneKind.LOOP:
            # The loop runs a coroutine's next piece: that coroutine has left the await it
            # was on. The loop itself is asyncio's machinery, not a line of the program.
            if event.state is LaneState.RUNNING and event.step in self.lanes:
                self._resumed(event.step, event.t)
            self._move(lane, None, None, None, None, event.t)
            return
        before = self.lanes.get(lane) or Where(since=event.t)
        if event.task is not None:
            line = self._task_line(event.task, event.state, event.step, before)
        elif kind is LaneKind.MAIN:
            line = self._main_line(event.state, event.step, before)
        elif event.step is not None and event.step.startswith(_TO_THREAD):
            # The function handed to asyncio.to_thread runs on the await's own line.
            line = _only(self.sites.anywhere.get(event.step[len(_TO_THREAD) :], ()))
        else:
            line = None
        anchor = line if line is not None else before.anchor
        if event.task != before.task:
            anchor = line
        self._move(lane, event.task, event.step, line, anchor, event.t)

    def _received(self, event: ResultReceived) -> None:
        """Main read a future: ``results.append(future.result())``, or where a stored
        exception is re-raised (``.result()``, ``gather``, a TaskGroup)."""
        before = self.lanes.get(MAIN) or Where(since=event.t)
        line = self._result_line()
        self.received += 1
        self._move(MAIN, before.task, before.label, line, line or before.anchor, event.t)

    def _raised(self, event: ExceptionRaised) -> None:
        before = self.lanes.get(event.lane) or Where(since=event.t)
        if event.task is not None and event.step is not None:
            owner = self.sites.owner(event.task)
            line = self.sites.labelled(owner, event.step, before.anchor) or before.line
        elif self.kinds.get(event.lane) is LaneKind.MAIN:
            line = self._main_line(LaneState.RUNNING, event.step, before)
        else:
            return
        self._move(event.lane, before.task, before.label, line, before.anchor, event.t)

    def _shutdown(self, event: ExecutorShutdown) -> None:
        """``executor.shutdown(...)`` called: the statement, or leaving the ``with`` block."""
        line = self._shutdown_line()
        before = self.lanes.get(MAIN)
        if line is not None and before is not None:
            self._move(MAIN, before.task, before.label, line, line, event.t)

    def _resumed(self, lane: str, t: float) -> None:
        where = self.lanes[lane]
        if where.line is None or where.task is None or where.label is None:
            return
        owner = self.sites.owner(where.task)
        lines = self.sites.labels.get((owner, where.label), ())
        k = bisect_right(lines, where.line)
        if k < len(lines):  # the next await of the same label: the same label again
            self._move(lane, where.task, where.label, lines[k], where.anchor, t)

    def _move(
        self,
        lane: str,
        task: str | None,
        label: str | None,
        line: int | None,
        anchor: int | None,
        t: float,
    ) -> None:
        """``lane`` is on ``line`` from ``t`` (since it came there, if it was there)."""
        old = self.lanes.get(lane)
        if old is not None and old.line == line:
            since = old.since
        else:
            since = t
            self.moves += 1
        self.lanes[lane] = Where(task, label, line, anchor, since)

    # --- lines -------------------------------------------------------------------------

    def _task_line(
        self, task: str, state: LaneState, step: str | None, before: Where
    ) -> int | None:
        """A lane running ``task``: the line of its step, or None once it has ended."""
        if state in _NOT_STARTED or step is None or step == "created":
            return None
        if state.is_final and state is not LaneState.HUNG:
            return None
        sites = self.sites
        owner = sites.owner(task)
        same = before.task == task
        if same and step == before.label and before.line is not None:
            return before.line  # the same step, in another state (GIL wait, ready, running)
        label = step[len(_FINALLY) :] if step.startswith(_FINALLY) else step
        line = sites.labelled(owner, label, before.anchor if same else None)
        if line is None and label.endswith(")") and " (" in label:
            # a blocked lane's label says what it waits on: ``with slots (2 of 2 taken)``,
            # ``wait gate (2 of 3 arrived)``
            line = sites.labelled(owner, label.rsplit(" (", 1)[0], before.anchor if same else None)
        if line is None and step.startswith("finally"):
            line = sites.of_kind(owner, SiteKind.CLEANUP)
        if line is None and (kind := _tree_wait(label)) is not None:
            line = sites.of_kind(owner, kind, before.anchor if same else None)
        if line is None and state is LaneState.HUNG and same:
            return before.line
        return line

    def _main_line(self, state: LaneState, step: str | None, before: Where) -> int | None:
        """The main program's line from what it waits in, or its own step's line."""
        sites = self.sites
        if step is None:
            return None
        if step in _MAIN_ENDED:
            # Returned (its ``return``), or an exception leaves main() for the guard's call.
            done = state is LaneState.DONE
            return (sites.of_kind(MAIN, SiteKind.RETURN) if done else None) or sites.guard
        if step == "exited":
            return None
        if step.startswith(_EXIT_WAITS):
            return sites.guard
        if step == "Thread.start()" or step == "submit":
            return sites.of_kind(MAIN, SiteKind.SUBMIT, before.anchor) or self._collect()
        if step.startswith(_COLLECT_WAITS):
            line = self._collect()
            if line is not None or (kind := _tree_wait(step)) is None:
                return line
            return sites.of_kind(MAIN, kind, before.anchor)  # a taskgroup step of main's
        if step.endswith(".result()") or step.startswith("await "):
            line = self._result_line()
            if line is not None:
                return line
            # no collect: an await of main's own steps (a sleep, a task it created)
        if step == "shutdown(wait=True)":
            return self._shutdown_line()
        if state.is_final and state is not LaneState.HUNG:
            return None
        if step == before.label and before.line is not None:
            return before.line
        line = sites.labelled(MAIN, step, before.anchor)
        if line is None and step.endswith(")"):  # ``wait stop (not set)``
            line = sites.labelled(MAIN, step.rsplit(" (", 1)[0], before.anchor)
        return line

    def _collect(self) -> int | None:
        return self.sites.of_kind(MAIN, SiteKind.COLLECT)

    def _result_line(self) -> int | None:
        """The ``.result()`` line main reads its next result on (one per task when the
        program reads each on a line of its own), else the collect statement."""
        lines = self.sites.lines_of(MAIN, SiteKind.RESULT)
        if len(lines) > 1:
            return lines[min(self.received, len(lines) - 1)]
        return lines[0] if lines else self._collect()

    def _shutdown_line(self) -> int | None:
        sites = self.sites
        return sites.of_kind(MAIN, SiteKind.SHUTDOWN) or sites.of_kind(MAIN, SiteKind.EXECUTOR)


def _tree_wait(step: str) -> SiteKind | None:
    """The line kind a coroutine waits on in the asyncio task tree, from its wait's words."""
    if step.startswith("TaskGroup."):
        return SiteKind.TASKGROUP
    if "gather(" in step:
        return SiteKind.GATHER
    if step.startswith("await asyncio.shield("):
        return SiteKind.SHIELD
    if step.startswith("await "):
        return SiteKind.AWAIT
    return None


def _only(lines: Sequence[int]) -> int | None:
    return lines[0] if lines else None


def lines_at(program: Program, events: Iterable[Event]) -> dict[str, int]:
    """Each lane's line in ``program`` after ``events`` (lanes not in its code left out)."""
    fold = Whereabouts(SiteIndex(program))
    fold.feed(events)
    return fold.lines()
