"""Scenario steps as lines of Python, one line per step with its label as a comment."""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, assert_never

from concsim.scenario import model as m

from .children import write_tree_step
from .names import literal, seconds
from .sites import Path, SiteKind
from .timeouts import write_reschedule, write_within
from .writer import Writer


@dataclass
class Resources:
    """Module-level names the steps use: shared variables, locks, queues, the stop event."""

    model: m.Model
    shared: dict[str, str] = field(default_factory=dict)  # scenario name -> global
    locks: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # custom exception classes
    stop: str | None = None
    events: dict[str, str] = field(default_factory=dict)
    barriers: dict[str, str] = field(default_factory=dict)
    conditions: dict[str, str] = field(default_factory=dict)
    uses_call: bool = False  # ``executor.map(call, [...])`` needs the ``call`` helper
    fills: bool = False  # version 2: strings a step writes fill ``{i}``, ``{name}``, ``{e}``
    taken: set[str] = field(default_factory=set)
    functions: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Each task's function and copy count, for the steps that create tasks."""
    unpicklable: set[str] = field(default_factory=set)
    """Exception classes defined with ``__init__(self, message, code)``: not unpicklable."""
    main_made: list[str] = field(default_factory=list)
    """Lines that make the primitives main passes to spawned processes (passed.py)."""
    pool_shared: tuple[str, ...] = ()
    """The primitives a process pool's initializer gives each worker (passed.py)."""
    initializer: str = ""
    """The pool's initializer function, when it has primitives to give."""

    @property
    def is_async(self) -> bool:
        return self.model is m.Model.ASYNCIO


@dataclass
class Frame:
    """What the steps of one function need to know about it."""

    owner: str  # "main" or the scenario task's name
    is_async: bool
    log_name: str  # an expression: the logger's name (the task instance's name)
    handled: str | None = None  # the list a consume loop appends to, if the task returns it
    exit_value: str = ""  # what ``return`` returns at a check_stop (main: "results")
    read: set[str] = field(default_factory=set)  # shared names read so far in this function
    main_step: Callable[[Any, Path], None] | None = None  # main's submit/collect/shutdown
    fills: bool = False  # version 2: ``{i}``, ``{name}``, ``{e}`` in strings are f-string fields
    copy: str | None = None  # ``{i}`` as source: ``i`` for copies of a task, ``1`` for one
    name_text: str | None = None  # ``{name}`` as f-string text: ``fetch`` or ``fetch-{i}``
    bound: list[str] = field(default_factory=list)  # names bound here: ``as e``, ``attempt``
    timeouts: list[str | None] = field(default_factory=list)  # enclosing ``within`` blocks' cm


def error_expr(name: str, writer: Writer, res: Resources) -> str:
    """The exception class for ``raise: NAME``: a builtin, ``module.Name``, or one of ours."""
    if "." in name:
        writer.need(name.split(".")[0])
        return name
    if name == "CancelledError" and res.is_async:
        return "asyncio.CancelledError"  # asyncio's own, a BaseException since 3.8
    if name == "BrokenBarrierError":  # asyncio's is its own class, not threading's
        module = "asyncio" if res.is_async else "threading"
        writer.need(module)
        return f"{module}.{name}"
    if isinstance(getattr(builtins, name, None), type):
        return name
    res.errors.setdefault(name, name)
    return name


def raise_argument(error: str, message: str) -> str:
    """The argument that makes CPython print ``error: message``. ``KeyError`` prints the
    ``repr`` of its argument, so ``'customer_id'`` is raised as ``KeyError("customer_id")``."""
    if not message:
        return ""
    if (
        error == "KeyError"
        and len(message) >= 2
        and message[0] == message[-1]
        and message[0] in "'\""
    ):
        try:
            value = ast.literal_eval(message)
        except (SyntaxError, ValueError):
            return literal(message)
        if repr(value) == message:
            return literal(value)
    return literal(message)


_FIELD = re.compile(r"(\{[A-Za-z_][A-Za-z0-9_]*\})")


