"""The scenario format, versions 1 and 2 (concsim.scenario.versions): validated, frozen
models of a scenario file.

Durations are held as integer microseconds (the engine's clock unit) and read from YAML
as ``250ms``, ``1.5s``, ``20us`` or a bare number of seconds (concsim.durations).
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from concsim.durations import DURATION_PATTERN, format_duration, parse_duration
from concsim.limits import MAX_DURATION_S, MAX_INT64, MAX_KB, MAX_SEED, MIN_INT64
from concsim.scenario.fielddocs import describe_fields
from concsim.scenario.kinds import STEP_KIND_NAMES, main_only

FORMAT_VERSION = 2
"""The newest version of the format; every earlier one is read as written."""

Duration = Annotated[
    int,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN.pattern},
                {"type": "number", "minimum": 0, "maximum": MAX_DURATION_S},
            ],
            "description": "A duration: 250ms, 1.5s, 20us, or a number of seconds.",
        }
    ),
]
"""Microseconds in Python; a duration string in YAML."""

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$")]
ErrorType = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")]
TaskRef = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*?(-\{i\})?$")]
"""A task named by a step: ``NAME`` (every copy of it), ``NAME-2`` (one copy) or ``NAME-{i}``
(the copy with the running task's own number)."""


class _Strict(BaseModel):
    # defer_build: a validator is built when a class is first used, not for each of the ~35
    # classes at import; loading a scenario needs few of them (import + load: 177 -> 152 ms).
    # The docstring under a field is its description, in the JSON Schema too (shown on hover
    # in editors): read by describe_fields, one parse of the source a module, not one a class
    # as pydantic's use_attribute_docstrings does.
    # A default that is a model is made by ``model_construct``, the same object as the class
    # called with no arguments (tests/test_prepared.py), so that no class builds its
    # validator at import.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        defer_build=True,
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _UNDESCRIBED.append(cls)  # described before any schema is built: model_rebuild

    @classmethod
    def model_rebuild(
        cls,
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Mapping[str, Any] | None = None,
    ) -> bool | None:
        """Pydantic's, once every model has its fields' descriptions: a schema keeps the
        descriptions it was built with, and with defer_build every schema is built here
        (at the first validation, or the first JSON Schema), so reading the module's
        source is left to the first start that validates."""
        describe_models()
        return super().model_rebuild(
            force=force,
            raise_errors=raise_errors,
            # the caller's frame is one further away, behind this one
            _parent_namespace_depth=_parent_namespace_depth + (_parent_namespace_depth > 0),
            _types_namespace=_types_namespace,
        )


_UNDESCRIBED: list[type[_Strict]] = []
"""The models not given their fields' docstrings yet, in the order they were made (a base
before the classes that inherit its fields)."""


def describe_models() -> None:
    """Give every model made so far its fields' docstrings as descriptions (describe_fields)."""
    while _UNDESCRIBED:
        describe_fields(_UNDESCRIBED.pop(0))


class Shutdown(_Strict):
    """``executor.shutdown(wait=..., cancel_futures=...)``."""

    wait: StrictBool = True
    cancel_futures: StrictBool = False


# --- steps -------------------------------------------------------------------------------


class _Step(_Strict):
    label: str | None = None
    """What the step is, in the program's own words (shown on the lane)."""


class CpuStep(_Step):
    """Pure-Python work: needs its process's GIL and a core."""

    cpu: Duration


class NativeStep(_Step):
    """C code that releases the GIL (NumPy, hashlib): needs a core only."""

    native: Duration


class IoStep(_Step):
    """Waiting on a socket or file without the GIL; in asyncio, an ``await`` of I/O."""

    io: Duration


class SleepStep(_Step):
    """``time.sleep`` in a thread, ``await asyncio.sleep`` in a coroutine."""

    sleep: Duration


class BlockingStep(_Step):
    """A blocking call (``time.sleep``, ``requests.get``): inside ``async def`` it stalls the
    event loop; elsewhere it is the same as ``io``."""

    blocking: Duration


class ToThreadStep(_Step):
    """``await asyncio.to_thread(blocking_call)``: the call runs on the default thread pool."""

    to_thread: Duration


class AcquireStep(_Step):
    """``lock.acquire()`` (a lock, an RLock or a semaphore, by the name's family). With
    ``timeout`` or ``blocking: false`` it may return False: then ``if not
    lock.acquire(...):`` runs the ``else`` steps, and the steps after it run either way."""

    acquire: Name
    timeout: Duration | None = Field(None, json_schema_extra={"since": 2})
    """``acquire(timeout=...)``: give up after this long (asyncio: ``asyncio.timeout``)."""
    blocking: StrictBool = Field(True, json_schema_extra={"since": 2})
    """False: ``acquire(blocking=False)``, which returns False at once if it is taken."""
    else_: tuple[Step, ...] = Field((), alias="else", json_schema_extra={"since": 2})
    """What ``if not lock.acquire(...):`` runs when the acquire gave up."""

    @model_validator(mode="after")
    def _can_fail(self) -> AcquireStep:
        if not self.blocking and self.timeout is not None:
            # threading.Lock.acquire: ValueError("can't specify a timeout for a
            # non-blocking call"); Semaphore.acquire says it its own way.
            raise ValueError("`timeout` needs `blocking: true`: a non-blocking acquire never waits")
        if self.else_ and self.blocking and self.timeout is None:
            raise ValueError(
                "`else` runs when acquire returns False; expected `timeout` or `blocking: false`"
            )
        return self

    @property
    def can_fail(self) -> bool:
        """Whether this acquire may return False."""
        return not self.blocking or self.timeout is not None


class ReleaseStep(_Step):
    release: Name


class ReadStep(_Step):
    """``local = shared[name]``: the first half of a read-modify-write."""

    read: Name


class WriteStep(_Step):
    """``shared[name] = local + add``: the second half of a read-modify-write."""

    write: Name
    add: Annotated[StrictInt, Field(ge=MIN_INT64, le=MAX_INT64)] = 1


class _QueueWait(_Step):
    timeout: Duration | None = Field(None, json_schema_extra={"since": 2})
    """Wait at most this long, then raise ``queue.Full`` / ``queue.Empty`` (asyncio:
    ``asyncio.timeout`` around the await, which raises ``TimeoutError``)."""
    block: StrictBool = Field(True, json_schema_extra={"since": 2})
    """False: do not wait at all (``put(block=False)``, asyncio's ``put_nowait``)."""

    @property
    def waits(self) -> tuple[int | None, bool]:
        """``(timeout, block)``, as ``Queue.put`` and ``Queue.get`` take them."""
        return self.timeout, self.block

    @model_validator(mode="after")
    def _timeout_blocks(self) -> _QueueWait:
        if not self.block and self.timeout is not None:
            raise ValueError("`timeout` needs `block: true`: with `block: false` it is ignored")
        return self


class PutStep(_QueueWait):
    """``queue.put(value)``; blocks while a bounded queue is full. ``null`` is the sentinel."""

    put: Name
    value: Any = "item"


class GetStep(_QueueWait):
    """``queue.get()``; blocks while the queue is empty."""

    get: Name


class ConsumeStep(_Step):
    """``while (item := q.get()) is not None: ...``: takes items until the sentinel."""

    consume: Name
    each: tuple[Step, ...] = ()


class RepeatStep(_Step):
    """``for _ in range(N): ...``: the nested steps, N times over."""

    repeat: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    steps: tuple[Step, ...] = ()


class RaiseStep(_Step):
    """``raise ErrorType(message)``; with ``from``, ``raise ErrorType(message) from e``."""

    raise_: ErrorType = Field(alias="raise")
    message: str = ""
    from_: Name | None = Field(None, alias="from", json_schema_extra={"since": 2})
    """``raise ... from e``: the name an enclosing ``except`` bound with ``as``, which becomes
    the new exception's ``__cause__``; ``none`` is ``raise ... from None``."""
    unpicklable: StrictBool = Field(False, json_schema_extra={"since": 2})
    """The class (one of the program's own) takes a second required argument, ``def
    __init__(self, message, code)``, that ``BaseException.__reduce__`` does not keep: a
    process pool's parent cannot unpickle it, and the pool breaks."""

    @model_validator(mode="after")
    def _own_class(self) -> RaiseStep:
        if self.unpicklable and ("." in self.raise_ or hasattr(builtins, self.raise_)):
            raise ValueError(
                f"`unpicklable` needs an exception class of the program's own; "
                f"`{self.raise_}` is not one (it pickles as it is); expected a new name "
                "such as QuotaError"
            )
        return self


class PrintStep(_Step):
    """``print(text)``: two writes (the text, then the newline) that other threads can split."""

    print: str


class LogStep(_Step):
    """``logging.info(text)``: one line, written under the handler's lock, tagged by task."""

    log: str


class SubmitStep(_Step):
    """Main program only: hand the tasks to the model (all of them, or the ones named)."""

    submit: Literal["all"] | tuple[Name, ...] = "all"


class CollectStep(_Step):
    """Main program only: collect results with the program's ``collect`` pattern."""

    collect: Literal["results"] = "results"


class SetStopStep(_Step):
    """``stop.set()``: every task that checks the stop event stops at its next check."""

    set_stop: Literal[True] = True


class ShutdownStep(_Step):
    """Main program only: ``executor.shutdown(wait=..., cancel_futures=...)`` at this point;
    a later ``submit`` raises RuntimeError('cannot schedule new futures after shutdown')."""

    shutdown: Shutdown = Shutdown.model_construct()  # = Shutdown(): see _Strict


class CheckStopStep(_Step):
    """``if stop.is_set(): return``: a cooperative cancellation point in a thread."""

    check_stop: Literal[True] = True


class ExceptClause(_Strict):
    """One ``except TYPE as NAME:`` clause of a ``try`` step."""

    type: ErrorType | tuple[ErrorType, ...] | None = None
    """The exception class caught, or a list of them (``except (A, B):``); none: a bare
    ``except:``, which catches everything."""
    as_: Name | None = Field(None, alias="as")
    """``as NAME``: the exception, as ``{NAME}`` in the clause's strings and ``from: NAME``."""
    steps: tuple[Step, ...] = ()
    """The clause's body; empty is ``pass``."""

    @property
    def types(self) -> tuple[str, ...]:
        """The names caught, one or more; empty for a bare ``except:``."""
        if self.type is None:
            return ()
        return (self.type,) if isinstance(self.type, str) else self.type


class TryStep(_Step):
    """``try: ... except ...: ... else: ... finally: ...``."""

    since: ClassVar[int] = 2
    try_: tuple[Step, ...] = Field(alias="try")
    except_: tuple[ExceptClause, ...] = Field((), alias="except")
    """The clauses, tried in order: the first whose type matches handles the exception."""
    else_: tuple[Step, ...] = Field((), alias="else")
    """Runs when the ``try`` body raised nothing."""
    finally_: tuple[Step, ...] = Field((), alias="finally")
    """Runs on the way out, whatever happened."""

    @model_validator(mode="after")
    def _python_syntax(self) -> TryStep:
        if self.else_ and not self.except_:
            raise ValueError("`else` of a `try` needs an `except` clause")
        if not self.except_ and "finally_" not in self.model_fields_set:
            raise ValueError("a `try` needs an `except` or a `finally` (or both)")
        bare = [i for i, clause in enumerate(self.except_) if clause.type is None]
        if bare and bare[0] != len(self.except_) - 1:
            raise ValueError("a bare `except` (no type) must be the last clause")
        return self


class ReraiseStep(_Step):
    """Bare ``raise`` inside an ``except`` block: the exception being handled, raised again."""

    since: ClassVar[int] = 2
    reraise: Literal[True] = True


class LoopStep(_Step):
    """``while True:``; with ``times: N``, ``for attempt in range(1, N + 1):``; with ``until:
    EVENT``, ``while not EVENT.is_set():``. ``break`` and ``continue`` work inside."""

    since: ClassVar[int] = 2
    loop: tuple[Step, ...]
    times: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = None
    """Run the body this many times at most; ``{attempt}`` is the round, from 1."""
    until: Name | None = None
    """An event checked before each round: ``stop`` (the program's stop event, which
    ``set_stop`` sets) or any event declared under ``events:``."""

    @model_validator(mode="after")
    def _one_bound(self) -> LoopStep:
        if self.times is not None and self.until is not None:
            raise ValueError("a `loop` takes `times` or `until`, not both")
        return self


class BreakStep(_Step):
    """``break``: leave the innermost ``loop``, ``repeat`` or ``consume``."""

    since: ClassVar[int] = 2
    break_: Literal[True] = Field(True, alias="break")


class ContinueStep(_Step):
    """``continue``: the next round of the innermost ``loop``, ``repeat`` or ``consume``."""

    since: ClassVar[int] = 2
    continue_: Literal[True] = Field(True, alias="continue")


class ReturnStep(_Step):
    """``return VALUE`` from the task's function (its result) or from main()."""

    since: ClassVar[int] = 2
    return_: Any = Field(None, alias="return")


class WithStep(_Step):
    """``with NAME:`` around ``steps`` (a lock, an RLock or a semaphore; ``async with`` in
    asyncio): acquired on entry, released on the way out, by an exception too."""

    since: ClassVar[int] = 2
    with_: Name = Field(alias="with")
    steps: tuple[Step, ...] = ()


class TaskDoneStep(_Step):
    """``q.task_done()``: one item put on the queue is dealt with; ``join`` waits for all."""

    since: ClassVar[int] = 2
    task_done: Name


class JoinStep(_Step):
    """``q.join()`` (``await q.join()``): wait until every item put has had its
    ``task_done``."""

    since: ClassVar[int] = 2
    join: Name


class SetStep(_Step):
    """``event.set()`` (threading.Event.set, asyncio.Event.set): every waiter wakes."""

    since: ClassVar[int] = 2
    set: Name


class ClearStep(_Step):
    """``event.clear()``: later waits block again until the next ``set``."""

    since: ClassVar[int] = 2
    clear: Name


class WaitStep(_Step):
    """``NAME.wait(timeout)`` on an event or a barrier. An event's (``threading.Event.wait``;
    in asyncio ``await event.wait()``, under ``asyncio.wait_for`` with a timeout) returns
    False when it times out and runs its ``else`` steps; the steps after it follow. A
    barrier's (``threading.Barrier.wait``) raises BrokenBarrierError instead; asyncio's
    (``await barrier.wait()``) takes no timeout: under ``asyncio.wait_for``, whose
    TimeoutError runs the ``else`` steps, and the barrier does not break."""

    since: ClassVar[int] = 2
    wait: Name
    timeout: Duration | None = None
    """How long to wait at most; none: until the event is set (a barrier: its own timeout)."""
    else_: tuple[Step, ...] = Field((), alias="else")
    """``if not NAME.wait(timeout): <steps>``: what runs when the wait timed out."""


class AbortStep(_Step):
    """``barrier.abort()``: the barrier breaks; every waiter, and every later ``wait``,
    raises BrokenBarrierError until a ``reset``."""

    since: ClassVar[int] = 2
    abort: Name


class ResetStep(_Step):
    """``barrier.reset()``: back to empty; threads waiting on it raise BrokenBarrierError."""

    since: ClassVar[int] = 2
    reset: Name


class TerminateStep(_Step):
    """Main program only: ``process.terminate()`` on the ``multiprocessing.Process`` that runs
    the task named (every copy of a repeated task, or ``NAME-k`` one): SIGTERM ends the
    child where it stands, its ``finally`` never runs, its exitcode is -15."""

    since: ClassVar[int] = 2
    terminate: Name


class KillStep(_Step):
    """Main program only: ``process.kill()`` (SIGKILL) on the task's process: exitcode -9."""

    since: ClassVar[int] = 2
    kill: Name


class ExitStep(_Step):
    """``sys.exit(n)``: raises ``SystemExit(n)``; a process's exitcode (or the program's exit
    status) is n."""

    since: ClassVar[int] = 2
    exit: Annotated[StrictInt, Field(ge=0, le=255)]


class OsExitStep(_Step):
    """Main program only: ``os._exit(n)``: the process ends at once with status n; no
    ``finally``, no ``atexit`` handler, no thread is joined (they die with it)."""

    since: ClassVar[int] = 2
    os_exit: Annotated[StrictInt, Field(ge=0, le=255)]


class AddDoneCallbackStep(_Step):
    """Main program only: ``future.add_done_callback(fn)`` on the future of each copy of a
    task, where ``fn``'s body is ``steps`` (Lib/concurrent/futures/_base.py,
    ``Future.add_done_callback``). It runs in the thread that completes the future, after the
    waiters are woken (a process pool's manager thread for its futures); on a future already
    done it runs at once in the caller; an exception in it is logged and ignored."""

    since: ClassVar[int] = 2
    add_done_callback: Name
    """The task (or one copy ``NAME-k`` of a repeated task) whose future gets the callback."""
    steps: tuple[Step, ...] = ()
    """The callback's body: ``def NAME_done(future): ...``."""

    @field_validator("steps")
    @classmethod
    def _callback_steps(cls, steps: tuple[Any, ...]) -> tuple[Any, ...]:
        for step in steps:
            if isinstance(
                step, SubmitStep | CollectStep | ShutdownStep | AddDoneCallbackStep | FutureStep
            ):
                raise ValueError(f"'{step_kind(step)}' belongs in program.main, not in a callback")
            if isinstance(step, LogStep):
                raise ValueError(
                    "a callback has no task's logger; expected `print` (it may show "
                    "{thread}, the name of the thread that runs it)"
                )
        return steps


class FutureCall(StrEnum):
    """A method of ``concurrent.futures.Future`` that main may call and print."""

    CANCEL = "cancel"  # True only while pending (it then never runs), or if already cancelled
    CANCELLED = "cancelled"
    RUNNING = "running"
    DONE = "done"
    EXCEPTION = "exception"  # waits until done; the exception or None; CancelledError raised


class FutureStep(_Step):
    """Main program only: call methods of one task's future and print what each returns, a
    line each: ``print(f"slow.cancel() -> {future.cancel()}")`` (Lib/concurrent/futures/
    _base.py, ``Future``)."""

    since: ClassVar[int] = 2
    future: Name
    """One task instance (``slow``, or ``fetch-2`` of a repeated task)."""
    calls: tuple[FutureCall, ...] = (FutureCall.DONE,)
    """The methods, called in this order."""

    @field_validator("calls")
    @classmethod
    def _some_calls(cls, calls: tuple[FutureCall, ...]) -> tuple[FutureCall, ...]:
        if not calls:
            raise ValueError("no method to call; expected one or more, e.g. [running, cancel]")
        return calls


class CreateTaskStep(_Step):
    """``asyncio.create_task(NAME(), name=...)`` inside a coroutine: the task (each copy of a
    repeated task, or the one copy named) starts on the loop as a child of the coroutine
    that created it; the creator may later ``await`` or ``cancel`` it."""

    since: ClassVar[int] = 2
    create_task: TaskRef


class AwaitStep(_Step):
    """``await task`` of tasks this coroutine created (each copy in turn): their result, or
    their exception raised here. Cancelling the awaiting coroutine cancels the awaited task
    first (``Task.cancel`` passes it on to ``_fut_waiter``)."""

    since: ClassVar[int] = 2
    await_: TaskRef = Field(alias="await")


class GatherStep(_Step):
    """``await asyncio.gather(a(), b())`` inside a coroutine: the tasks start as its
    children; the first exception propagates (the others run on); cancelling the
    coroutine cancels every child."""

    since: ClassVar[int] = 2
    gather: Annotated[tuple[TaskRef, ...], Field(min_length=1)]


class TaskGroupStep(_Step):
    """``async with asyncio.TaskGroup() as tg: tg.create_task(a()) ...`` inside a coroutine:
    the first failure cancels the other children; leaving the block waits for all of them
    and raises an ExceptionGroup; a cancel of the coroutine cancels every child and then
    surfaces as its own CancelledError."""

    since: ClassVar[int] = 2
    taskgroup: Annotated[tuple[TaskRef, ...], Field(min_length=1)]
    steps: tuple[Step, ...] = ()
    """The ``async with`` body after the ``tg.create_task`` lines, run by this coroutine while
    the children run: a child that fails meanwhile cancels it at its current await
    (``_on_task_done``: ``_parent_task.cancel()``), and the group raises the ExceptionGroup."""


class CancelStep(_Step):
    """``task.cancel(msg)`` on tasks this coroutine created: CancelledError(msg) at their
    current await, or at their next one."""

    since: ClassVar[int] = 2
    cancel: TaskRef
    msg: str | None = None
    """``cancel(msg)``: the CancelledError's message, seen by the task and by who awaits it."""


class ShieldStep(_Step):
    """``await asyncio.shield(task)`` of a task this coroutine created: a cancel of the
    awaiting coroutine raises CancelledError in it at once and does not reach the task,
    which runs on."""

    since: ClassVar[int] = 2
    shield: TaskRef


class WithinStep(_Step):
    """``async with asyncio.timeout(d): <steps>`` (Lib/asyncio/timeouts.py): when ``d`` runs
    out the coroutine is cancelled; CancelledError inside the block, TimeoutError outside it,
    unless the coroutine was also cancelled from elsewhere (``uncancel()`` counts)."""

    since: ClassVar[int] = 2
    within: Duration
    steps: tuple[Step, ...] = ()


class SharedAtLeast(_Strict):
    """A predicate on a shared variable: ``shared[NAME] >= at_least``."""

    shared: Name
    at_least: Annotated[StrictInt, Field(ge=MIN_INT64, le=MAX_INT64)] = 1


class WaitForStep(_Step):
    """``cv.wait_for(lambda: NAME >= N, timeout)`` (threading.Condition.wait_for): waits,
    woken by each ``notify``, until the predicate holds; with a ``timeout``, a predicate
    still false at the timeout returns False and runs the ``else`` steps."""

    since: ClassVar[int] = 2
    wait_for: Name
    until: SharedAtLeast
    """What to wait for: ``{shared: items, at_least: 1}`` is ``lambda: items >= 1``."""
    timeout: Duration | None = None
    else_: tuple[Step, ...] = Field((), alias="else")
    """``if not cv.wait_for(...): <steps>``: what runs when the predicate was still false."""


class NotifyStep(_Step):
    """``cv.notify(n)``: wakes the first ``n`` threads waiting on the condition; the lock
    must be held (else RuntimeError('cannot notify on un-acquired lock'))."""

    since: ClassVar[int] = 2
    notify: Name
    n: Annotated[StrictInt, Field(ge=0, le=1_000_000)] = 1


class NotifyAllStep(_Step):
    """``cv.notify_all()``: wakes every thread waiting on the condition."""

    since: ClassVar[int] = 2
    notify_all: Name


class JoinProcessStep(_Step):
    """Main program only: ``process.join(timeout)`` on the ``multiprocessing.Process`` that
    runs the task named (each copy of a repeated task in turn, or ``NAME-k`` one)
    (Lib/multiprocessing/process.py, ``BaseProcess.join``). It returns when the process
    has ended or after ``timeout``, with the process still running (``is_alive()`` true,
    ``exitcode`` None): ``join`` never raises on a timeout."""

    since: ClassVar[int] = 2
    join_process: Name
    timeout: Duration | None = None
    """How long to wait at most; none: until the process has ended."""


def _parse_deadline(value: Any) -> int | None:
    """``none`` (or null) -> None, else a duration (``parse_duration``)."""
    if value is None or value == "none":
        return None
    try:
        return parse_duration(value)
    except ValueError as error:
        raise ValueError(f"{error}, or `none` for no deadline") from None


Deadline = Annotated[
    int | None,
    BeforeValidator(_parse_deadline),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN.pattern},
                {"type": "number", "minimum": 0, "maximum": MAX_DURATION_S},
                {"const": "none"},
            ],
            "description": "A duration from now (250ms, 1.5s, or a number of seconds), or "
            "`none` for no deadline.",
        }
    ),
]
"""Microseconds from now, or None: ``cm.reschedule(None)``."""


