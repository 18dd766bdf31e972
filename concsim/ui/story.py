"""The story of a run: moments marked on the lanes, locks held, wind-down phases, waits.

Folded from the event stream beside the timeline, one dispatch per event, from events that
exist already: ``ExceptionRaised`` (raised), ``ResultReceived`` with an error and
``AwaitReraised`` (re-raised by the reader: ``Future.result``, ``await task``, ``gather``,
``TaskGroup``), ``FaultInjected`` (a fault
landed), ``CancelRequested`` / ``CancelDelivered``, ``SharedRead`` / ``SharedWritten`` (a
lost update: a write made after others wrote since this lane's read, the read-modify-write
race of ``counter += 1``), ``LockAcquired`` / ``LockWaited`` / ``LockReleased`` (spans and
waits) and the main program's phases (``PhaseBegan`` / ``PhaseEnded``: ``shutdown(wait=True)``,
``TaskGroup.__aexit__``, ``asyncio.run()``'s teardown, ``threading._shutdown`` joining
non-daemon threads at interpreter exit).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from concsim.deadlock import Link, find_cycle
from concsim.events import (
    AwaitReraised,
    CancelDelivered,
    CancelRequested,
    ConditionNotified,
    Event,
    ExceptionRaised,
    FaultInjected,
    LaneState,
    LockAcquired,
    LockKind,
    LockReleased,
    LockTimedWait,
    LockWaited,
    MainEnded,
    Phase,
    PhaseBegan,
    PhaseEnded,
    ResultPicklingFailed,
    ResultReceived,
    SharedRead,
    SharedWritten,
    TaskEnded,
    TaskSubmitted,
    TimeoutExpired,
)
from concsim.palette import Cue

if TYPE_CHECKING:
    from concsim.ui.timeline import Timeline, Track

MAIN = "main"


@dataclass(frozen=True, slots=True)
class Moment:
    """One mark of the story: what happened, on which row, and what led to it."""

    t: float
    row: str
    cue: Cue
    index: int  # the event's place in the run's stream
    task: str | None
    cause: int | None  # the Moment (index into Story.moments) that led to this one


@dataclass(slots=True)
class Span:
    """A lock held by a lane, or a phase of the main program; ``t1`` None while it lasts."""

    name: str
    t0: float
    index: int  # the event that opened it
    t1: float | None = None
    waits_for: tuple[str, ...] = ()  # a phase: the tasks unfinished when it began
    kind: LockKind = LockKind.LOCK  # a lock span: a lock's, or a semaphore place's


@dataclass(slots=True)
class Story:
    """Every moment, lock span and phase so far, and what each blocked lane waits for."""

    moments: list[Moment] = field(default_factory=list)
    by_row: dict[str, list[int]] = field(default_factory=dict)  # moment indices per row
    locks: dict[str, list[Span]] = field(default_factory=dict)  # by lane, in start order
    longest_lock: float = 0.0  # the longest closed lock span, to find spans in view
    phases: list[Span] = field(default_factory=list)  # the main program's, in order
    phase_kinds: list[Phase] = field(default_factory=list)
    lock_waits: dict[str, tuple[str, str]] = field(default_factory=dict)  # lane: lock, holder
    # acquire(timeout=...) on a lock: shown like a wait, never part of a deadlock cycle
    timed_waits: dict[str, tuple[str, str]] = field(default_factory=dict)
    holding: dict[str, dict[str, None]] = field(default_factory=dict)  # lane: locks held now
    unfinished: dict[str, None] = field(default_factory=dict)  # tasks submitted, not ended
    ends: dict[str, int] = field(default_factory=dict)  # task: index of its TaskEnded
    main_end: int | None = None  # index of MainEnded
    read_before: dict[int, int] = field(default_factory=dict)  # lost update: index of its read
    _reads: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # writes, read
    _writes: dict[str, int] = field(default_factory=dict)  # name: writes so far
    _last: dict[tuple[Cue, str], int] = field(default_factory=dict)  # latest moment by task
    _origin: int | None = None  # the latest moment that may make a reader cancel others

    def copy(self) -> Story:
        """A copy to fold on its own. Moments are frozen and a closed span never changes,
        so only the spans still open are copied."""
        return Story(
            moments=self.moments.copy(),
            by_row={row: numbers.copy() for row, numbers in self.by_row.items()},
            locks={lane: _open_copied(spans) for lane, spans in self.locks.items()},
            longest_lock=self.longest_lock,
            phases=_open_copied(self.phases),
            phase_kinds=self.phase_kinds.copy(),
            lock_waits=self.lock_waits.copy(),
            timed_waits=self.timed_waits.copy(),
            holding={lane: locks.copy() for lane, locks in self.holding.items()},
            unfinished=self.unfinished.copy(),
            ends=self.ends.copy(),
            main_end=self.main_end,
            read_before=self.read_before.copy(),
            _reads=self._reads.copy(),
            _writes=self._writes.copy(),
            _last=self._last.copy(),
            _origin=self._origin,
        )

    def moment_at(self, index: int) -> int | None:
        """The number of the first moment told by event ``index``, if any (moments come in
        the order of their events: found by bisection)."""
        moments = self.moments
        k = bisect_left(moments, index, key=_event_index)
        return k if k < len(moments) and moments[k].index == index else None

    def take(self, timeline: Timeline, event: Event, index: int) -> None:
        """Fold one event in; marks go onto the timeline's rows as they are found."""
        handler = HANDLERS.get(type(event))
        if handler is not None:
            handler(self, timeline, event, index)

    # --- moments ------------------------------------------------------------------------

    def _mark(
        self,
        timeline: Timeline,
        event: Event,
        index: int,
        row: str,
        cue: Cue,
        task: str | None,
        cause: int | None = None,
    ) -> None:
        track = timeline.row_for(row)
        if track is None:
            return  # nothing to draw on before the first lane
        moment = Moment(event.t, track.row_id, cue, index, task, cause)
        self.moments.append(moment)
        number = len(self.moments) - 1
        self.by_row.setdefault(track.row_id, []).append(number)
        if task is not None:
            self._last[cue, task] = number
        if cue in _ORIGINS:
            self._origin = number
        timeline.add_cue(track, event.t, cue)

    def _cause(self, task: str, *cues: Cue) -> int | None:
        found = [self._last[cue, task] for cue in cues if (cue, task) in self._last]
        return max(found) if found else None

    def _raised(self, timeline: Timeline, event: ExceptionRaised, index: int) -> None:
        task = event.task or event.lane
        cause = self._cause(task, Cue.FAULT, Cue.CANCEL_DELIVERED)
        self._mark(timeline, event, index, event.lane, Cue.RAISED, task, cause)

    def _result(self, timeline: Timeline, event: ResultReceived, index: int) -> None:
        if event.error is None:
            # A tick on main's row, not a moment to select: a pool's main receives thousands.
            track = timeline.tracks.get(MAIN)
            if track is not None:
                timeline.add_cue(track, event.t, Cue.RESULT)
            return
        cues = (Cue.RAISED, Cue.UNSENT, Cue.FAULT, Cue.CANCEL_DELIVERED)
        cause = self._cause(event.task, *cues)
        self._mark(timeline, event, index, MAIN, Cue.RERAISED, event.task, cause)

    def _await_reraised(self, timeline: Timeline, event: AwaitReraised, index: int) -> None:
        # ``await task`` reads the task's future like ``result()``: the same re-raise, in
        # the awaiting coroutine, linked to where the awaited task's exception came from.
        cues = (Cue.RAISED, Cue.RERAISED, Cue.FAULT, Cue.CANCEL_DELIVERED)
        cause = self._cause(event.awaited, *cues)
        task = event.task or event.lane
        self._mark(timeline, event, index, event.lane, Cue.RERAISED, task, cause)

    def _unsent(self, timeline: Timeline, event: ResultPicklingFailed, index: int) -> None:
        # The function returned in the worker, then pickling its value failed: the worker
        # sends the error back instead (3.11 ``_sendback_result``) and the future fails. The
        # lane's end is that failure, not the tick of a task done.
        self._mark(timeline, event, index, event.lane, Cue.UNSENT, event.task)

    def _fault(self, timeline: Timeline, event: FaultInjected, index: int) -> None:
        self._mark(timeline, event, index, event.target, Cue.FAULT, event.target)

    def _cancel_asked(self, timeline: Timeline, event: CancelRequested, index: int) -> None:
        if event.accepted:
            # Asked by a fault on the task itself, else by whoever was cancelled last (a
            # gather or TaskGroup passes its own cancellation on to its children).
            cause = self._cause(event.task, Cue.FAULT)
            if cause is None:
                cause = self._origin
            # Drawn where cancel() was called: on the caller's row (main calling
            # server.cancel(), the TaskGroup's owner, the loop running a timeout's callback),
            # so that it is not hidden under the delivery (⊗) on the target's row at the
            # same instant; a fault's cancel has no caller, its ⚑ is on the target.
            row = event.task if event.by is None else event.by
            self._mark(timeline, event, index, row, Cue.CANCEL_ASKED, event.task, cause)

    def _cancel_delivered(self, timeline: Timeline, event: CancelDelivered, index: int) -> None:
        cause = self._cause(event.task, Cue.CANCEL_ASKED, Cue.FAULT)
        self._mark(timeline, event, index, event.lane, Cue.CANCEL_DELIVERED, event.task, cause)

    def _notified(self, timeline: Timeline, event: ConditionNotified, index: int) -> None:
        # notify(n) and notify_all() differ only in how many waiters they wake: each woken
        # lane is marked where the notify reached it, the notifier's moment its cause.
        for lane in event.woke:
            self._mark(timeline, event, index, lane, Cue.WOKEN, lane)

    def _timed_out(self, timeline: Timeline, event: TimeoutExpired, index: int) -> None:
        # A wait given a timeout that ran out and returned (``join(0.5)``, ``wait(1.0)``,
        # ``acquire(timeout=...)``): marked on the waiting lane, where there is one.
        self._mark(timeline, event, index, event.waiter, Cue.TIMED_OUT, event.waiter)

    def _read(self, timeline: Timeline, event: SharedRead, index: int) -> None:
        self._reads[event.lane, event.name] = (self._writes.get(event.name, 0), index)

    def _written(self, timeline: Timeline, event: SharedWritten, index: int) -> None:
        writes = self._writes.get(event.name, 0)
        read, read_index = self._reads.pop((event.lane, event.name), (writes, -1))
        self._writes[event.name] = writes + 1
        if writes > read:
            # Others wrote since this lane read: its write is based on a stale value and
            # erases every one of those updates.
            task = event.task or event.lane
            self._mark(timeline, event, index, event.lane, Cue.LOST_UPDATE, task)
            self.read_before[len(self.moments) - 1] = read_index

    # --- spans and waits ----------------------------------------------------------------

    def _acquired(self, timeline: Timeline, event: LockAcquired, index: int) -> None:
        self.locks.setdefault(event.lane, []).append(
            Span(event.lock, event.t, index, kind=event.kind)
        )
        self.holding.setdefault(event.lane, {})[event.lock] = None
        self.lock_waits.pop(event.lane, None)
        self.timed_waits.pop(event.lane, None)
        timeline.touch(event.lane)

    def _released(self, timeline: Timeline, event: LockReleased, index: int) -> None:
        self.holding.get(event.lane, {}).pop(event.lock, None)
        for span in reversed(self.locks.get(event.lane, ())):
            if span.name == event.lock and span.t1 is None:
                span.t1 = event.t
                self.longest_lock = max(self.longest_lock, event.t - span.t0)
                break
        timeline.touch(event.lane)

    def _waited(self, timeline: Timeline, event: LockWaited | LockTimedWait, index: int) -> None:
        if event.kind is LockKind.SEMAPHORE:
            return  # its lane's step says it: ``with slots (2 of 2 taken)``
        waits = self.lock_waits if isinstance(event, LockWaited) else self.timed_waits
        waits[event.lane] = (event.lock, event.holder)
        timeline.touch(event.lane)

    def state(self, lane: str, state: LaneState) -> None:
        """A lane changed state (the timeline calls this only while some lane waits for a
        lock: the most frequent event of all costs nothing more)."""
        if state not in (LaneState.BLOCKED, LaneState.HUNG):
            self.lock_waits.pop(lane, None)
            self.timed_waits.pop(lane, None)

    def _phase_began(self, timeline: Timeline, event: PhaseBegan, index: int) -> None:
        if event.lane != MAIN:
            return  # a band on main's row: the program winding down
        self._phase_ended(timeline, event, index)  # one at a time: a new one ends the last
        self.phases.append(Span(event.step, event.t, index, None, tuple(self.unfinished)))
        self.phase_kinds.append(event.phase)
        timeline.touch(MAIN)

    def _phase_ended(self, timeline: Timeline, event: PhaseBegan | PhaseEnded, index: int) -> None:
        if event.lane == MAIN and self.phases and self.phases[-1].t1 is None:
            self.phases[-1].t1 = event.t
            timeline.touch(MAIN)

    @property
    def in_phase(self) -> bool:
        """Whether main is winding the program down now."""
        return bool(self.phases) and self.phases[-1].t1 is None

    def _submitted(self, timeline: Timeline, event: TaskSubmitted, index: int) -> None:
        self.unfinished[event.task] = None

    def _ended(self, timeline: Timeline, event: TaskEnded, index: int) -> None:
        self.unfinished.pop(event.task, None)
        self.ends[event.task] = index

    def _main_ended(self, timeline: Timeline, event: MainEnded, index: int) -> None:
        self.main_end = index
        if (
            event.outcome == "raised"
            and event.error in _GROUPS
            and Phase.SHUTDOWN in self.phase_kinds
        ):
            # TaskGroup.__aexit__ raised its children's errors in main; no event tells that
            # moment, so it is marked where main ended, caused by the latest raise.
            raised = [k for k, m in enumerate(self.moments) if m.cue is Cue.RAISED]
            cause = raised[-1] if raised else None
            self._mark(timeline, event, index, MAIN, Cue.RERAISED, None, cause)

    # --- questions the views ask ---------------------------------------------------------

    def locks_between(self, row: str, t0: float, t1: float, now: float) -> list[Span]:
        """The lock spans of ``row`` that overlap [t0, t1); open spans last until ``now``."""
        spans = self.locks.get(row)
        if not spans:
            return []
        found = []
        for span in reversed(spans):
            end = now if span.t1 is None else span.t1
            if span.t0 < t1 and end >= t0:
                found.append(span)
            elif span.t0 < t0 - self.longest_lock and span.t1 is not None:
                break  # spans start in order: none before this one can reach t0
        return found

    def deadlock(self, order: list[str]) -> tuple[Link, ...] | None:
        """The lanes waiting on each other's locks in a cycle now, from the topmost row in
        ``order`` (None: no cycle)."""
        if not self.lock_waits:
            return None
        return find_cycle(self.holding, self.lock_waits, order)

    def waits(self, timeline: Timeline, track: Track) -> str | None:
        """What a lane waits for at the latest instant, in a few words (None: not waiting)."""
        state = track.state
        if state in (LaneState.BLOCKED, LaneState.HUNG):
            held = self.lock_waits.get(track.row_id) or self.timed_waits.get(track.row_id)
            if held is not None:
                return f"{held[0]} held by {held[1]}"
        if state is LaneState.GIL_WAIT:
            gil = timeline.tracks.get(f"gil:{track.process}")
            owner = gil.gil_holder if gil is not None else None
            if owner == track.row_id:
                # Handed the GIL this instant; its next state comes with its next event.
                return "took the GIL"
            return f"GIL held by {owner}" if owner else None
        if state is LaneState.READY and track.kind != "loop":
            loop = next((t for t in timeline.rows if t.kind == "loop"), None)
            if loop is not None and loop.state not in (None, LaneState.IDLE) and loop.step:
                return f"loop busy: {loop.step}"
            return None
        if track.row_id == MAIN and state in (LaneState.BLOCKED, LaneState.READY):
            step = track.step or ""
            if self.unfinished and (self.in_phase or step in _WAITS_FOR_ALL):
                return f"{step} → {', '.join(self.unfinished)}"
        return None


