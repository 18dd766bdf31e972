"""The task tree as Python (format version 2): ``asyncio.create_task`` of another task,
``await task``, ``task.cancel(msg)``, ``asyncio.gather`` and ``asyncio.TaskGroup`` inside a
coroutine."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from concsim.scenario import model as m
from concsim.scenario.tree import ref_base

from .names import literal
from .writer import Writer

Line = Callable[[str], None]


class TaskRef:
    """What a step's task reference stands for in the program: ``fetch`` (every copy),
    ``fetch-{i}`` (the copy with the caller's own ``i``) or ``fetch-2``."""

    def __init__(self, ref: str, functions: dict[str, tuple[str, int]]) -> None:
        base = ref if ref in functions else ref_base(ref)
        self.function, self.repeat = functions[base]
        self.name = base
        self.every = ref == base and self.repeat > 1  # all the copies, in a list
        if ref == base:
            self.arg: str | None = None
        elif ref.endswith("-{i}"):
            self.arg = "i"
        else:
            self.arg = ref.rsplit("-", 1)[1]

    @property
    def variable(self) -> str:
        """The name the creating coroutine keeps its task(s) in."""
        if self.every:
            return f"{self.function}_tasks"
        if self.arg is None or self.arg == "i":
            return f"{self.function}_task"
        return f"{self.function}_{self.arg}_task"

    def call(self, arg: str | None = None) -> str:
        """The coroutine: ``fetch()``, ``fetch(i)``, ``fetch(2)``."""
        arg = arg if arg is not None else self.arg
        if arg is None and self.repeat > 1:
            arg = "i"
        return f"{self.function}({arg or ''})"

    def name_expr(self, arg: str | None = None) -> str:
        arg = arg if arg is not None else self.arg
        if self.repeat == 1:
            return literal(self.name)
        if arg == "i" or arg is None:
            return 'f"' + self.name.replace("{", "{{").replace("}", "}}") + '-{i}"'
        return literal(f"{self.name}-{arg}")

    def range(self) -> str:
        return f"range(1, {self.repeat + 1})"


def write_tree_step(
    w: Writer,
    functions: dict[str, tuple[str, int]],
    step: Any,
    line: Line,
    body: Callable[[Sequence[Any]], None],
) -> None:
    """One step of the task tree; ``line`` writes the step's own (first) line, ``body`` the
    steps of a block."""
    match step:
        case m.CreateTaskStep():
            ref = TaskRef(step.create_task, functions)
            task = f"asyncio.create_task({ref.call()}, name={ref.name_expr()})"
            if ref.every:
                line(f"{ref.variable} = [{task} for i in {ref.range()}]")
            else:
                line(f"{ref.variable} = {task}")
        case m.AwaitStep():
            _await_each(w, line, TaskRef(step.await_, functions), "{}")
        case m.ShieldStep():
            _await_each(w, line, TaskRef(step.shield, functions), "asyncio.shield({})")
        case m.CancelStep():
            ref = TaskRef(step.cancel, functions)
            msg = "" if step.msg is None else literal(step.msg)
            if ref.every:
                line(f"for task in {ref.variable}:")
                with w.indented():
                    w.line(f"task.cancel({msg})")
            else:
                line(f"{ref.variable}.cancel({msg})")
        case m.GatherStep():
            refs = [TaskRef(ref, functions) for ref in step.gather]
            items = [
                f"*({ref.call()} for i in {ref.range()})" if ref.every else ref.call()
                for ref in refs
            ]
            line(f"await asyncio.gather({', '.join(items)})")
        case m.TaskGroupStep():
            line("async with asyncio.TaskGroup() as tg:")
            with w.indented():
                for ref in (TaskRef(ref, functions) for ref in step.taskgroup):
                    task = f"tg.create_task({ref.call()}, name={ref.name_expr()})"
                    if ref.every:
                        w.line(f"for i in {ref.range()}:")
                        with w.indented():
                            w.line(task)
                    else:
                        w.line(task)
                body(step.steps)
        case _:
            raise AssertionError(f"{step!r} is not a step of the task tree")


def _await_each(w: Writer, line: Line, ref: TaskRef, wrap: str) -> None:
    """``await TASK`` (``wrap`` around it, e.g. ``asyncio.shield``), or for every copy of a
    repeated task, ``for task in TASKS: await task``."""
    if ref.every:
        line(f"for task in {ref.variable}:")
        with w.indented():
            w.line(f"await {wrap.format('task')}")
    else:
        line(f"await {wrap.format(ref.variable)}")
