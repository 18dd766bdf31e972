"""What each line of a generated program stands for: the map a live tracer reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class SiteKind(StrEnum):
    """What a line does. Step kinds are named as in the scenario format; the rest are the
    main program's structure and a task function's ``try`` statement."""

    CPU = "cpu"
    NATIVE = "native"
    IO = "io"
    SLEEP = "sleep"
    BLOCKING = "blocking"
    TO_THREAD = "to_thread"
    ACQUIRE = "acquire"
    RELEASE = "release"
    READ = "read"
    WRITE = "write"
    PUT = "put"
    GET = "get"
    CONSUME = "consume"
    REPEAT = "repeat"
    RAISE = "raise"
    PRINT = "print"
    LOG = "log"
    CHECK_STOP = "check_stop"
    SET_STOP = "set_stop"
    CREATE_TASK = "create_task"
    AWAIT = "await"
    GATHER = "gather"
    TASKGROUP = "taskgroup"
    CANCEL = "cancel"
    WITHIN = "within"
    SHIELD = "shield"
    SUBMIT = "submit"
    """Tasks handed over: ``executor.submit``, ``executor.map(...)``, ``thread.start()``,
    ``asyncio.create_task``."""
    COLLECT = "collect"
    """Main waits for results: ``as_completed``, ``for result in outputs``, ``await
    asyncio.gather(...)`` (which also creates its tasks), ``async with TaskGroup``, ``join``."""
    RESULT = "result"
    """Main receives one result: ``results.append(future.result())``."""
    SHUTDOWN = "shutdown"
    EXECUTOR = "executor"
    """``with ThreadPoolExecutor(...) as executor:``; leaving the block is shutdown(wait=True)."""
    RETURN = "return"
    CLEANUP = "cleanup"
    """A task's ``finally:``; its cleanup steps follow, each on its own line."""
    CATCH = "catch"
    """A task's ``except (...):`` (the scenario's ``catches``)."""
    ON_ERROR = "on_error"
    """Main's ``except BaseException:`` (``program.on_error``); its steps follow."""
    TRY = "try"
    """A ``try:`` step; its clauses and their steps follow."""
    RERAISE = "reraise"
    LOOP = "loop"
    BREAK = "break"
    CONTINUE = "continue"
    WITH = "with"
    """``with NAME:`` (``async with``); its steps follow, indented."""
    TASK_DONE = "task_done"
    JOIN = "join"
    """``q.join()``: waits until every item put has had its ``task_done``."""
    SET = "set"
    CLEAR = "clear"
    WAIT = "wait"
    """``NAME.wait(timeout)``; with ``else`` steps, ``if not NAME.wait(timeout):``."""
    ABORT = "abort"
    RESET = "reset"
    TERMINATE = "terminate"
    """``processes[k].terminate()``: SIGTERM to a plain process."""
    KILL = "kill"
    """``processes[k].kill()``: SIGKILL to a plain process."""
    EXIT = "exit"
    """``sys.exit(n)``."""
    OS_EXIT = "os_exit"
    """``os._exit(n)``."""
    ADD_DONE_CALLBACK = "add_done_callback"
    """``future.add_done_callback(fn)`` in main; ``fn`` is defined at the top of main()."""
    FUTURE = "future"
    """``print(f"NAME.cancel() -> {futures[k].cancel()}")``: main calls a Future's methods."""
    WAIT_FOR = "wait_for"
    NOTIFY = "notify"
    NOTIFY_ALL = "notify_all"
    JOIN_PROCESS = "join_process"
    """``processes[k].join(timeout)``: main waits for a plain process, at most ``timeout``."""
    RESCHEDULE = "reschedule"
    """``cm.reschedule(...)`` of the ``async with asyncio.timeout(...) as cm:`` around it."""


Path = tuple[str | int, ...]
"""Where a step is in the scenario: ``("steps", 0)``, ``("steps", 1, "each", 0)``,
``("main", 2)``; ``()`` for a structural line."""


@dataclass(frozen=True, slots=True)
class Site:
    """One line of the program: whose it is and which step it stands for."""

    owner: str
    """``main`` or the scenario task's name (one function serves every copy of a task)."""
    kind: SiteKind
    label: str
    path: Path = ()


@dataclass(frozen=True, slots=True)
class TaskSite:
    """How to recognise one task instance (``request-3``) in the running program."""

    spec: str
    """The scenario task's name (``request``)."""
    function: str
    """The name of its ``def`` in the source."""
    index: int | None
    """The function's ``i`` argument for this copy; ``None`` when it takes none."""
    nested: bool = False
    """Defined inside ``main()`` (``picklable: false``) rather than at the top level."""


@dataclass(frozen=True, slots=True)
class Program:
    """A scenario as the Python program it stands for."""

    source: str
    """The program, runnable as is with ``python``."""
    sites: Mapping[int, Site]
    """1-based line number -> what that line stands for."""
    tasks: Mapping[str, TaskSite]
    """Task instance name -> its function and copy number."""
    helpers: frozenset[str] = frozenset()
    """Top-level helpers a tracer should not step into (``spin``, ``crunch``, ``call``)."""
    stop_event: str | None = None
    """The module-level ``threading.Event`` that ``check_stop`` reads, if any."""
    shared: Mapping[str, str] = field(default_factory=dict)
    """Scenario shared variable -> its module-level global in the program."""
    actions: frozenset[str] = frozenset()
    """Barrier actions: functions that run inside whichever task trips the barrier."""