class RescheduleStep(_Step):
    """``cm.reschedule(loop.time() + d)`` inside ``async with asyncio.timeout(...) as cm:``
    (Lib/asyncio/timeouts.py, ``Timeout.reschedule``): the innermost enclosing ``within``
    block's deadline moves to ``d`` from now; ``none`` is ``cm.reschedule(None)``, no
    deadline. Once the block has expired, RuntimeError('Cannot change state of expiring
    Timeout')."""

    since: ClassVar[int] = 2
    reschedule: Deadline


STEP_KINDS: dict[str, type[_Step]] = {
    "cpu": CpuStep,
    "native": NativeStep,
    "io": IoStep,
    "sleep": SleepStep,
    "blocking": BlockingStep,
    "to_thread": ToThreadStep,
    "acquire": AcquireStep,
    "release": ReleaseStep,
    "read": ReadStep,
    "write": WriteStep,
    "put": PutStep,
    "get": GetStep,
    "consume": ConsumeStep,
    "repeat": RepeatStep,
    "raise": RaiseStep,
    "print": PrintStep,
    "log": LogStep,
    "submit": SubmitStep,
    "collect": CollectStep,
    "shutdown": ShutdownStep,
    "check_stop": CheckStopStep,
    "set_stop": SetStopStep,
    "try": TryStep,
    "reraise": ReraiseStep,
    "loop": LoopStep,
    "break": BreakStep,
    "continue": ContinueStep,
    "return": ReturnStep,
    "with": WithStep,
    "task_done": TaskDoneStep,
    "join": JoinStep,
    "set": SetStep,
    "clear": ClearStep,
    "wait": WaitStep,
    "abort": AbortStep,
    "reset": ResetStep,
    "terminate": TerminateStep,
    "kill": KillStep,
    "exit": ExitStep,
    "os_exit": OsExitStep,
    "add_done_callback": AddDoneCallbackStep,
    "future": FutureStep,
    "create_task": CreateTaskStep,
    "await": AwaitStep,
    "gather": GatherStep,
    "taskgroup": TaskGroupStep,
    "cancel": CancelStep,
    "within": WithinStep,
    "shield": ShieldStep,
    "wait_for": WaitForStep,
    "notify": NotifyStep,
    "notify_all": NotifyAllStep,
    "join_process": JoinProcessStep,
    "reschedule": RescheduleStep,
}
"""Each step is a mapping with exactly one of these keys (its kind) plus options."""
if tuple(STEP_KINDS) != STEP_KIND_NAMES:  # each kind's decisions are in kinds.py
    raise AssertionError(
        f"kinds.StepKind and STEP_KINDS differ: {set(STEP_KINDS) ^ set(STEP_KIND_NAMES)}"
    )