def text_expr(frame: Frame, text: str) -> str:
    """A string a step writes, as the simulator fills it (``flow.Flow.fill``): an f-string
    when it names ``{i}``, ``{name}`` or a name bound around it, else a plain literal."""
    if not frame.fills or "{" not in text:
        return literal(text)
    plain: list[str] = []  # the text, for a literal
    source: list[str] = []  # the f-string's text
    fields = False
    for part in _FIELD.split(text):
        key = part[1:-1] if _FIELD.fullmatch(part) else None
        if key is not None and key in frame.bound:
            source.append(part)
            fields = True
        elif key == "i" and frame.copy is not None:
            plain.append(frame.copy)
            source.append("{i}" if frame.copy == "i" else frame.copy)
            fields = fields or frame.copy == "i"
        elif key == "name" and frame.name_text is not None:
            source.append(frame.name_text)
            fields = fields or "{i}" in frame.name_text
            plain.append(frame.name_text)
        else:
            plain.append(part)
            source.append(_escaped(part))
    if not fields:
        return literal("".join(plain))
    return 'f"' + "".join(source) + '"'


def _escaped(text: str) -> str:
    """Text inside an f-string's double quotes."""
    return literal(text)[1:-1].replace('"', '\\"').replace("{", "{{").replace("}", "}}")


def tmp_name(res: Resources, name: str) -> str:
    return "tmp" if len(res.shared) <= 1 else f"tmp_{res.shared[name]}"


def write_steps(w: Writer, res: Resources, frame: Frame, steps: Sequence[Any], path: Path) -> None:
    for index, step in enumerate(steps):
        write_step(w, res, frame, step, (*path, index))


