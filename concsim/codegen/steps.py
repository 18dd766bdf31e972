"""Scenario steps as lines of Python, one line per step with its label as a comment."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, assert_never

from concsim.scenario import model as m

from .names import literal, seconds
from .sites import Path, SiteKind
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
    taken: set[str] = field(default_factory=set)

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


def error_expr(name: str, writer: Writer, res: Resources) -> str:
    """The exception class for ``raise: NAME``: a builtin, ``module.Name``, or one of ours."""
    if "." in name:
        writer.need(name.split(".")[0])
        return name
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
            line(f"{aw}{res.locks[step.acquire]}.acquire()")
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
            line(f"{aw}{res.queues[step.put]}.put({literal(step.value)})")
        case SiteKind.GET:
            line(f"{aw}{res.queues[step.get]}.get()")
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
            line(f"raise {error}({raise_argument(step.raise_, step.message)})")
        case SiteKind.PRINT:
            line(f"print({literal(step.print)})")
        case SiteKind.LOG:
            w.need("logging")
            line(f"logging.getLogger({frame.log_name}).info({literal(step.log)})")
        case SiteKind.CHECK_STOP:
            line(f"if {res.stop}.is_set():")
            with w.indented():
                w.line(f"return {frame.exit_value}".rstrip())
        case SiteKind.SET_STOP:
            line(f"{res.stop}.set()")
        case SiteKind.SET:
            line(f"{res.events[step.set]}.set()")
        case SiteKind.CLEAR:
            line(f"{res.events[step.clear]}.clear()")
        case SiteKind.WAIT if step.wait in res.barriers:
            timeout = "" if step.timeout is None else seconds(step.timeout)
            line(f"{res.barriers[step.wait]}.wait({timeout})")
        case SiteKind.WAIT:
            write_wait(w, res, frame, step, path, line)
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
        case SiteKind.ABORT:
            line(f"{res.barriers[step.abort]}.abort()")
        case SiteKind.RESET:
            line(f"{res.barriers[step.reset]}.reset()")
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
        ):
            raise AssertionError(f"{kind} is written by the main program's writer")
        case _:
            assert_never(kind)


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
    w.line("try:")
    with w.indented():
        line(f"await asyncio.wait_for({event}.wait(), {timeout})")
    w.line("except TimeoutError:")
    with w.indented():
        if step.else_:
            write_steps(w, res, frame, step.else_, (*path, "else"))
        else:
            w.line("pass")


def walk(steps: Sequence[Any]) -> list[Any]:
    """Every step, nested ones included, in order."""
    found: list[Any] = []
    for step in steps:
        found.append(step)
        if isinstance(step, m.RepeatStep):
            found += walk(step.steps)
        elif isinstance(step, m.ConsumeStep):
            found += walk(step.each)
        elif isinstance(step, m.WaitStep | m.WaitForStep):
            found += walk(step.else_)
    return found