def kind_keys(step: dict[Any, Any]) -> list[Any]:
    """The keys of a step mapping that name a kind. A key that is also an option of another
    kind key's step is that option: ``{acquire: a, blocking: false}`` is an acquire."""
    kinds = [key for key in step if key in STEP_KINDS]
    if len(kinds) > 1:
        options = {
            name
            for kind in kinds
            for field, info in STEP_KINDS[kind].model_fields.items()
            for name in (field, info.alias)
            if name != kind
        }
        kinds = [kind for kind in kinds if kind not in options] or kinds
    return kinds


def _step_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return value if value in BARE_STEP_FORMS else None
    if isinstance(value, BaseModel):
        for kind, cls in STEP_KINDS.items():
            if type(value) is cls:
                return kind
        return None
    if isinstance(value, dict):
        kinds = kind_keys(value)
        return kinds[0] if len(kinds) == 1 else None
    return None


BARE_STEP_FORMS = {
    "submit": {"submit": "all"},
    "collect": {"collect": "results"},
    "shutdown": {"shutdown": {}},
    "check_stop": {"check_stop": True},
    "set_stop": {"set_stop": True},
    "reraise": {"reraise": True},
    "break": {"break": True},
    "continue": {"continue": True},
}


def _bare_step(value: Any) -> Any:
    if isinstance(value, str) and value in BARE_STEP_FORMS:
        return BARE_STEP_FORMS[value]
    if isinstance(value, dict):
        kinds = kind_keys(value)
        if not kinds:
            raise ValueError("a step needs exactly one kind key, one of: " + ", ".join(STEP_KINDS))
        if len(kinds) > 1:
            raise ValueError(
                f"a step has exactly one kind key, found {len(kinds)}: {', '.join(kinds)}"
            )
    elif not isinstance(value, BaseModel):
        raise ValueError(
            "a step is a mapping such as {cpu: 10ms} or one of: " + ", ".join(BARE_STEP_FORMS)
        )
    return value