def write_step(w: Writer, res: Resources, frame: Frame, step: Any, path: Path) -> None:
    """One step as one line (a loop or ``if`` opens a block: the site is its first line)."""
    kind = SiteKind(m.step_kind(step))
    label = m.step_label(step)
    comment = step.label if step.label else None

    def line(code: str) -> None:
        w.line(code, owner=frame.owner, kind=kind, label=label, path=path, comment=comment)

    aw = "await " if frame.is_async else ""
    match kind:
        case SiteKind.CPU:
            line(f"spin({seconds(step.cpu)})")
        case SiteKind.NATIVE:
            line(f"crunch({seconds(step.native)})")
        case SiteKind.IO | SiteKind.SLEEP:
            duration = step.io if kind is SiteKind.IO else step.sleep
            if frame.is_async:
                line(f"await asyncio.sleep({seconds(duration)})")
            else:
                line(f"time.sleep({seconds(duration)})")
        case SiteKind.BLOCKING:
            line(f"time.sleep({seconds(step.blocking)})")
        case SiteKind.TO_THREAD:
            if frame.is_async:
                line(f"await asyncio.to_thread(time.sleep, {seconds(step.to_thread)})")
            else:
                line(f"time.sleep({seconds(step.to_thread)})")
        case SiteKind.ACQUIRE:
            write_acquire(w, res, frame, step, path, line)
        case SiteKind.RELEASE:
            line(f"{res.locks[step.release]}.release()")
        case SiteKind.READ:
            frame.read.add(step.read)
            line(f"{tmp_name(res, step.read)} = {res.shared[step.read]}")
        case SiteKind.WRITE:
            target = res.shared[step.write]
            if step.write in frame.read:
                line(f"{target} = {tmp_name(res, step.write)} + {step.add}")
            else:
                line(f"{target} += {step.add}")
        case SiteKind.PUT:
            value = text_expr(frame, step.value) if isinstance(step.value, str) else None
            write_queue_call(
                w, frame, step, f"{res.queues[step.put]}.put", value or literal(step.value), line
            )
        case SiteKind.GET:
            write_queue_call(w, frame, step, f"{res.queues[step.get]}.get", "", line)
        case SiteKind.CONSUME:
            if frame.handled is None:
                line(f"while {aw}{res.queues[step.consume]}.get() is not None:")
            else:
                line(f"while (item := {aw}{res.queues[step.consume]}.get()) is not None:")
            with w.indented():
                if frame.handled is not None:
                    w.line(f"{frame.handled}.append(item)")
                write_steps(w, res, frame, step.each, (*path, "each"))
        case SiteKind.REPEAT:
            line(f"for _ in range({step.repeat}):")
            with w.indented():
                write_steps(w, res, frame, step.steps, (*path, "steps"))
        case SiteKind.RAISE:
            error = error_expr(step.raise_, w, res)
            argument = raise_argument(step.raise_, step.message)
            if frame.fills and step.message and argument == literal(step.message):
                argument = text_expr(frame, step.message)  # not KeyError's quoted argument
            if step.unpicklable or step.raise_ in res.unpicklable:
                # the class takes a second argument, which pickle does not keep
                res.unpicklable.add(step.raise_)
                argument = f"{argument or literal('')}, 1"
            cause = (
                ""
                if step.from_ is None
                else " from " + ("None" if step.from_ == "none" else step.from_)
            )
            line(f"raise {error}({argument}){cause}")
        case SiteKind.PRINT:
            line(f"print({text_expr(frame, step.print)})")
        case SiteKind.LOG:
            w.need("logging")
            line(f"logging.getLogger({frame.log_name}).info({text_expr(frame, step.log)})")
        case SiteKind.CHECK_STOP:
            line(f"if {res.stop}.is_set():")
            with w.indented():
                w.line(f"return {frame.exit_value}".rstrip())
        case SiteKind.SET_STOP:
            line(f"{res.stop}.set()")
        case (
            SiteKind.CREATE_TASK
            | SiteKind.AWAIT
            | SiteKind.GATHER
            | SiteKind.TASKGROUP
            | SiteKind.CANCEL
            | SiteKind.SHIELD
        ):
            write_tree_step(
                w,
                res.functions,
                step,
                line,
                lambda steps: write_steps(w, res, frame, steps, (*path, "steps")),
            )
        case (
            SiteKind.SUBMIT
            | SiteKind.COLLECT
            | SiteKind.SHUTDOWN
            | SiteKind.TERMINATE
            | SiteKind.KILL
            | SiteKind.JOIN_PROCESS
        ) if frame.main_step:
            frame.main_step(step, path)
        case SiteKind.TRY:
            line("try:")
            _block(w, res, frame, step.try_, (*path, "try"))
            for index, clause in enumerate(step.except_):
                names = [error_expr(name, w, res) for name in clause.types]
                caught = names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"
                head = f"except {caught}".rstrip() if names else "except"
                if clause.as_:
                    head += f" as {clause.as_}"
                    frame.bound.append(clause.as_)
                w.line(head + ":")
                _block(w, res, frame, clause.steps, (*path, "except", index, "steps"))
                if clause.as_:
                    frame.bound.pop()
            if step.else_:
                w.line("else:")
                _block(w, res, frame, step.else_, (*path, "else"))
            if step.finally_:
                w.line("finally:")
                _block(w, res, frame, step.finally_, (*path, "finally"))
        case SiteKind.RERAISE:
            line("raise")
        case SiteKind.LOOP:
            if step.times is not None:
                line(f"for attempt in range(1, {step.times + 1}):")
                frame.bound.append("attempt")
            elif step.until is not None:
                event = res.stop if step.until == "stop" else res.events[step.until]
                line(f"while not {event}.is_set():")
            else:
                line("while True:")
            _block(w, res, frame, step.loop, (*path, "loop"))
            if step.times is not None:
                frame.bound.pop()
        case SiteKind.BREAK:
            line("break")
        case SiteKind.CONTINUE:
            line("continue")
        case SiteKind.RETURN if isinstance(step, m.ReturnStep):
            value = step.return_
            source = text_expr(frame, value) if isinstance(value, str) else literal(value)
            line(f"return {source}")
        case SiteKind.WITH:
            line(f"{'async ' if frame.is_async else ''}with {res.locks[step.with_]}:")
            with w.indented():
                write_steps(w, res, frame, step.steps, (*path, "steps"))
                if not step.steps:
                    w.line("pass")
        case SiteKind.TASK_DONE:
            line(f"{res.queues[step.task_done]}.task_done()")
        case SiteKind.JOIN:
            line(f"{aw}{res.queues[step.join]}.join()")
        case SiteKind.SET:
            line(f"{res.events[step.set]}.set()")
        case SiteKind.CLEAR:
            line(f"{res.events[step.clear]}.clear()")
        case SiteKind.WAIT if step.wait in res.barriers and frame.is_async:
            write_async_barrier_wait(w, res, frame, step, path, line)
        case SiteKind.WAIT if step.wait in res.barriers:
            timeout = "" if step.timeout is None else seconds(step.timeout)
            line(f"{res.barriers[step.wait]}.wait({timeout})")
        case SiteKind.WAIT:
            write_wait(w, res, frame, step, path, line)
        case SiteKind.WAIT_FOR if frame.is_async:
            write_async_wait_for(w, res, frame, step, path, line)
        case SiteKind.WAIT_FOR:
            until = step.until
            timeout = "" if step.timeout is None else f", {seconds(step.timeout)}"
            call = (
                f"{res.conditions[step.wait_for]}.wait_for("
                f"lambda: {res.shared[until.shared]} >= {until.at_least}{timeout})"
            )
            if step.else_:
                line(f"if not {call}:")
                with w.indented():
                    write_steps(w, res, frame, step.else_, (*path, "else"))
            else:
                line(call)
        case SiteKind.NOTIFY:
            line(f"{res.conditions[step.notify]}.notify({'' if step.n == 1 else step.n})")
        case SiteKind.NOTIFY_ALL:
            line(f"{res.conditions[step.notify_all]}.notify_all()")
        case SiteKind.WITHIN:
            body = lambda steps: write_steps(w, res, frame, steps, (*path, "steps"))  # noqa: E731
            write_within(w, frame.timeouts, step, line, body)
        case SiteKind.RESCHEDULE:
            write_reschedule(frame.timeouts, step, line)
        case SiteKind.ABORT:
            line(f"{aw}{res.barriers[step.abort]}.abort()")
        case SiteKind.RESET:
            line(f"{aw}{res.barriers[step.reset]}.reset()")
        case SiteKind.EXIT:
            w.need("sys")
            line(f"sys.exit({step.exit})")
        case SiteKind.OS_EXIT:
            w.need("os")
            line(f"os._exit({step.os_exit})")
        case (
            SiteKind.SUBMIT
            | SiteKind.COLLECT
            | SiteKind.SHUTDOWN
            | SiteKind.RESULT
            | SiteKind.EXECUTOR
            | SiteKind.RETURN
            | SiteKind.CLEANUP
            | SiteKind.CATCH
            | SiteKind.ON_ERROR
            | SiteKind.TERMINATE
            | SiteKind.KILL
            | SiteKind.ADD_DONE_CALLBACK
            | SiteKind.FUTURE
            | SiteKind.JOIN_PROCESS
        ):
            raise AssertionError(f"{kind} is written by the main program's writer")
        case _:
            assert_never(kind)


