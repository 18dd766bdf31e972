"""The event vocabulary: what a run emits, in past tense, and the only thing views read.

Every backend emits these frozen records in one total order (``seq``); every view (the
terminal app, headless text, JSON, trace export) only consumes them. Each type carries a
one-sentence ``why`` that explains the event to a person watching the run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from concsim.deadlock import links_of_chain
from concsim.deadlock import sentence as deadlock_sentence
from concsim.durations import format_time


class LaneKind(StrEnum):
    MAIN = "main"
    THREAD = "thread"
    PROCESS = "process"
    LOOP = "loop"
    COROUTINE = "coroutine"


class LaneState(StrEnum):
    """What a lane is doing; each state has its own colour and glyph in every view."""

    IDLE = "idle"  # exists, nothing to do (an idle pool worker, a finished lane's gap)
    QUEUED = "queued"  # submitted, not started
    STARTING = "starting"  # a process being started
    RUNNING = "running"  # executing Python bytecode (holds its GIL and a core)
    NATIVE = "native"  # in C code that released the GIL (runs on a core)
    IO = "io"  # waiting for I/O or a sleep, no GIL held
    GIL_WAIT = "gil_wait"  # runnable, waiting for its process's GIL
    CORE_WAIT = "core_wait"  # holds what it needs but no core is free
    READY = "ready"  # a coroutine that may run but the loop is busy
    BLOCKED = "blocked"  # waiting for a lock, a queue, a future or a join
    LOOP_BLOCKED = "loop_blocked"  # the event loop is stuck in a blocking call
    PICKLING = "pickling"  # arguments or results crossing a process boundary
    CLEANUP = "cleanup"  # running its ``finally`` block
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"  # returned early at a stop check: ``if stop.is_set(): return``
    KILLED = "killed"
    HUNG = "hung"  # will never finish (deadlock, a hung I/O)

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATES


_FINAL_STATES = frozenset(
    {
        LaneState.DONE,
        LaneState.FAILED,
        LaneState.CANCELLED,
        LaneState.STOPPED,
        LaneState.KILLED,
        LaneState.HUNG,
    }
)


class Outcome(StrEnum):
    """How a task ended (``TaskEnded.outcome``)."""

    OK = "ok"
    FAILED = "failed"
    CANCELLED = "cancelled"
    KILLED = "killed"  # its thread or process vanished: no finally ran
    NEVER_STARTED = "never_started"
    HUNG = "hung"  # still running when the program ended


class Cleanup(StrEnum):
    """What became of a task's ``finally`` (``TaskEnded.cleanup``)."""

    RAN = "ran"
    SKIPPED = "skipped"  # it had one, and a kill skipped it
    NONE = "none"  # it had none (or never got to it)


class MainOutcome(StrEnum):
    """How the main program ended (``MainEnded.outcome``)."""

    OK = "ok"
    RAISED = "raised"
    HUNG = "hung"
    EXITED = "exited"  # os._exit(n): neither returned nor raised; ``message`` is n


class LockKind(StrEnum):
    """What a lock event is about: a lock (``threading.Lock``, ``RLock``, ``asyncio.Lock``)
    with one owner, or a semaphore (``threading.Semaphore``, ``asyncio.Semaphore``), a
    counter of places that several holders share."""

    LOCK = "lock"
    SEMAPHORE = "semaphore"