Step = Annotated[
    Annotated[CpuStep, Tag("cpu")]
    | Annotated[NativeStep, Tag("native")]
    | Annotated[IoStep, Tag("io")]
    | Annotated[SleepStep, Tag("sleep")]
    | Annotated[BlockingStep, Tag("blocking")]
    | Annotated[ToThreadStep, Tag("to_thread")]
    | Annotated[AcquireStep, Tag("acquire")]
    | Annotated[ReleaseStep, Tag("release")]
    | Annotated[ReadStep, Tag("read")]
    | Annotated[WriteStep, Tag("write")]
    | Annotated[PutStep, Tag("put")]
    | Annotated[GetStep, Tag("get")]
    | Annotated[ConsumeStep, Tag("consume")]
    | Annotated[RepeatStep, Tag("repeat")]
    | Annotated[RaiseStep, Tag("raise")]
    | Annotated[PrintStep, Tag("print")]
    | Annotated[LogStep, Tag("log")]
    | Annotated[SubmitStep, Tag("submit")]
    | Annotated[CollectStep, Tag("collect")]
    | Annotated[ShutdownStep, Tag("shutdown")]
    | Annotated[CheckStopStep, Tag("check_stop")]
    | Annotated[SetStopStep, Tag("set_stop")]
    | Annotated[TryStep, Tag("try")]
    | Annotated[ReraiseStep, Tag("reraise")]
    | Annotated[LoopStep, Tag("loop")]
    | Annotated[BreakStep, Tag("break")]
    | Annotated[ContinueStep, Tag("continue")]
    | Annotated[ReturnStep, Tag("return")]
    | Annotated[WithStep, Tag("with")]
    | Annotated[TaskDoneStep, Tag("task_done")]
    | Annotated[JoinStep, Tag("join")]
    | Annotated[SetStep, Tag("set")]
    | Annotated[ClearStep, Tag("clear")]
    | Annotated[WaitStep, Tag("wait")]
    | Annotated[AbortStep, Tag("abort")]
    | Annotated[ResetStep, Tag("reset")]
    | Annotated[TerminateStep, Tag("terminate")]
    | Annotated[KillStep, Tag("kill")]
    | Annotated[ExitStep, Tag("exit")]
    | Annotated[OsExitStep, Tag("os_exit")]
    | Annotated[AddDoneCallbackStep, Tag("add_done_callback")]
    | Annotated[FutureStep, Tag("future")]
    | Annotated[CreateTaskStep, Tag("create_task")]
    | Annotated[AwaitStep, Tag("await")]
    | Annotated[GatherStep, Tag("gather")]
    | Annotated[TaskGroupStep, Tag("taskgroup")]
    | Annotated[CancelStep, Tag("cancel")]
    | Annotated[WithinStep, Tag("within")]
    | Annotated[ShieldStep, Tag("shield")]
    | Annotated[WaitForStep, Tag("wait_for")]
    | Annotated[NotifyStep, Tag("notify")]
    | Annotated[NotifyAllStep, Tag("notify_all")]
    | Annotated[JoinProcessStep, Tag("join_process")]
    | Annotated[RescheduleStep, Tag("reschedule")],
    Discriminator(_step_kind),
    BeforeValidator(_bare_step),
]

_NESTING = (
    ConsumeStep,
    RepeatStep,
    ExceptClause,
    TryStep,
    LoopStep,
    AcquireStep,
    WithStep,
    WaitStep,
    AddDoneCallbackStep,
    WithinStep,
    TaskGroupStep,
    WaitForStep,
)
"""The classes whose fields hold steps: their ``Step`` annotations are resolved by a rebuild
(``resolve_steps``), once ``Step`` exists (the loader's checks read them)."""

_resolved = False