def _block(w: Writer, res: Resources, frame: Frame, steps: Sequence[Any], path: Path) -> None:
    """A block's steps, indented; ``pass`` when it has none."""
    with w.indented():
        if steps:
            write_steps(w, res, frame, steps, path)
        else:
            w.line("pass")


def write_acquire(
    w: Writer, res: Resources, frame: Frame, step: m.AcquireStep, path: Path, line: Any
) -> None:
    """``lock.acquire()``; one that may return False is ``if not lock.acquire(...):`` over
    its ``else`` steps. asyncio's acquire takes no timeout: ``asyncio.timeout`` around it,
    and ``except TimeoutError`` is the ``else``."""
    name = res.locks[step.acquire]
    if not step.can_fail:
        line(f"{'await ' if frame.is_async else ''}{name}.acquire()")
        return
    if frame.is_async:
        w.line("try:")
        with w.indented():
            w.line(f"async with asyncio.timeout({seconds(step.timeout or 0)}):")
            with w.indented():
                line(f"await {name}.acquire()")  # the step's site: where it waits
        w.line("except TimeoutError:")
    else:
        args = "blocking=False" if not step.blocking else f"timeout={seconds(step.timeout or 0)}"
        if not step.else_:
            line(f"{name}.acquire({args})")
            return
        line(f"if not {name}.acquire({args}):")
    with w.indented():
        write_steps(w, res, frame, step.else_, (*path, "else"))
        if not step.else_:
            w.line("pass")


