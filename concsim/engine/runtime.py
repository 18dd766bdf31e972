"""The engine's moving parts: lanes, processes and their GILs, futures, task runs, errors."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from concsim.events import FutureState, LaneKind, LaneState, Outcome
from concsim.scenario.model import Task

from .reprs import exception_repr, group_repr, group_str, key_error_str
from .waits import Wait

Actor = Generator[Wait, Any, Any]
"""A lane's behaviour: a generator that suspends by yielding what it waits for (a value of
waits.py) and is resumed with ``send`` (a value) or ``throw`` (an exception raised at the
point where it waits)."""


class BudgetSpent(Exception):
    """The run used up its budget of events or steps; ``args[0]`` says which."""


class SimError(Exception):
    """An exception raised inside the simulated program, named by its CPython type."""

    cause: SimError | None = None
    """``__cause__``: set by ``raise ... from e``."""
    context: SimError | None = None
    """``__context__``: the exception being handled when this one was raised."""
    suppress_context: bool = False
    """``raise ... from None`` (or ``from e``): the context is not shown."""

    def __init__(self, error: str, message: str = "") -> None:
        if message and error.rpartition(".")[2] == "KeyError":
            message = key_error_str(message)  # str(KeyError('id')) is "'id'"
        super().__init__(error, message)
        self.error = error
        self.message = message  # ``str(exception)``

    def __repr__(self) -> str:
        # As CPython writes it: ``TimeoutError()`` with no argument, ``ValueError('bad')``.
        return exception_repr(self.error, self.message)


class GroupError(SimError):
    """``ExceptionGroup(message, exceptions)``, as ``TaskGroup.__aexit__`` raises it: its
    ``str`` counts the exceptions, its ``repr`` lists them."""

    def __init__(self, message: str, exceptions: Sequence[SimError]) -> None:
        super().__init__("ExceptionGroup", group_str(message, len(exceptions)))
        self.group_message = message
        self.exceptions = tuple(exceptions)

    def __repr__(self) -> str:
        return group_repr(self.error, self.group_message, self.exceptions)


class Cancelled(SimError):
    """``asyncio.CancelledError`` (or a cooperative stop): unwinds through ``finally``."""

    def __init__(self, message: str = "") -> None:
        super().__init__("CancelledError", message)


class Interrupted(SimError):
    """``KeyboardInterrupt``: Ctrl-C, raised in the main thread only."""

    def __init__(self) -> None:
        super().__init__("KeyboardInterrupt", "")


class Preempted:
    """Sent to a lane running Python code when it must drop the GIL."""


PREEMPTED = Preempted()


class Descheduled:
    """Sent to a lane on a core when the OS gives its core to a waiting thread."""


DESCHEDULED = Descheduled()


class TimerStage(Enum):
    """What the GIL's one drop timer stands for (threads/switch_interval.py)."""

    DROP = "drop"  # the timed wait that times out with no switch: it sets the drop request
    WAIT_AGAIN = "wait again"  # the one before it, which saw a switch and waits again


@dataclass(eq=False)
class DropTimer:
    """The GIL's one pending timer, in place of a timer per waiting thread."""

    number: int = 0  # bumped when it is re-armed: a callback with an older number is stale
    at: int = -1  # when its callback runs (-1: none pending)
    stage: TimerStage = TimerStage.DROP
    fired_at: int = -1  # the last instant a drop request was made
    running: bool = False  # its callback is running: re-armed once, when it is done


@dataclass(eq=False)
class Gil:
    """One interpreter's GIL (Python/ceval_gil.c, ``struct _gil_runtime_state``)."""

    holder: Lane | None = None
    waiters: deque[Lane] = field(default_factory=deque)
    switches: int = 0  # gil->switch_number
    drop_requested: bool = False  # honoured by the holder at its next eval-breaker check
    # Each waiter's timed wait: when it began waiting, and the switch number it saw then.
    waiting_since: dict[Lane, tuple[int, int]] = field(default_factory=dict)
    switched_at: int = 0  # virtual microseconds of the last switch
    waits_ended_first: bool = False  # waits timing out at that instant did so before it
    timer: DropTimer = field(default_factory=DropTimer)


@dataclass(eq=False)
class Proc:
    """An OS process: its own interpreter, its own GIL (if the build has one)."""

    id: str
    gil: Gil | None


@dataclass(eq=False)
class Lane:
    """A row on the timeline and the actor that drives it."""

    id: str
    kind: LaneKind
    proc: Proc
    thread: Lane | None = None  # the OS thread that runs it (a coroutine runs on the loop)
    gen: Actor | None = None
    wait: Wait | None = None  # what it is parked at (waits.py); None while its code runs
    epoch: int = 0  # bumped at each resume; a wake-up carrying an old epoch is stale
    run_until: int = 0  # when its Python code (CpuRun) ends, moved by a preemption (cores.py)
    state: LaneState = LaneState.IDLE
    task: TaskRun | None = None
    step: str | None = None
    daemon: bool = False
    ended: bool = False
    hung_io: bool = False  # the current (or next) wait never completes (I/O, lock, queue, ...)
    unblock: Callable[[], None] | None = None  # a thread's current blocking wait, to forget it
    in_cleanup: bool = False
    must_cancel: bool = False  # asyncio: CancelledError is due at the next await
    waker: Callable[..., None] | None = None  # asyncio: resumes a coroutine parked at an await
    io_waker: Callable[..., None] | None = None  # asyncio: the waker of all its I/O waits
    pending_error: BaseException | None = None  # asyncio: raised when it next resumes
    cancel_message: str = ""  # asyncio: the message of the cancel() due (must_cancel)
    cancel_requests: int = 0  # asyncio: Task.cancelling(), less what uncancel() took back
    # asyncio: takes the value its actor returns, as ``Task.__step`` takes a coroutine's
    # StopIteration (``set_result``); called with the lane once its actor has ended.
    returned: Callable[[Lane, Any], None] | None = None

    @property
    def os_thread(self) -> Lane:
        return self.thread if self.thread is not None else self


@dataclass(eq=False)
class Future:
    """A ``concurrent.futures.Future`` or an asyncio Task's result slot."""

    task: TaskRun | None
    state: FutureState = FutureState.PENDING
    value: Any = None
    error: SimError | None = None
    retrieved: bool = False
    notified: bool = True  # False: CANCELLED, but waiters hear of it only when dequeued
    # Made at the first callback: most futures get none, and an empty list would be one
    # more object per task for the garbage collector to track.
    callbacks: list[Callable[[Future], None]] | None = None

    @property
    def is_done(self) -> bool:
        return self.state in (FutureState.DONE, FutureState.FAILED, FutureState.CANCELLED)

    def add_done_callback(self, fn: Callable[[Future], None]) -> None:
        if self.is_done:
            fn(self)
        elif self.callbacks is None:
            self.callbacks = [fn]
        else:
            self.callbacks.append(fn)


@dataclass(eq=False)
class TaskRun:
    """One task of the scenario (after ``repeat`` is expanded) and what became of it."""

    name: str
    index: int  # position in input order
    spec: Task
    value: Any
    future: Future = field(init=False)
    lane: Lane | None = None
    submitted: bool = False
    started: bool = False
    ended: bool = False
    outcome: Outcome | None = None
    stop_requested: bool = False
    copy: int = 1  # its number among the copies of its task (``{i}``), from 1

    def __post_init__(self) -> None:
        self.future = Future(self)