class FutureState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every event: a virtual time in seconds and a place in the total order."""

    t: float
    seq: int

    @property
    def why(self) -> str:
        return ""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": type(self).__name__}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            data[field.name] = list(value) if isinstance(value, tuple) else value
        data["why"] = self.why
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStarted(Event):
    scenario: str
    variant: str | None
    seed: int
    model: str
    gil: bool  # whether each process has a GIL (False: a free-threaded build)
    shared: tuple[tuple[str, int], ...] = ()  # initial values of shared variables
    tasks: tuple[str, ...] = ()  # every task, in input order

    @property
    def why(self) -> str:
        variant = f" ({self.variant})" if self.variant else ""
        return f"The program {self.scenario}{variant} started with seed {self.seed}."


@dataclass(frozen=True, slots=True, kw_only=True)
class LaneCreated(Event):
    lane: str
    lane_kind: LaneKind
    name: str
    process: str  # the lane id of the process it lives in ("main" for the main process)

    @property
    def why(self) -> str:
        if self.lane_kind is LaneKind.LOOP:
            return "The event loop started on the main thread."
        if self.lane_kind is LaneKind.MAIN:
            return f"The main program ({self.name}) started."
        if self.process != "main" and self.lane_kind is not LaneKind.PROCESS:
            return f"A new {self.lane_kind.value}, {self.name}, in {self.process}."
        return f"A new {self.lane_kind.value}: {self.name}."


@dataclass(frozen=True, slots=True, kw_only=True)
class LaneStateChanged(Event):
    """The single source of every lane's drawing: a lane enters ``state`` at ``t``."""

    lane: str
    state: LaneState
    task: str | None = None
    step: str | None = None  # label of the step being executed, e.g. "io 500ms"

    @property
    def why(self) -> str:
        task = self.task if self.task and self.task != self.lane else None
        # A step named like its task or lane would only say the name twice.
        doing = f" ({self.step})" if self.step and self.step not in (task, self.lane) else ""
        ending = _ENDING_WORDS.get(self.state)
        if ending is not None:  # "main failed", not "main is failed"
            return f"{self.lane} {ending}{f' in {task}' if task else ''}{doing}."
        who = f" for {task}" if task else ""
        return f"{self.lane} is {_STATE_WORDS[self.state]}{who}{doing}."


