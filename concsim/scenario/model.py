"""The scenario format, versions 1 and 2 (concsim.scenario.versions): validated, frozen
models of a scenario file.

Durations are held as integer microseconds (the engine's clock unit) and read from YAML
as ``250ms``, ``1.5s``, ``20us`` or a bare number of seconds (concsim.durations).
"""

from __future__ import annotations

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


class _Strict(BaseModel):
    # defer_build: a validator is built when a class is first used, not for each of the ~35
    # classes at import; loading a scenario needs few of them (import + load: 177 -> 152 ms).
    # The docstring under a field is its description, in the JSON Schema too (shown on hover
    # in editors): pydantic reads it from the class's source.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        defer_build=True,
        use_attribute_docstrings=True,
    )


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
    acquire: Name


class ReleaseStep(_Step):
    release: Name


class ReadStep(_Step):
    """``local = shared[name]``: the first half of a read-modify-write."""

    read: Name


class WriteStep(_Step):
    """``shared[name] = local + add``: the second half of a read-modify-write."""

    write: Name
    add: Annotated[StrictInt, Field(ge=MIN_INT64, le=MAX_INT64)] = 1


class PutStep(_Step):
    """``queue.put(value)``; blocks while a bounded queue is full. ``null`` is the sentinel."""

    put: Name
    value: Any = "item"


class GetStep(_Step):
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
    """``raise ErrorType(message)``."""

    raise_: ErrorType = Field(alias="raise")
    message: str = ""


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

    shutdown: Shutdown = Shutdown()


class CheckStopStep(_Step):
    """``if stop.is_set(): return``: a cooperative cancellation point in a thread."""

    check_stop: Literal[True] = True


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
    barrier's (``threading.Barrier.wait``) raises BrokenBarrierError instead."""

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
    "set": SetStep,
    "clear": ClearStep,
    "wait": WaitStep,
    "abort": AbortStep,
    "reset": ResetStep,
    "wait_for": WaitForStep,
    "notify": NotifyStep,
    "notify_all": NotifyAllStep,
}
"""Each step is a mapping with exactly one of these keys (its kind) plus options."""


def _step_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return value if value in BARE_STEP_FORMS else None
    if isinstance(value, BaseModel):
        for kind, cls in STEP_KINDS.items():
            if type(value) is cls:
                return kind
        return None
    if isinstance(value, dict):
        kinds = [key for key in value if key in STEP_KINDS]
        return kinds[0] if len(kinds) == 1 else None
    return None


BARE_STEP_FORMS = {
    "submit": {"submit": "all"},
    "collect": {"collect": "results"},
    "shutdown": {"shutdown": {}},
    "check_stop": {"check_stop": True},
    "set_stop": {"set_stop": True},
}


def _bare_step(value: Any) -> Any:
    if isinstance(value, str) and value in BARE_STEP_FORMS:
        return BARE_STEP_FORMS[value]
    if isinstance(value, dict):
        kinds = [key for key in value if key in STEP_KINDS]
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
    | Annotated[SetStep, Tag("set")]
    | Annotated[ClearStep, Tag("clear")]
    | Annotated[WaitStep, Tag("wait")]
    | Annotated[AbortStep, Tag("abort")]
    | Annotated[ResetStep, Tag("reset")]
    | Annotated[WaitForStep, Tag("wait_for")]
    | Annotated[NotifyStep, Tag("notify")]
    | Annotated[NotifyAllStep, Tag("notify_all")],
    Discriminator(_step_kind),
    BeforeValidator(_bare_step),
]

ConsumeStep.model_rebuild()
RepeatStep.model_rebuild()
WaitStep.model_rebuild()
WaitForStep.model_rebuild()


def step_kind(step: BaseModel) -> str:
    kind = _step_kind(step)
    assert kind is not None
    return kind


_DURATION_KINDS = frozenset({"cpu", "native", "io", "sleep", "blocking", "to_thread"})


def step_label(step: BaseModel) -> str:
    """How a step is named on a lane: its ``label``, else e.g. ``io 500ms``."""
    label = getattr(step, "label", None)
    if label:
        return str(label)
    kind = step_kind(step)
    value = getattr(step, "raise_" if kind == "raise" else kind)
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
    collect: Annotated[Collect, BeforeValidator(_collect_shorthand)] = Collect()
    chunksize: Annotated[StrictInt, Field(ge=1, le=1_000_000)] = 1
    """ProcessPoolExecutor.map(chunksize=...): tasks sent to a worker per round trip."""
    main: tuple[Step, ...] = ()
    """The main program's own steps; empty means ``[submit, collect]``."""
    on_result: tuple[Step, ...] = ()
    """Steps the main program runs for each result it receives."""
    on_error: tuple[Step, ...] = ()
    """``except BaseException: <steps>; raise`` around the main steps: what the main program
    does when it raises (KeyboardInterrupt included) before the exception propagates."""

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

    @field_validator("on_result", "on_error")
    @classmethod
    def _no_main_only_steps(cls, steps: tuple[Any, ...]) -> tuple[Any, ...]:
        for step in steps:
            if isinstance(step, SubmitStep | CollectStep | ShutdownStep):
                raise ValueError(
                    f"'{step_kind(step)}' belongs in program.main, not in a handler "
                    "(on_result, on_error)"
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
        return self

    @property
    def main_steps(self) -> tuple[Any, ...]:
        if self.main:
            return self.main
        return (SubmitStep(), CollectStep())

    def resolved_max_workers(self, cores: int) -> int:
        if self.max_workers is not None:
            return self.max_workers
        if self.model is Model.PROCESSES:
            return cores
        return min(32, cores + 4)


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
            if isinstance(step, SubmitStep | CollectStep | ShutdownStep):
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


class Variant(_Strict):
    """The same workload under other settings, e.g. ``{name: processes, program: {model:
    processes}}``: fields given here replace the scenario's."""

    name: Name
    summary: str = ""
    machine: MachinePatch = MachinePatch()
    program: ProgramPatch = ProgramPatch()
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


class EventSpec(_Strict):
    """A ``threading.Event()`` (``asyncio.Event()`` in asyncio): starts cleared."""


class BarrierSpec(_Strict):
    """A ``threading.Barrier(parties, timeout=...)``."""

    parties: Annotated[StrictInt, Field(ge=1, le=100_000)]
    """How many threads must call ``wait`` before all of them pass."""
    timeout: Duration | None = None
    """The default timeout of each ``wait``; none: wait for ever."""


class ConditionSpec(_Strict):
    """A ``threading.Condition(lock)``: ``acquire``/``release`` of its name take its lock."""

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
    machine: Machine = Machine()
    program: Program = Program()
    tasks: tuple[Task, ...] = ()
    shared: dict[Name, Annotated[StrictInt, Field(ge=MIN_INT64, le=MAX_INT64)]] = {}
    queues: dict[Name, QueueSpec] = {}
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
        for variant in self.variants:
            if variant.name == name:
                machine = self.machine.model_copy(
                    update=variant.machine.model_dump(exclude_none=True, exclude_unset=True)
                )
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


def _shallow(model: BaseModel) -> dict[str, Any]:
    return {key: getattr(model, key) for key in type(model).model_fields}


# The expectations build on this module's types (durations, names), so they live in a module
# that imports this one. Imported here, at the end, as a module: whichever of the two is
# imported first, the annotations above (strings, resolved when a model is first used) find it.
import concsim.scenario.expect as _expect  # noqa: E402