def resolve_steps() -> None:
    """Resolve the ``Step`` annotations of the classes that hold steps, once: what reads them
    (the loader's checks, ``concsim.scenario.shapes``) imports this first.

    The steps that hold no steps are built first: each rebuild of a nesting class then takes
    their schemas as they are, instead of generating every one of them again (defer_build
    leaves them unbuilt), which made a third fewer schemas generated. Not done at import: a
    prepared scenario (``concsim.scenario.prepared``) is loaded without any schema.
    """
    global _resolved
    if _resolved:
        return
    _resolved = True
    for step in STEP_KINDS.values():
        if step not in _NESTING:
            step.model_rebuild()
    for nesting in _NESTING:
        nesting.model_rebuild()


def step_kind(step: BaseModel) -> str:
    kind = _step_kind(step)
    assert kind is not None
    return kind


_ATTRIBUTES = {"raise": "raise_", "with": "with_", "await": "await_"}
"""Step kinds that are Python keywords, and the attribute that holds them."""
MAIN_ONLY_STEPS = (
    SubmitStep,
    CollectStep,
    ShutdownStep,
    TerminateStep,
    KillStep,
    OsExitStep,
    AddDoneCallbackStep,
    FutureStep,
    JoinProcessStep,
)
"""Steps only the main program has: it holds the executor and the Process objects. Written
out for mypy (the interpreter narrows by it); ``kinds.main_only`` decides each kind."""
_DECIDED = zip(STEP_KIND_NAMES, STEP_KINDS.values(), strict=True)
if {step for kind, step in _DECIDED if main_only(kind)} != set(MAIN_ONLY_STEPS):
    raise AssertionError("MAIN_ONLY_STEPS differs from kinds.main_only")

_DURATION_KINDS = frozenset({"cpu", "native", "io", "sleep", "blocking", "to_thread", "within"})


def _loop_label(step: Any) -> str:
    if step.times is not None:
        return f"loop {step.times} times"
    return f"loop until {step.until}" if step.until else "loop"


_BLOCK_LABELS: dict[str, Any] = {
    "try": lambda step: "try",
    "reraise": lambda step: "raise",
    "break": lambda step: "break",
    "continue": lambda step: "continue",
    "loop": _loop_label,
    "return": lambda step: f"return {step.return_!r}",
    "join_process": lambda step: (
        f"{step.join_process}.join({'' if step.timeout is None else f'{step.timeout / 1e6:g}'})"
    ),
    "reschedule": lambda step: (
        "reschedule none"
        if step.reschedule is None
        else f"reschedule {format_duration(step.reschedule)}"
    ),
}


def step_label(step: BaseModel) -> str:
    """How a step is named on a lane: its ``label``, else e.g. ``io 500ms``."""
    label = getattr(step, "label", None)
    if label:
        return str(label)
    kind = step_kind(step)
    if kind in _BLOCK_LABELS:
        return str(_BLOCK_LABELS[kind](step))
    value = getattr(step, _ATTRIBUTES.get(kind, kind))
    if isinstance(value, tuple):
        value = ", ".join(value)
    if kind in _DURATION_KINDS:
        return f"{kind} {format_duration(value)}"
    if kind in BARE_STEP_FORMS:
        return kind
    return f"{kind} {value}"


# --- machine and program -----------------------------------------------------------------


class TieBreak(StrEnum):
    """How the run picks among threads that wait for the same thing at once."""

    FIFO = "fifo"  # the first to wait wins: a fixed order, a lesson's numbers exact
    SEEDED = "seeded"  # the seed picks among them, as CPython leaves it open


class Python(StrEnum):
    """The CPython a program runs on: where versions differ (docs/semantics.md, Python
    versions), the simulator follows the one named; ``t`` is a free-threaded build."""

    PY311 = "3.11"
    PY312 = "3.12"
    PY313 = "3.13"
    PY314 = "3.14"
    PY313T = "3.13t"
    PY314T = "3.14t"

    @property
    def free_threaded(self) -> bool:
        """A build without the GIL (PEP 703, ``--disable-gil``)."""
        return self.value.endswith("t")

    @property
    def at_least(self) -> tuple[int, int]:
        major, minor = self.value.rstrip("t").split(".")
        return int(major), int(minor)


class StartMethod(StrEnum):
    """How ``multiprocessing`` starts a child (``multiprocessing.set_start_method``)."""

    FORK = "fork"  # os.fork(): the child is a copy of the parent, nothing re-imported
    SPAWN = "spawn"  # a new interpreter: the main module imported again, the target pickled
    FORKSERVER = "forkserver"  # forked by a server process started once: as spawn for the program

    @property
    def process_start(self) -> int:
        """``Process.start()`` until the child's first line, in µs, measured on the
        development machine (benchmarks/start_method.py; docs/semantics.md)."""
        return START_COSTS[self]


START_COSTS = {StartMethod.FORK: 10_000, StartMethod.FORKSERVER: 40_000, StartMethod.SPAWN: 130_000}


def default_start_method(python: Python) -> StartMethod:
    """Linux's default: ``fork`` up to 3.13, ``forkserver`` from 3.14 (gh-84559)."""
    return StartMethod.FORKSERVER if python.at_least >= (3, 14) else StartMethod.FORK


def _start_cost(data: Any) -> Any:
    """A start method of its own brings its cost, unless the file set ``process_start``."""
    if not isinstance(data, dict) or "process_start" in data:
        return data
    method = data.get("start_method")
    if method is None and "python" in data:
        with contextlib.suppress(ValueError):
            method = default_start_method(Python(str(data["python"])))
    if method is None or method not in set(StartMethod):
        return data
    return {**data, "process_start": f"{StartMethod(method).process_start}us"}


def _python_gil(data: Any) -> Any:
    """A free-threaded build has no GIL unless the file says ``gil: true`` (PYTHON_GIL=1)."""
    if isinstance(data, dict) and "gil" not in data and str(data.get("python", "")).endswith("t"):
        return {**data, "gil": False}
    return data


class Machine(_Strict):
    cores: Annotated[StrictInt, Field(ge=1, le=1024)] = 4
    gil: StrictBool = True
    """False models a free-threaded build (PEP 703): threads run Python code in parallel."""
    switch_interval: Duration = 5_000
    """``sys.getswitchinterval()``: how long a waiting thread lets the GIL holder run."""
    process_start: Duration = 10_000
    """Time to start one worker process: a fork (docs/semantics.md, Measured costs)."""
    pickle_overhead: Duration = 200
    """Fixed cost of sending one work item or result to or from a worker process."""
    pickle_per_kb: Duration = 3
    """Cost of pickling, sending and unpickling one KB of arguments or results."""
    jitter: Annotated[StrictFloat, Field(ge=0, lt=1)] = 0.0
    """Each I/O wait lasts its duration times 1 ± jitter, drawn from the run's seeded RNG."""
    cpu_jitter: Annotated[StrictFloat, Field(ge=0, lt=1)] = 0.0
    """Each CPU step lasts its duration times 1 ± cpu_jitter, drawn from the run's seeded RNG:
    the same loop never takes exactly as long twice (caches, frequency, interrupts)."""
    ties: TieBreak = TieBreak.FIFO
    """Who wins when several threads wait for the GIL or a lock: the first waiter (``fifo``),
    or the one the run's seed picks (``seeded``), as CPython promises no order."""
    python: Python = Field(Python.PY311, json_schema_extra={"since": 2})
    """The CPython version: ``3.11`` (default), ``3.12``, ``3.13``, ``3.14``, or a
    free-threaded build ``3.13t`` / ``3.14t`` (no GIL unless ``gil: true``)."""
    start_method: StartMethod | None = Field(None, json_schema_extra={"since": 2})
    """``multiprocessing.set_start_method``: ``fork``, ``spawn`` or ``forkserver``; none:
    the default of ``python`` on Linux (``fork``, from 3.14 ``forkserver``)."""

    @model_validator(mode="before")
    @classmethod
    def _free_threaded(cls, data: Any) -> Any:
        return _start_cost(_python_gil(data))

    @property
    def resolved_start_method(self) -> StartMethod:
        return self.start_method or default_start_method(self.python)