_STATE_WORDS = {
    LaneState.IDLE: "idle",
    LaneState.QUEUED: "queued",
    LaneState.STARTING: "starting",
    LaneState.RUNNING: "running Python code",
    LaneState.NATIVE: "running native code without the GIL",
    LaneState.IO: "waiting for I/O without holding the GIL",
    LaneState.GIL_WAIT: "waiting for the GIL",
    LaneState.CORE_WAIT: "waiting for a free CPU core",
    LaneState.READY: "ready, waiting for the event loop",
    LaneState.BLOCKED: "blocked",
    LaneState.LOOP_BLOCKED: "blocking the event loop",
    LaneState.PICKLING: "pickling data across the process boundary",
    LaneState.CLEANUP: "running its finally block",
    LaneState.DONE: "done",
    LaneState.FAILED: "failed",
    LaneState.CANCELLED: "cancelled",
    LaneState.STOPPED: "stopped early",
    LaneState.KILLED: "killed",
    LaneState.HUNG: "hung and will never finish",
}
# How a lane's final states read as a verb: "job-2 failed", "thread-1 finished".
_ENDING_WORDS = {
    LaneState.DONE: "finished",
    LaneState.FAILED: "failed",
    LaneState.CANCELLED: "was cancelled",
    LaneState.STOPPED: "stopped early",
    LaneState.KILLED: "was killed",
    LaneState.HUNG: "hung: it will never finish",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskSubmitted(Event):
    task: str
    how: str  # "executor.submit", "asyncio.create_task", "Thread.start", ...

    @property
    def why(self) -> str:
        if self.how in ("Thread.start", "Process.start"):
            return f"{self.task} was started with {self.how}."  # no future: join() waits
        return f"{self.task} was handed over with {self.how}; its future is pending."


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskStarted(Event):
    task: str
    lane: str
    during_shutdown: bool = False

    @property
    def why(self) -> str:
        if self.during_shutdown:
            return (
                f"Queued task {self.task} started on {self.lane} after shutdown() was called: "
                "shutdown cancels no queued task unless cancel_futures=True."
            )
        if self.lane == self.task:  # a coroutine is its own lane
            return f"{self.task} started running."
        return f"{self.task} started running on {self.lane}."


@dataclass(frozen=True, slots=True, kw_only=True)
class FutureChanged(Event):
    task: str
    state: FutureState
    error: str | None = None

    @property
    def why(self) -> str:
        if self.state is FutureState.FAILED:
            return (
                f"The future of {self.task} now holds {self.error}; nothing is shown "
                "until someone calls result() or exception()."
            )
        return f"The future of {self.task} is {self.state.value}."


@dataclass(frozen=True, slots=True, kw_only=True)
class GilChanged(Event):
    process: str
    holder: str | None
    reason: str

    @property
    def why(self) -> str:
        if self.holder is None:
            gil = _gil_of(self.process)
            return f"{gil[0].upper()}{gil[1:]} is free: {self.reason}."
        return f"{self.holder} took {_gil_of(self.process)}: {self.reason}."


def _gil_of(process: str) -> str:
    """``the GIL`` of the main process (the one most programs have), ``process-1's GIL``."""
    return "the GIL" if process == "main" else f"{process}'s GIL"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExceptionRaised(Event):
    lane: str
    task: str | None
    error: str
    message: str
    step: str | None = None

    @property
    def why(self) -> str:
        where = f" at {self.step}" if self.step else ""
        who = self.task or self.lane
        return f"{self.error} was raised in {who}{where}."


@dataclass(frozen=True, slots=True, kw_only=True)
class ExceptionCaught(Event):
    """An ``except`` clause of the program's own ``try`` handled an exception."""

    lane: str
    task: str | None
    error: str
    message: str
    clause: str  # the clause as written: ``except (KeyError, IndexError) as e``

    @property
    def why(self) -> str:
        who = self.task or self.lane
        return (
            f"{who} caught {self.error} in `{self.clause}`: its handler runs, "
            "then the code after the try."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExceptionChained(Event):
    """``raise X from e``: the new exception's ``__cause__`` is set (``from None``: none)."""

    lane: str
    task: str | None
    error: str
    cause: str | None  # ``ValueError('bad')``, or None for ``from None``

    @property
    def why(self) -> str:
        who = self.task or self.lane
        if self.cause is None:
            return (
                f"{who} raised {self.error} from None: the exception it was handling "
                "is hidden from the traceback."
            )
        return (
            f"{who} raised {self.error} from {self.cause}: "
            "the traceback shows both, the cause first."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CleanupStarted(Event):
    task: str
    lane: str

    @property
    def why(self) -> str:
        return f"{self.task} is leaving its try block, so its finally block runs now."


@dataclass(frozen=True, slots=True, kw_only=True)
class CleanupSkipped(Event):
    task: str
    reason: str

    @property
    def why(self) -> str:
        return f"The finally block of {self.task} never runs: {self.reason}."


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskEnded(Event):
    task: str
    outcome: Outcome
    error: str | None = None
    cleanup: Cleanup = Cleanup.NONE

    @property
    def why(self) -> str:
        if self.outcome == "ok":
            return f"{self.task} finished normally."
        if self.outcome == "never_started":
            return f"{self.task} never started."
        if self.outcome == "cancelled" and self.error is None:
            # A cooperative stop: the function returned; only a cancel raises CancelledError.
            return f"{self.task} stopped early: it returned at its stop check."
        detail = f" with {self.error}" if self.error else ""
        return f"{self.task} ended {self.outcome}{detail}."


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultReceived(Event):
    """The main program read a future: a value, or the stored exception re-raised."""

    task: str
    value: Any = None
    error: str | None = None

    @property
    def why(self) -> str:
        if self.error:
            return f"Reading the result of {self.task} re-raised its {self.error} in the caller."
        return f"The main program received the result of {self.task}: {self.value!r}."


@dataclass(frozen=True, slots=True, kw_only=True)
class AwaitReraised(Event):
    """An ``await`` in a coroutine raised again the exception a task it awaited ended with:
    ``Future.__await__`` returns ``self.result()``, which raises what the task stored
    (Lib/asyncio/futures.py), a ``CancelledError`` if it was cancelled."""

    lane: str  # the awaiting coroutine's lane
    task: str | None  # the awaiting coroutine's task (None: main())
    awaited: str  # the task whose exception it is
    step: str  # the await as written: ``await server``, ``await gather(...)``
    error: str
    message: str = ""

    @property
    def why(self) -> str:
        who = self.task or "main()"
        text = f": {self.message}" if self.message else ""
        error = f"{self.error}{text}"
        return f"{self.step} in {who} re-raised {error}, which {self.awaited} ended with."


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultInjected(Event):
    fault: str  # "fail" | "timeout" | "cancel" | "kill" | "interrupt" | "hang"
    target: str
    error: str | None = None

    @property
    def why(self) -> str:
        return f"Injected {self.fault} on {self.target}."


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRefused(Event):
    """An injection that does not apply; ``reason`` says why, in CPython's terms."""

    fault: str
    target: str
    reason: str

    @property
    def why(self) -> str:
        return f"{self.fault} on {self.target} has no effect: {self.reason}."


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRequested(Event):
    """``Task.cancel()`` or ``Future.cancel()`` was called on ``task``; ``by`` is the lane
    that called it (None: a fault, a key pressed)."""

    task: str
    accepted: bool
    reason: str
    by: str | None = None

    @property
    def why(self) -> str:
        return f"cancel() on {self.task} returned {self.accepted}: {self.reason}."


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelDelivered(Event):
    task: str
    lane: str
    step: str | None

    @property
    def why(self) -> str:
        if not self.step:
            where = "at its next await"
        elif self.step.startswith("await"):
            where = f"at {self.step}"
        else:
            where = f"at the await of {self.step}"
        return f"CancelledError was delivered {where} in {self.task}."


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeoutExpired(Event):
    waiter: str
    on: str  # what was being waited for
    late_by: float = 0.0

    @property
    def why(self) -> str:
        late = (
            f" {format_time(self.late_by)} late, because the event loop was blocked"
            if self.late_by > 0
            else ""
        )
        return f"The timeout of {self.waiter} waiting for {self.on} expired{late}."


@dataclass(frozen=True, slots=True, kw_only=True)
class InterruptDelivered(Event):
    lane: str
    step: str | None

    @property
    def why(self) -> str:
        return "Ctrl-C: KeyboardInterrupt is raised in the main thread only."


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedRead(Event):
    lane: str
    task: str | None
    name: str
    value: Any

    @property
    def why(self) -> str:
        return f"{self.task or self.lane} read {self.name} = {self.value!r}."


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedWritten(Event):
    lane: str
    task: str | None
    name: str
    value: Any
    lost: int = 0  # what others added since this lane read it, erased by this write

    @property
    def why(self) -> str:
        if self.lost:
            return (
                f"{self.task or self.lane} wrote {self.name} = {self.value!r}, erasing "
                f"{self.lost} update(s) others made since it read: a lost update."
            )
        return f"{self.task or self.lane} wrote {self.name} = {self.value!r}."


@dataclass(frozen=True, slots=True, kw_only=True)
class LockAcquired(Event):
    lane: str
    lock: str
    kind: LockKind = LockKind.LOCK

    @property
    def why(self) -> str:
        return f"{self.lane} acquired {self.kind} {self.lock}."


@dataclass(frozen=True, slots=True, kw_only=True)
class LockWaited(Event):
    """A lane waits for a lock (``holder`` owns it) or a semaphore (``holder`` lists who took
    its places, ``taken`` says how many of how many: ``2 of 2 taken``)."""

    lane: str
    lock: str
    holder: str
    kind: LockKind = LockKind.LOCK
    taken: str | None = None

    @property
    def why(self) -> str:
        return f"{self.lane} waits for {_held(self.kind, self.lock, self.holder, self.taken)}."


def _held(kind: LockKind, lock: str, holder: str, taken: str | None) -> str:
    """``lock lock_a, held by thread-1`` or ``semaphore slots: 2 of 2 taken by thread-1,
    thread-2``: what a waiting lane waits for, and who has it."""
    if kind is LockKind.LOCK:
        return f"lock {lock}, held by {holder}"
    by = f" by {holder}" if holder != "nobody" else ""
    return f"semaphore {lock}: {taken}{by}" if taken else f"semaphore {lock}{by}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LockReleased(Event):
    lane: str
    lock: str
    kind: LockKind = LockKind.LOCK

    @property
    def why(self) -> str:
        return f"{self.lane} released {self.kind} {self.lock}."


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuePut(Event):
    lane: str
    queue: str
    value: Any

    @property
    def why(self) -> str:
        return f"{self.lane} put {self.value!r} on queue {self.queue}."


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueGot(Event):
    lane: str
    queue: str
    value: Any

    @property
    def why(self) -> str:
        return f"{self.lane} took {self.value!r} from queue {self.queue}."


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputWritten(Event):
    """Text written to stdout or a log handler; ``text`` may be a partial line."""

    lane: str
    task: str | None
    text: str

    @property
    def why(self) -> str:
        who = self.task or self.lane
        lines = self.text.rstrip("\n").split("\n")
        if lines[0].startswith("Traceback"):
            return f"{who} raised {lines[-1]} uncaught: the interpreter printed a traceback."
        if len(lines) > 1:
            return f"{who} wrote {len(lines)} lines, the last {lines[-1]!r}."
        return f"{who} wrote {self.text!r}."


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutorShutdown(Event):
    wait: bool
    cancel_futures: bool
    cancelled: tuple[str, ...] = ()

    @property
    def why(self) -> str:
        text = f"shutdown(wait={self.wait}, cancel_futures={self.cancel_futures}) was called"
        if self.cancelled:
            text += f"; queued futures cancelled: {', '.join(self.cancelled)}"
        elif self.cancel_futures:  # a process pool's manager thread cancels them when it wakes
            text += "; the queued futures are to be cancelled, not run"
        if self.wait:
            queued = "" if self.cancel_futures else " and queued"
            text += f"; it waits for running{queued} tasks"
        return text + "."


class Phase(StrEnum):
    """A stretch where the main program waits for the program to wind down."""

    SHUTDOWN = "shutdown"  # Executor.shutdown(wait=True) (leaving ``with``), TaskGroup.__aexit__
    CANCELLING = "cancelling"  # gather() cancelling its children
    TEARDOWN = "teardown"  # asyncio.run(): cancelling the remaining tasks, the default executor
    EXIT = "exit"  # interpreter exit: threading._shutdown joins non-daemon threads


_PHASE_WHY: dict[Phase, str] = {
    Phase.SHUTDOWN: "{lane} called {step}: it waits until every task it started has finished.",
    Phase.CANCELLING: "{lane} awaits a {step}: it waits until every child has finished.",
    Phase.TEARDOWN: (
        "main() is over: asyncio.run() cancels the pending tasks and waits for them, shuts "
        "the default executor down, then returns or raises what main() did."
    ),
    Phase.EXIT: "Interpreter exit: threading._shutdown joins every non-daemon thread.",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseBegan(Event):
    """A lane began winding the program down (live runs observe it too: concsim.live.phases)."""

    lane: str
    phase: Phase
    step: str  # the call it is in: ``shutdown(wait=True)``, ``interpreter exit``, ...

    @property
    def why(self) -> str:
        return _PHASE_WHY[self.phase].format(lane=self.lane, step=self.step)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseEnded(Event):
    """The wind-down a ``PhaseBegan`` opened is over (it returned, or raised)."""

    lane: str
    phase: Phase
    step: str

    @property
    def why(self) -> str:
        return f"{self.lane} is done with {self.step}."


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessKilled(Event):
    lane: str
    task: str | None

    @property
    def why(self) -> str:
        return (
            f"Process {self.lane} died at once (SIGKILL / os._exit): no finally block, "
            "no cleanup, no result."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolBroken(Event):
    lane: str
    failed: tuple[str, ...]

    @property
    def why(self) -> str:
        return (
            f"BrokenProcessPool: worker {self.lane} died, so every running and pending future "
            "fails and no new work is accepted."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PicklingFailed(Event):
    task: str
    error: str
    message: str

    @property
    def why(self) -> str:
        return (
            f"The pool's queue feeder thread could not pickle the call of {self.task} "
            f"({self.error}: {self.message}), so no worker process will run it; the error "
            "waits in its future."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopBlocked(Event):
    task: str
    step: str

    @property
    def why(self) -> str:
        return (
            f"{self.task} is running {self.step} without awaiting: no other coroutine, "
            "callback or timeout can run until it returns."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlockDetected(Event):
    cycle: tuple[str, ...]  # lane, lock, lane, lock, ... back to the first lane

    @property
    def why(self) -> str:
        """``Deadlock: thread-1 holds lock_a and waits for lock_b; thread-2 holds lock_b and
        waits for lock_a.``: from the lane the closing wait is on, the closing wait last."""
        links = links_of_chain(self.cycle)
        return deadlock_sentence(links[1:] + links[:1])


@dataclass(frozen=True, slots=True, kw_only=True)
class WarningIssued(Event):
    message: str

    @property
    def why(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True, kw_only=True)
class MainEnded(Event):
    outcome: MainOutcome
    error: str | None
    message: str = ""  # the exception's text, e.g. "3 (of 5) futures unfinished"

    @property
    def why(self) -> str:
        if self.outcome == "ok":
            return "The main program returned normally."
        if self.outcome == "hung":
            return "The main program waits forever: nothing left can wake it."
        if self.outcome == "exited":
            return (
                f"The main program called os._exit({self.message}): the process ended at once, "
                "with no finally block, no atexit handler and no thread joined."
            )
        text = f"{self.error}: {self.message}" if self.message else f"{self.error}"
        return f"The main program ended with {text}."


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEnded(Event):
    elapsed: float
    hung: bool = False  # the program never exits: the run stopped where nothing could happen

    @property
    def why(self) -> str:
        if self.hung:
            return (
                f"The run stopped at {format_time(self.elapsed)}: the program hangs there and "
                "would never exit."
            )
        return f"The program exited after {format_time(self.elapsed)} of virtual time."


@dataclass(frozen=True, slots=True, kw_only=True)
class LockGaveUp(Event):
    """``acquire(timeout=...)`` or ``acquire(blocking=False)`` returned False: a lock, an
    RLock or a semaphore (``lock`` names it) was not taken."""

    lane: str
    lock: str
    timeout: float | None = None  # seconds; None: blocking=False, it never waited
    kind: LockKind = LockKind.LOCK

    @property
    def why(self) -> str:
        what = f"semaphore {self.lock}" if self.kind is LockKind.SEMAPHORE else self.lock
        if self.timeout is None:
            return f"{self.lane} found {what} taken: acquire(blocking=False) returned False."
        return (
            f"{self.lane} gave up on {what} after {format_time(self.timeout)}: "
            "acquire(timeout=...) returned False."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LockTimedWait(Event):
    """``acquire(timeout=...)`` waits for a taken lock, RLock or semaphore: a wait that ends
    by itself at the deadline, so it is never part of a deadlock."""

    lane: str
    lock: str
    holder: str
    timeout: float  # seconds
    kind: LockKind = LockKind.LOCK
    taken: str | None = None  # a semaphore's places: ``2 of 2 taken``

    @property
    def why(self) -> str:
        if self.kind is LockKind.LOCK:
            held = f"{self.lock}, held by {self.holder}"
        else:
            held = _held(self.kind, self.lock, self.holder, self.taken)
        return f"{self.lane} waits up to {format_time(self.timeout)} for {held}."


@dataclass(frozen=True, slots=True, kw_only=True)
class EventSet(Event):
    """``event.set()`` (threading.Event.set: ``notify_all`` under its condition)."""

    lane: str
    event: str
    woke: tuple[str, ...] = ()  # the lanes waiting on it, each now returning True

    @property
    def why(self) -> str:
        woke = f", waking {', '.join(self.woke)}" if self.woke else ", with no one waiting"
        return f"{self.lane} set event {self.event}{woke}."


@dataclass(frozen=True, slots=True, kw_only=True)
class EventCleared(Event):
    """``event.clear()``."""

    lane: str
    event: str

    @property
    def why(self) -> str:
        return f"{self.lane} cleared event {self.event}: a wait on it blocks again."


@dataclass(frozen=True, slots=True, kw_only=True)
class BarrierPassed(Event):
    """``barrier.wait()`` returned ``index`` (0 for the first to arrive; the last, which
    trips the barrier, gets ``parties - 1``)."""

    lane: str
    barrier: str
    index: int

    @property
    def why(self) -> str:
        return f"{self.lane} passed barrier {self.barrier}: wait() returned {self.index}."


@dataclass(frozen=True, slots=True, kw_only=True)
class BarrierBroken(Event):
    """The barrier broke (a wait timed out, ``abort()``, or ``reset()`` with waiters):
    ``woke`` raise BrokenBarrierError, and so does every later ``wait`` until a reset."""

    lane: str
    barrier: str
    how: str  # "timed out", "aborted", "reset"
    woke: tuple[str, ...] = ()

    @property
    def why(self) -> str:
        woke = f"; woken to raise BrokenBarrierError: {', '.join(self.woke)}" if self.woke else ""
        return f"Barrier {self.barrier} broke: {self.lane} {self.how}{woke}."


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackInvoked(Event):
    """A done-callback runs (``Future._invoke_callbacks`` or ``add_done_callback`` on a done
    future): ``thread`` is CPython's name of the thread it runs in."""

    lane: str
    task: str  # whose future it was registered on
    callback: str  # the function's name
    thread: str  # threading.current_thread().name inside the callback

    @property
    def why(self) -> str:
        return (
            f"{self.callback}(future of {self.task}) runs in {self.thread} ({self.lane}): "
            "a done-callback runs in the thread that completes the future, or at once in "
            "the thread that adds it to a future already done."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionNotified(Event):
    """``cv.notify(n)`` or ``cv.notify_all()``: ``woke`` take the lock again, in turn."""

    lane: str
    condition: str
    woke: tuple[str, ...] = ()

    @property
    def why(self) -> str:
        woke = f", waking {', '.join(self.woke)}" if self.woke else ", with no one waiting"
        return f"{self.lane} notified condition {self.condition}{woke}."


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultPicklingFailed(Event):
    """A worker process could not pickle a task's return value (3.11: ``_sendback_result``
    sends the pickling error instead, as ``_ExceptionWithTraceback``)."""

    lane: str
    task: str
    error: str
    message: str

    @property
    def why(self) -> str:
        return (
            f"{self.lane} could not pickle the value {self.task} returned ({self.error}: "
            f"{self.message}); it sends that error back instead, and the pool goes on."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultUnpicklingFailed(Event):
    """The pool's manager thread could not unpickle a result (an exception class whose
    ``__init__`` needs more than the arguments it keeps): the pool is broken (3.11,
    ``wait_result_broken_or_wakeup`` then ``terminate_broken``)."""

    lane: str
    task: str
    error: str
    message: str
    failed: tuple[str, ...]

    @property
    def why(self) -> str:
        return (
            f"The pool could not unpickle what {self.task} raised in {self.lane} "
            f"({self.error}: {self.message}), so it is broken: every running and pending "
            "future fails with BrokenProcessPool and the workers are terminated."
        )


def _fast_init(cls: type[Event]) -> None:
    """Give a frozen event class a quicker ``__init__`` with the same signature.

    The ``__init__`` that dataclasses writes for a frozen class sets each field through
    ``object.__setattr__``; writing the slots through their descriptors does the same job in
    about 40% of the time, and a run builds one event per thing that happens. The class
    stays a frozen dataclass: ``fields()``, equality, ``repr`` and the ban on assignment are
    unchanged (tests/test_events.py checks the signature against the generated one).
    """
    fields = dataclasses.fields(cls)
    params: list[str] = []
    env: dict[str, Any] = {}
    for field in fields:
        env[f"_set_{field.name}"] = getattr(cls, field.name).__set__
        if field.default is dataclasses.MISSING:
            params.append(field.name)
        else:
            env[f"_default_{field.name}"] = field.default
            params.append(f"{field.name}=_default_{field.name}")
    body = "".join(f"    _set_{f.name}(self, {f.name})\n" for f in fields)
    source = f"def __init__(self, *, {', '.join(params)}):\n{body}"
    # The same technique dataclasses itself uses to build __init__, under a file name of
    # its own: a profile then shows what building each kind of event costs, where every
    # generated ``__init__`` would otherwise be one ``<string>:1(__init__)`` row.
    exec(compile(source, f"<generated {cls.__qualname__}.__init__>", "exec"), env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]  # a generated __init__, by design


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessExited(Event):
    """A ``multiprocessing.Process`` ended: its ``exitcode`` as the parent reads it."""

    lane: str
    task: str | None
    exitcode: int
    signal: str | None = None  # SIGTERM or SIGKILL when a signal ended it

    @property
    def why(self) -> str:
        who = f"{self.lane} ({self.task})" if self.task else self.lane
        if self.signal is not None:
            return (
                f"{who} was ended by {self.signal}: exitcode {self.exitcode}; it died where it "
                "stood, so no finally block of it ran."
            )
        if self.exitcode == 0:
            return f"{who} returned from its target: exitcode 0."
        return f"{who} exited with exitcode {self.exitcode}."


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerRetired(Event):
    """A process pool's worker exited after ``max_tasks_per_child`` calls and the manager
    thread ran ``_adjust_process_count()``: it started ``replacement``, or (None) it took an
    idle-worker token an earlier result had left and started none (gh-115634)."""

    lane: str
    calls: int
    replacement: str | None

    @property
    def why(self) -> str:
        head = f"{self.lane} exited after {self.calls} calls (max_tasks_per_child)"
        if self.replacement is not None:
            return f"{head}; the manager thread started {self.replacement} in its place."
        return (
            f"{head}; the manager thread took an idle-worker token an earlier result left "
            "and started no process in its place (CPython gh-115634)."
        )


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        RunStarted,
        LaneCreated,
        LaneStateChanged,
        TaskSubmitted,
        TaskStarted,
        FutureChanged,
        GilChanged,
        ExceptionRaised,
        CleanupStarted,
        CleanupSkipped,
        TaskEnded,
        ResultReceived,
        AwaitReraised,
        FaultInjected,
        FaultRefused,
        CancelRequested,
        CancelDelivered,
        TimeoutExpired,
        InterruptDelivered,
        SharedRead,
        SharedWritten,
        LockAcquired,
        LockWaited,
        LockReleased,
        QueuePut,
        QueueGot,
        OutputWritten,
        ExecutorShutdown,
        PhaseBegan,
        PhaseEnded,
        ProcessKilled,
        PoolBroken,
        PicklingFailed,
        LoopBlocked,
        DeadlockDetected,
        WarningIssued,
        MainEnded,
        RunEnded,
        ExceptionCaught,
        ExceptionChained,
        LockGaveUp,
        LockTimedWait,
        EventSet,
        EventCleared,
        BarrierPassed,
        BarrierBroken,
        ProcessExited,
        CallbackInvoked,
        ConditionNotified,
        ResultPicklingFailed,
        ResultUnpicklingFailed,
        WorkerRetired,
    )
}
"""The closed vocabulary, by type name (the ``type`` field of ``--events`` JSON lines)."""

for _cls in EVENT_TYPES.values():
    _fast_init(_cls)