def write_queue_call(w: Writer, frame: Frame, step: Any, call: str, value: str, line: Any) -> None:
    """``q.put(item, timeout=0.1)``, ``q.get(block=False)``; in asyncio ``q.get_nowait()``,
    or the await under ``asyncio.timeout`` (asyncio.Queue's methods take no timeout)."""
    args = [value] if value else []
    if frame.is_async:
        if not step.block:
            line(f"{call}_nowait({value})")
        elif step.timeout is not None:
            w.line(f"async with asyncio.timeout({seconds(step.timeout)}):")
            with w.indented():
                line(f"await {call}({value})")  # the step's site: where it waits
        else:
            line(f"await {call}({value})")
        return
    if not step.block:
        args.append("block=False")
    elif step.timeout is not None:
        args.append(f"timeout={seconds(step.timeout)}")
    line(f"{call}({', '.join(args)})")


def write_wait(
    w: Writer, res: Resources, frame: Frame, step: m.WaitStep, path: Path, line: Any
) -> None:
    """``if not event.wait(timeout):`` in a thread; in a coroutine ``await event.wait()``,
    under ``asyncio.wait_for`` when it has a timeout (TimeoutError is the ``else``)."""
    event = res.events.get(step.wait) or res.conditions[step.wait]
    timeout = "" if step.timeout is None else seconds(step.timeout)
    if not frame.is_async:
        if step.else_:
            line(f"if not {event}.wait({timeout}):")
            with w.indented():
                write_steps(w, res, frame, step.else_, (*path, "else"))
        else:
            line(f"{event}.wait({timeout})")
        return
    if step.timeout is None:
        line(f"await {event}.wait()")
        return
    _write_wait_for(w, res, frame, f"{event}.wait()", timeout, step.else_, path, line)


def write_async_wait_for(
    w: Writer, res: Resources, frame: Frame, step: m.WaitForStep, path: Path, line: Any
) -> None:
    """``await cv.wait_for(lambda: ...)``; asyncio's takes no timeout: ``asyncio.wait_for``
    around it, whose TimeoutError is the ``else``."""
    until = step.until
    call = (
        f"{res.conditions[step.wait_for]}.wait_for("
        f"lambda: {res.shared[until.shared]} >= {until.at_least})"
    )
    if step.timeout is None:
        line(f"await {call}")
        return
    _write_wait_for(w, res, frame, call, seconds(step.timeout), step.else_, path, line)


def write_async_barrier_wait(
    w: Writer, res: Resources, frame: Frame, step: m.WaitStep, path: Path, line: Any
) -> None:
    """``await barrier.wait()``; asyncio.Barrier.wait takes no timeout: ``asyncio.wait_for``
    around it, whose TimeoutError is the ``else``."""
    awaited = f"{res.barriers[step.wait]}.wait()"
    if step.timeout is None:
        line(f"await {awaited}")
        return
    _write_wait_for(w, res, frame, awaited, seconds(step.timeout), step.else_, path, line)


def _write_wait_for(
    w: Writer,
    res: Resources,
    frame: Frame,
    awaited: str,
    timeout: str,
    else_: Sequence[m.Step],
    path: Path,
    line: Any,
) -> None:
    """``await asyncio.wait_for(awaited, timeout)`` whose TimeoutError runs the ``else``
    steps (or ``pass``): an asyncio wait that takes no timeout of its own."""
    w.line("try:")
    with w.indented():
        line(f"await asyncio.wait_for({awaited}, {timeout})")
    w.line("except TimeoutError:")
    with w.indented():
        if else_:
            write_steps(w, res, frame, else_, (*path, "else"))
        else:
            w.line("pass")


def walk(steps: Sequence[Any]) -> list[Any]:
    """Every step, nested ones included, in order."""
    found: list[Any] = []
    for step in steps:
        found.append(step)
        if isinstance(step, m.RepeatStep | m.WithinStep | m.TaskGroupStep):
            found += walk(step.steps)
        elif isinstance(step, m.ConsumeStep):
            found += walk(step.each)
        elif isinstance(step, m.TryStep):
            found += walk(step.try_)
            for clause in step.except_:
                found += walk(clause.steps)
            found += walk(step.else_) + walk(step.finally_)
        elif isinstance(step, m.LoopStep):
            found += walk(step.loop)
        elif isinstance(step, m.WithStep):
            found += walk(step.steps)
        elif isinstance(step, m.AcquireStep | m.WaitStep | m.WaitForStep):
            found += walk(step.else_)
        elif isinstance(step, m.AddDoneCallbackStep):
            found += walk(step.steps)
    return found