# What makes gather or a TaskGroup cancel the tasks it holds: its own cancellation (Ctrl-C
# reaches asyncio.run's main task as CancelledError), a fault, or a child's exception.
_ORIGINS = frozenset({Cue.CANCEL_DELIVERED, Cue.FAULT, Cue.RAISED})

_GROUPS = frozenset({"ExceptionGroup", "BaseExceptionGroup"})

_WAITS_FOR_ALL = frozenset({"as_completed()", "await gather(...)", "wait()"})


def _event_index(moment: Moment) -> int:
    return moment.index


def _open_copied(spans: list[Span]) -> list[Span]:
    """The spans, each one still open (it will be closed in place) a copy of its own."""
    return [span if span.t1 is not None else replace(span) for span in spans]


HANDLERS: dict[type[Event], Callable[[Story, Timeline, Event, int], None]] = {
    ExceptionRaised: Story._raised,  # type: ignore[dict-item]  # each takes its own type
    ResultReceived: Story._result,  # type: ignore[dict-item]
    AwaitReraised: Story._await_reraised,  # type: ignore[dict-item]
    ResultPicklingFailed: Story._unsent,  # type: ignore[dict-item]
    FaultInjected: Story._fault,  # type: ignore[dict-item]
    CancelRequested: Story._cancel_asked,  # type: ignore[dict-item]
    CancelDelivered: Story._cancel_delivered,  # type: ignore[dict-item]
    ConditionNotified: Story._notified,  # type: ignore[dict-item]
    TimeoutExpired: Story._timed_out,  # type: ignore[dict-item]
    SharedRead: Story._read,  # type: ignore[dict-item]
    SharedWritten: Story._written,  # type: ignore[dict-item]
    LockAcquired: Story._acquired,  # type: ignore[dict-item]
    LockReleased: Story._released,  # type: ignore[dict-item]
    LockWaited: Story._waited,  # type: ignore[dict-item]
    LockTimedWait: Story._waited,  # type: ignore[dict-item]
    TaskSubmitted: Story._submitted,  # type: ignore[dict-item]
    TaskEnded: Story._ended,  # type: ignore[dict-item]
    PhaseBegan: Story._phase_began,  # type: ignore[dict-item]
    PhaseEnded: Story._phase_ended,  # type: ignore[dict-item]
    MainEnded: Story._main_ended,  # type: ignore[dict-item]
}