class TaskFactory(StrEnum):
    """``loop.set_task_factory(...)`` as main() starts (Lib/asyncio/base_events.py)."""

    EAGER = "eager"  # asyncio.eager_task_factory (3.12+): a task starts inside create_task


class Model(StrEnum):
    SEQUENTIAL = "sequential"
    THREADS = "threads"
    PROCESSES = "processes"
    ASYNCIO = "asyncio"


class Pattern(StrEnum):
    AS_COMPLETED = "as_completed"
    MAP = "map"
    RESULT = "result"  # for f in futures: f.result(timeout)
    WAIT = "wait"
    GATHER = "gather"
    TASKGROUP = "taskgroup"
    JOIN = "join"  # raw threads / processes: t.join()
    NONE = "none"  # results never inspected


class ReturnWhen(StrEnum):
    FIRST_COMPLETED = "FIRST_COMPLETED"
    FIRST_EXCEPTION = "FIRST_EXCEPTION"
    ALL_COMPLETED = "ALL_COMPLETED"


_PATTERNS_BY_MODEL = {
    Model.SEQUENTIAL: {Pattern.MAP, Pattern.NONE},
    Model.THREADS: {
        Pattern.AS_COMPLETED,
        Pattern.MAP,
        Pattern.RESULT,
        Pattern.WAIT,
        Pattern.JOIN,
        Pattern.NONE,
    },
    Model.PROCESSES: {
        Pattern.AS_COMPLETED,
        Pattern.MAP,
        Pattern.RESULT,
        Pattern.WAIT,
        Pattern.JOIN,
        Pattern.NONE,
    },
    Model.ASYNCIO: {
        Pattern.AS_COMPLETED,
        Pattern.GATHER,
        Pattern.TASKGROUP,
        Pattern.WAIT,
        Pattern.RESULT,
        Pattern.NONE,
    },
}


def default_pattern(model: Model, executor: StrictBool = True) -> Pattern:
    """The ``collect`` a program of ``model`` gets when it names none."""
    if model is Model.SEQUENTIAL:
        return Pattern.MAP
    if model is Model.ASYNCIO:
        return Pattern.GATHER
    return Pattern.AS_COMPLETED if executor else Pattern.JOIN


class Collect(_Strict):
    """How the main program receives results."""

    pattern: Pattern = Pattern.AS_COMPLETED
    timeout: Duration | None = None
    """as_completed(timeout), map(timeout), result(timeout), wait(timeout); in asyncio
    wait_for(gather(...), timeout) or ``async with asyncio.timeout(...)`` around a TaskGroup."""
    return_when: ReturnWhen = ReturnWhen.ALL_COMPLETED
    return_exceptions: StrictBool = False
    shield: StrictBool = False
    """asyncio: await ``asyncio.shield(...)`` so cancelling the wait spares the tasks."""


def _collect_shorthand(value: Any) -> Any:
    return {"pattern": value} if isinstance(value, str) else value


class Program(_Strict):
    model: Model = Model.THREADS
    max_workers: Annotated[StrictInt, Field(ge=1, le=10_000)] | None = None
    """Default as CPython: threads min(32, cores + 4), processes cores."""
    executor: StrictBool = True
    """False: one ``threading.Thread`` / ``multiprocessing.Process`` per task, no pool."""
    context_manager: StrictBool = True
    """``with Executor() as ex:`` — leaving the block calls shutdown(wait=True)."""
    shutdown: Shutdown | None = None
    collect: Annotated[Collect, BeforeValidator(_collect_shorthand)] = Collect.model_construct()
    chunksize: Annotated[StrictInt, Field(ge=1, le=1_000_000)] = 1
    """ProcessPoolExecutor.map(chunksize=...): tasks sent to a worker per round trip."""
    main: tuple[Step, ...] = ()
    """The main program's own steps; empty means ``[submit, collect]``."""
    on_result: tuple[Step, ...] = ()
    """Steps the main program runs for each result it receives."""
    on_error: tuple[Step, ...] = ()
    """``except BaseException: <steps>; raise`` around the main steps: what the main program
    does when it raises (KeyboardInterrupt included) before the exception propagates."""
    atexit: tuple[Step, ...] = Field((), json_schema_extra={"since": 2})
    """Each step is a handler of its own, ``atexit.register``-ed in this order as main()
    starts: at a normal interpreter exit (after the non-daemon threads are joined) they run
    in reverse order, last registered first."""
    task_factory: TaskFactory | None = Field(None, json_schema_extra={"since": 2})
    """asyncio, Python 3.12+: ``eager`` sets ``asyncio.eager_task_factory`` as main() starts,
    so each task runs at once inside ``create_task`` up to its first real suspension."""
    max_tasks_per_child: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = Field(
        None, json_schema_extra={"since": 2}
    )
    """``ProcessPoolExecutor(max_tasks_per_child=N)``: each worker process exits after N
    calls and the manager thread starts another in its place; the pool then starts its
    processes with ``spawn`` (Lib/concurrent/futures/process.py, 3.11+)."""

    @model_validator(mode="before")
    @classmethod
    def _default_collect(cls, data: Any) -> Any:
        """With no ``collect``, each model collects the way its programs usually do."""
        if isinstance(data, dict) and data.get("collect") is None:
            try:
                model = Model(data.get("model", Model.THREADS))
            except ValueError:
                return data  # the model field reports it, with a did-you-mean
            pattern = default_pattern(model, data.get("executor", True) is not False)
            data = {**data, "collect": {"pattern": pattern}}
        return data

    @field_validator("on_result", "on_error", "atexit")
    @classmethod
    def _no_main_only_steps(cls, steps: tuple[Any, ...]) -> tuple[Any, ...]:
        for step in steps:
            if isinstance(step, MAIN_ONLY_STEPS):
                raise ValueError(
                    f"'{step_kind(step)}' belongs in program.main, not in a handler "
                    "(on_result, on_error, atexit)"
                )
        return steps

    @model_validator(mode="after")
    def _check_pattern(self) -> Program:
        allowed = _PATTERNS_BY_MODEL[self.model]
        if self.collect.pattern not in allowed:
            names = ", ".join(sorted(p.value for p in allowed))
            raise ValueError(
                f"collect pattern {self.collect.pattern.value!r} does not apply to model "
                f"{self.model.value!r}; expected one of: {names}"
            )
        if self.collect.pattern is Pattern.JOIN and self.executor:
            raise ValueError("collect pattern 'join' needs executor: false (plain threads)")
        collect = self.collect
        if collect.return_exceptions and collect.pattern is not Pattern.GATHER:
            raise ValueError("collect.return_exceptions applies to gather only")
        if collect.return_when is not ReturnWhen.ALL_COMPLETED and collect.pattern is not (
            Pattern.WAIT
        ):
            raise ValueError("collect.return_when applies to wait only")
        shieldable = self.model is Model.ASYNCIO and collect.pattern in (
            Pattern.GATHER,
            Pattern.RESULT,
        )
        if collect.shield and not shieldable:
            raise ValueError("collect.shield applies to asyncio with gather or result only")
        plain = self.model in (Model.THREADS, Model.PROCESSES) and not self.executor
        if plain and self.collect.pattern not in (Pattern.JOIN, Pattern.NONE):
            raise ValueError(
                "plain threads and processes (executor: false) have no futures and return "
                "nothing; expected collect join or none"
            )
        pooled = self.model in (Model.THREADS, Model.PROCESSES) and self.executor
        if not pooled and any(isinstance(step, ShutdownStep) for step in self.main):
            raise ValueError(
                "a `shutdown` step needs an executor: model threads or processes with "
                "executor: true"
            )
        if self.atexit and self.model is Model.ASYNCIO:
            raise ValueError(
                "atexit handlers are modelled for sequential, threads and processes, not asyncio"
            )
        if self.model in (Model.PROCESSES, Model.ASYNCIO) and any(
            isinstance(step, OsExitStep) for step in self.main
        ):
            raise ValueError(
                "`os_exit` is modelled for sequential and threads: child processes outlive "
                "the parent, and asyncio.run() is not unwound"
            )
        signals = [
            s for s in self.main if isinstance(s, TerminateStep | KillStep | JoinProcessStep)
        ]
        if signals and not (self.model is Model.PROCESSES and not self.executor):
            raise ValueError(
                f"a `{step_kind(signals[0])}` step needs plain processes: model processes "
                "with executor: false"
            )
        _check_callbacks(self)
        return self

    @property
    def main_steps(self) -> tuple[Any, ...]:
        if self.main:
            return self.main
        return (SubmitStep.model_construct(), CollectStep.model_construct())

    def resolved_max_workers(self, cores: int) -> int:
        if self.max_workers is not None:
            return self.max_workers
        if self.model is Model.PROCESSES:
            return cores
        return min(32, cores + 4)


def _check_callbacks(program: Program) -> None:
    """``future.add_done_callback`` needs the futures of a pool, kept in a list, and
    the task submitted before it."""
    submitted: set[str] = set()
    every = False
    for step in program.main:
        if isinstance(step, SubmitStep):
            every = every or step.submit == "all"
            submitted |= set(step.submit) if step.submit != "all" else set()
        elif isinstance(step, CollectStep):
            every = True
        elif isinstance(step, AddDoneCallbackStep | FutureStep):
            kind = step_kind(step)
            if not (program.model in (Model.THREADS, Model.PROCESSES) and program.executor):
                raise ValueError(
                    f"the `{kind}` step needs futures of a pool: model threads or "
                    "processes with executor: true"
                )
            if program.collect.pattern is Pattern.MAP:
                raise ValueError(
                    f"the `{kind}` step needs futures; collect `map` keeps none "
                    "(expected as_completed, result, wait or none)"
                )
            name = step.add_done_callback if isinstance(step, AddDoneCallbackStep) else step.future
            if not (every or name in submitted or name.rpartition("-")[0] in submitted):
                raise ValueError(
                    f"`{kind}: {name}` comes before `{name}` is submitted; expected "
                    "a `submit` of it earlier in program.main (its future exists from then on)"
                )


# --- tasks, faults, variants -------------------------------------------------------------


class Task(_Strict):
    name: Name
    repeat: Annotated[StrictInt, Field(ge=1, le=100_000)] = 1
    """Stamp out N tasks named NAME-1 .. NAME-N; ``{i}`` and ``{name}`` fill ``returns``."""
    steps: tuple[Step, ...] = ()
    cleanup: tuple[Step, ...] = ()
    """What the task's ``finally`` block does."""
    catches: tuple[ErrorType, ...] = ()
    """``except (A, B): pass`` around the steps: these exceptions are swallowed and the task
    returns normally (``CancelledError`` here is the classic asyncio anti-pattern)."""
    returns: Any = None
    """The return value; a string may use ``{name}`` and ``{i}``. Default: ``"NAME done"``."""
    picklable: Annotated[StrictBool | Unpicklable, BeforeValidator(_picklable)] = True
    """False (or ``nested``): a function defined inside main(); ``lambda``: a lambda inside
    main(); ``module-lambda``: a lambda at module level. A process pool cannot send any."""
    unpicklable_arg: Unsendable | None = Field(None, json_schema_extra={"since": 2})
    """Main passes the function one more argument that pickle refuses (``lock``: a
    ``threading.Lock()``, ``lambda``: a lambda made in main(), ``generator``); a process
    pool's queue feeder thread fails to send the call and the future gets the error."""
    unpicklable_result: Unsendable | None = Field(None, json_schema_extra={"since": 2})
    """The function returns a value pickle refuses instead of ``returns``: the worker cannot
    send it back, and the future gets the pickling error; the pool goes on."""
    arg_kb: Annotated[StrictFloat, Field(ge=0, le=MAX_KB)] = 0.0
    result_kb: Annotated[StrictFloat, Field(ge=0, le=MAX_KB)] = 0.0
    daemon: StrictBool = False
    """Plain threads only: a daemon thread is stopped abruptly at interpreter exit."""
    timeout: Duration | None = None
    """asyncio: the main program awaits this task with ``asyncio.wait_for(..., timeout)``."""

    @field_validator("steps", "cleanup")
    @classmethod
    def _no_main_steps(cls, steps: tuple[Any, ...]) -> tuple[Any, ...]:
        for step in steps:
            if isinstance(step, MAIN_ONLY_STEPS):
                raise ValueError(
                    f"'{step_kind(step)}' is a step of the main program (program.main), "
                    "not of a task"
                )
        return steps

    @property
    def unpicklable(self) -> Unpicklable | None:
        """How the function is defined if a process pool cannot pickle it, else None."""
        match self.picklable:
            case True:
                return None
            case False:
                return Unpicklable.NESTED
            case Unpicklable() as how:
                return how


class Unpicklable(StrEnum):
    """How a task's function is defined when a process pool cannot pickle it."""

    NESTED = "nested"  # def NAME(): ... inside main()
    LAMBDA = "lambda"  # NAME = lambda: ... inside main()
    MODULE_LAMBDA = "module-lambda"  # NAME = lambda: ... at module level


class Unsendable(StrEnum):
    """A value pickle refuses (Modules/_pickle.c): passed to a task or returned by one."""

    LOCK = "lock"  # threading.Lock(): TypeError: cannot pickle '_thread.lock' object
    LAMBDA = "lambda"  # AttributeError: Can't pickle local object 'FN.<locals>.<lambda>'
    GENERATOR = "generator"  # TypeError: cannot pickle 'generator' object


def _picklable(value: Any) -> Any:
    """One message for a value that is neither a boolean nor an Unpicklable."""
    if isinstance(value, bool) or (isinstance(value, str) and value in set(Unpicklable)):
        return value
    raise ValueError(f"expected true, false, `nested`, `lambda` or `module-lambda`, got {value!r}")


class FaultKind(StrEnum):
    FAIL = "fail"
    TIMEOUT = "timeout"
    CANCEL = "cancel"
    KILL = "kill"
    INTERRUPT = "interrupt"
    HANG = "hang"


class When(_Strict):
    task: Name
    step: Annotated[StrictInt, Field(ge=0, le=1_000_000)]
    """Index (from 0) of the step; the fault lands as the task starts it."""


class Fault(_Strict):
    fault: FaultKind
    target: Name = "main"
    """A task name, a lane id (``process-2``) or ``main``."""
    at: Duration | None = None
    when: When | None = None
    error: ErrorType = "RuntimeError"
    """For ``fail``: the exception type raised."""

    @model_validator(mode="after")
    def _one_trigger(self) -> Fault:
        if (self.at is None) == (self.when is None):
            raise ValueError("a fault needs exactly one of 'at' (a time) or 'when' (a step)")
        return self


class MachinePatch(_Strict):
    cores: Annotated[StrictInt, Field(ge=1, le=1024)] | None = None
    gil: StrictBool | None = None
    switch_interval: Duration | None = None
    process_start: Duration | None = None
    pickle_overhead: Duration | None = None
    pickle_per_kb: Duration | None = None
    jitter: Annotated[StrictFloat, Field(ge=0, lt=1)] | None = None
    cpu_jitter: Annotated[StrictFloat, Field(ge=0, lt=1)] | None = None
    ties: TieBreak | None = None
    python: Python | None = Field(None, json_schema_extra={"since": 2})
    start_method: StartMethod | None = Field(None, json_schema_extra={"since": 2})


class ProgramPatch(_Strict):
    model: Model | None = None
    max_workers: Annotated[StrictInt, Field(ge=1, le=10_000)] | None = None
    executor: StrictBool | None = None
    context_manager: StrictBool | None = None
    shutdown: Shutdown | None = None
    collect: Annotated[Collect, BeforeValidator(_collect_shorthand)] | None = None
    chunksize: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = None
    main: tuple[Step, ...] | None = None
    on_result: tuple[Step, ...] | None = None
    on_error: tuple[Step, ...] | None = None
    atexit: tuple[Step, ...] | None = Field(None, json_schema_extra={"since": 2})
    task_factory: TaskFactory | None = Field(None, json_schema_extra={"since": 2})
    max_tasks_per_child: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = Field(
        None, json_schema_extra={"since": 2}
    )


class Variant(_Strict):
    """The same workload under other settings, e.g. ``{name: processes, program: {model:
    processes}}``: fields given here replace the scenario's."""

    name: Name
    summary: str = ""
    notes: str = Field("", json_schema_extra={"since": 2})
    """Markdown the notes panel shows above the scenario's notes while this variant runs:
    what this variant changes in the story."""
    machine: MachinePatch = MachinePatch.model_construct()
    program: ProgramPatch = ProgramPatch.model_construct()
    tasks: tuple[Task, ...] | None = None
    """If given, replaces the scenario's tasks (e.g. the same work with a lock)."""
    expect: tuple[_expect.Expectation, ...] | None = None
    """If given, replaces the scenario's expected outcomes for this variant (``[]``: none)."""

    @field_validator("name")
    @classmethod
    def _not_default(cls, name: str) -> str:
        if name == "default":
            raise ValueError("`default` names the scenario as written; choose another name")
        return name


class QueueSpec(_Strict):
    maxsize: Annotated[StrictInt, Field(ge=0, le=1_000_000_000)] = 0


class LockSpec(_Strict):
    """A declared lock: ``threading.Lock()``, or ``threading.RLock()`` if reentrant."""

    reentrant: StrictBool = False
    """``threading.RLock``: its owner may acquire it again; each acquire needs a release."""


class SemaphoreSpec(_Strict):
    """``threading.Semaphore(value)`` or ``BoundedSemaphore(value)`` (asyncio's in asyncio)."""

    value: Annotated[StrictInt, Field(ge=0, le=1_000_000)] = 1
    """How many may hold it at once."""
    bounded: StrictBool = False
    """A BoundedSemaphore: a release above ``value`` raises ValueError."""


class EventSpec(_Strict):
    """A ``threading.Event()`` (``asyncio.Event()`` in asyncio): starts cleared."""


class BarrierSpec(_Strict):
    """A ``threading.Barrier(parties, timeout=..., action=...)``; in asyncio an
    ``asyncio.Barrier(parties)``, which has neither a timeout nor an action."""

    parties: Annotated[StrictInt, Field(ge=1, le=100_000)]
    """How many threads must call ``wait`` before all of them pass."""
    timeout: Duration | None = None
    """The default timeout of each ``wait``; none: wait for ever."""
    action: tuple[Step, ...] = ()
    """``Barrier(parties, action=fn)``: ``fn``'s steps, run by the last thread to arrive
    before any is released; an exception in them breaks the barrier."""


class ConditionSpec(_Strict):
    """A ``threading.Condition(lock)`` (``asyncio.Condition(lock)`` in asyncio):
    ``acquire``/``release`` of its name take its lock."""

    lock: Name | None = None
    """The lock it uses (a lock the steps acquire by name); none: a lock of its own."""


class Scenario(_Strict):
    version: Literal[1, 2] = 1
    """The format version: 1, or 2 for a file that uses a construct added in version 2."""
    name: Name
    summary: str = ""
    topic: str = "other"
    """Where ``concsim list`` groups it: models, shared-state, asyncio, failure, ..."""
    order: Annotated[StrictInt, Field(ge=-1_000_000_000, le=1_000_000_000)] = 100
    """Position within its topic, in learning order."""
    notes: str = ""
    """Markdown teaching text: what you are looking at, what to notice, try this."""
    seed: Annotated[StrictInt, Field(ge=0, le=MAX_SEED)] = 0
    machine: Machine = Machine.model_construct()
    # = Program(), whose validator sets the default collect's pattern
    program: Program = Program.model_construct(
        _fields_set={"collect"}, collect=Collect.model_construct(_fields_set={"pattern"})
    )
    tasks: tuple[Task, ...] = ()
    shared: dict[Name, Annotated[StrictInt, Field(ge=MIN_INT64, le=MAX_INT64)]] = {}
    queues: dict[Name, QueueSpec] = {}
    locks: dict[Name, LockSpec] = Field({}, json_schema_extra={"since": 2})
    """Locks declared with options; a lock named only by its steps is a ``threading.Lock``."""
    semaphores: dict[Name, SemaphoreSpec] = Field({}, json_schema_extra={"since": 2})
    events: dict[Name, EventSpec] = Field({}, json_schema_extra={"since": 2})
    """The program's events, each ``{}``: ``stop = threading.Event()``."""
    barriers: dict[Name, BarrierSpec] = Field({}, json_schema_extra={"since": 2})
    """The program's barriers: ``gate: {parties: 3, timeout: 1s}``."""
    conditions: dict[Name, ConditionSpec] = Field({}, json_schema_extra={"since": 2})
    """The program's conditions: ``cv: {}`` or ``cv: {lock: a}``."""
    variants: tuple[Variant, ...] = ()
    faults: tuple[Fault, ...] = ()
    expect: tuple[_expect.Expectation, ...] = ()
    """Expected outcomes, each graded acceptable, interesting or forbidden."""

    @field_validator("tasks")
    @classmethod
    def _unique_names(cls, tasks: tuple[Task, ...]) -> tuple[Task, ...]:
        seen: set[str] = set()
        for task in tasks:
            if task.name in seen or task.name == "main":
                raise ValueError(f"task name {task.name!r} is used twice or is reserved")
            seen.add(task.name)
        return tasks

    def variant(self, name: str | None) -> Scenario:
        """This scenario with one variant's settings applied (``None``: as written)."""
        if name is None:
            return self
        prepared = _APPLIED.get(id(self))
        if prepared is not None and prepared[0] is self and name in prepared[1]:
            return prepared[1][name]
        for variant in self.variants:
            if variant.name == name:
                patched = variant.machine.model_dump(exclude_none=True, exclude_unset=True)
                was = self.machine
                # a python of its own brings its build's GIL, unless the file set the GIL
                if (
                    "python" in patched
                    and "gil" not in patched
                    and was.gil is not (was.python.free_threaded)
                ):
                    patched["gil"] = not Python(patched["python"]).free_threaded
                machine = self.machine.model_copy(update=patched)
                if (  # a start method of its own brings its cost, as in a file
                    "process_start" not in patched
                    and machine.resolved_start_method is not was.resolved_start_method
                    and was.process_start == was.resolved_start_method.process_start
                ):
                    cost = machine.resolved_start_method.process_start
                    machine = machine.model_copy(update={"process_start": cost})
                patch = {
                    key: getattr(variant.program, key)
                    for key in variant.program.model_fields_set
                    if getattr(variant.program, key) is not None
                }
                base = _shallow(self.program)
                default = default_pattern(self.program.model, self.program.executor)
                if "collect" not in patch and base["collect"] == Collect(pattern=default):
                    del base["collect"]  # a default collect follows the variant's model
                program = Program.model_validate({**base, **patch})
                update: dict[str, Any] = {"machine": machine, "program": program}
                if variant.tasks is not None:
                    update["tasks"] = variant.tasks
                if variant.expect is not None:
                    update["expect"] = variant.expect
                return self.model_copy(update=update)
        known = ", ".join(v.name for v in self.variants) or "none"
        raise KeyError(f"no variant {name!r} in {self.name} (variants: {known})")

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variants)


_APPLIED: dict[int, tuple[Scenario, dict[str, Scenario]]] = {}
"""Variants applied ahead of time, by the scenario they apply to (each kept alive here, so
its id names no other), for the last ``_APPLIED_KEPT`` scenarios: applying one validates a
``Program``, which a scenario loaded by ``concsim.scenario.prepared`` does without. A
scenario forgotten here applies its variants as any other does."""

_APPLIED_KEPT = 128


def remember_variants(scenario: Scenario, applied: dict[str, Scenario]) -> None:
    """Let ``scenario.variant(name)`` answer with ``applied[name]``, which it equals."""
    _APPLIED[id(scenario)] = (scenario, applied)
    while len(_APPLIED) > _APPLIED_KEPT:
        del _APPLIED[next(iter(_APPLIED))]


def _shallow(model: BaseModel) -> dict[str, Any]:
    return {key: getattr(model, key) for key in type(model).model_fields}


# The expectations build on this module's types (durations, names), so they live in a module
# that imports this one. Imported here, at the end, as a module: whichever of the two is
# imported first, the annotations above (strings, resolved when a model is first used) find it.
import concsim.scenario.expect as _expect  # noqa: E402
