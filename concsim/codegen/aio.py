"""``async def main()`` of the asyncio model, run by ``asyncio.run``."""

from __future__ import annotations

from typing import Any

from concsim.scenario import model as m
from concsim.scenario.tree import children_of

from .names import seconds
from .sites import SiteKind
from .steps import Frame, Resources, write_step, write_steps
from .tasks import (
    Call,
    TaskFn,
    call_items,
    calls_for,
    instance_name_expr,
    write_each,
    write_list,
    write_task,
)
from .writer import Writer, display


def coroutine_expr(fn: TaskFn, arg: str | None) -> str:
    """``fetch(i)``; a task with a ``timeout`` is awaited through ``asyncio.wait_for``."""
    call = f"{fn.function}({arg or ''})"
    if fn.spec.timeout is not None:
        return f"asyncio.wait_for({call}, timeout={seconds(fn.spec.timeout)})"
    return call


def create_task_expr(fn: TaskFn, arg: str | None) -> str:
    return f"asyncio.create_task({coroutine_expr(fn, arg)}, name={instance_name_expr(fn, arg)})"


def group_task_expr(fn: TaskFn, arg: str | None) -> str:
    return f"tg.create_task({coroutine_expr(fn, arg)}, name={instance_name_expr(fn, arg)})"


class AsyncMain:
    """Writes ``async def main():``."""

    def __init__(self, w: Writer, res: Resources, program: m.Program, fns: list[TaskFn]) -> None:
        self.w = w
        self.res = res
        self.program = program
        self.all_fns = fns
        children = children_of([fn.spec for fn in fns], program.main_steps)
        self.fns = [fn for fn in fns if fn.spec.name not in children]  # main creates these
        self.collect = program.collect
        self.pattern = program.collect.pattern
        self.frame = Frame("main", True, '"main"', fills=res.fills)
        self.frame.main_step = self._main_step
        self.calls = calls_for(self.fns)
        self.submitted: set[tuple[str, int | None]] = set()
        steps = program.main_steps
        self.compact = (
            len(steps) == 2
            and isinstance(steps[0], m.SubmitStep)
            and steps[0].submit == "all"
            and isinstance(steps[1], m.CollectStep)
            and self.pattern is m.Pattern.GATHER
        )

    def site(self, kind: SiteKind, label: str, path: tuple[Any, ...] = ()) -> dict[str, Any]:
        return {"owner": "main", "kind": kind, "label": label, "path": path}

    def write(self) -> None:
        w = self.w
        w.line("async def main():")
        with w.indented():
            for fn in self.all_fns:
                if fn.nested:
                    write_task(w, self.res, fn)
                    w.blank()
            if self.program.task_factory is m.TaskFactory.EAGER:
                w.line("asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)")
            keeps = self.pattern is not m.Pattern.NONE
            if keeps and not (self.compact and not self.program.on_result):
                w.line("results = []")
            if self.pattern is m.Pattern.TASKGROUP:
                self._guarded(self._taskgroup)
            else:
                self._guarded(self._steps)
            if keeps:
                w.line("return results", **self.site(SiteKind.RETURN, "return"))

    def _guarded(self, body: Any) -> None:
        w = self.w
        if not self.program.on_error:
            body()
            return
        w.line("try:")
        with w.indented():
            body()
        w.line("except BaseException:", **self.site(SiteKind.ON_ERROR, "on_error"))
        with w.indented():
            write_steps(w, self.res, self.frame, self.program.on_error, ("on_error",))
            w.line("raise")

    def _steps(self) -> None:
        for index, step in enumerate(self.program.main_steps):
            self._main_step(step, ("main", index))

    def _main_step(self, step: Any, path: tuple[Any, ...]) -> None:
        """One step of main(), nested in a block or not."""
        if isinstance(step, m.SubmitStep):
            if self.pattern is m.Pattern.NONE:
                self._submit_each(step.submit, path)
            elif not self.compact:
                self._submit(step.submit, path, create_task_expr, "tasks")
        elif isinstance(step, m.CollectStep):
            self._collect(path)
        else:
            write_step(self.w, self.res, self.frame, step, path)

    def _submit(self, names: Any, path: tuple[Any, ...], expr: Any, var: str) -> None:
        def wanted(spec: str, instance: str) -> bool:
            return names == "all" or spec in names or instance in names

        calls = [c for c in calls_for(self.fns, wanted) if _key(c) not in self.submitted]
        if not calls:
            return
        first = not self.submitted
        self.submitted |= {_key(c) for c in calls}
        head = f"{var} = " if first else f"{var} += "
        write_list(self.w, head, calls, expr, **self.site(SiteKind.SUBMIT, "submit", path))

    def _submit_each(self, names: Any, path: tuple[Any, ...]) -> None:
        """``asyncio.create_task(...)`` with nothing kept: no one awaits these tasks."""
        calls = [
            c
            for c in calls_for(self.fns, lambda s, i: names == "all" or s in names or i in names)
            if _key(c) not in self.submitted
        ]
        self.submitted |= {_key(c) for c in calls}
        write_each(self.w, calls, create_task_expr, self.site(SiteKind.SUBMIT, "submit", path))

    # --- collecting ---------------------------------------------------------------------

    def _collect(self, path: tuple[Any, ...]) -> None:
        w = self.w
        collect = self.collect
        site = self.site(SiteKind.COLLECT, "collect", path)
        got = self.site(SiteKind.RESULT, "result", path)
        timeout = None if collect.timeout is None else seconds(collect.timeout)
        if self.compact:
            self._gather(site, got, timeout, path)
            return
        if len(self.submitted) < len(self.calls):
            if self.pattern is m.Pattern.NONE:
                self._submit_each("all", path)
            else:
                self._submit("all", path, create_task_expr, "tasks")
        match self.pattern:
            case m.Pattern.GATHER:
                self._gather(site, got, timeout, path)
            case m.Pattern.AS_COMPLETED:
                args = "tasks" + (f", timeout={timeout}" if timeout else "")
                w.line(f"for next_done in asyncio.as_completed({args}):", **site)
                with w.indented():
                    w.line("results.append(await next_done)", **got)
                    self._on_result()
            case m.Pattern.RESULT:
                w.line("for task in tasks:")
                with w.indented():
                    awaited = "asyncio.shield(task)" if collect.shield else "task"
                    if timeout:
                        awaited = f"asyncio.wait_for({awaited}, timeout={timeout})"
                    w.line(f"results.append(await {awaited})", **site)
                    self._on_result()
            case m.Pattern.WAIT:
                wait_args = ["tasks"]
                if timeout:
                    wait_args.append(f"timeout={timeout}")
                if collect.return_when is not m.ReturnWhen.ALL_COMPLETED:
                    wait_args.append(f"return_when=asyncio.{collect.return_when.value}")
                w.line(f"done, pending = await asyncio.wait({', '.join(wait_args)})", **site)
                w.line("for task in done:")
                with w.indented():
                    w.line("results.append(task.result())", **got)
                    self._on_result()
            case m.Pattern.NONE:
                pass
            case m.Pattern.TASKGROUP | m.Pattern.MAP | m.Pattern.JOIN:
                raise AssertionError(f"{self.pattern} is not collected here")

    def _gather(
        self, site: dict[str, Any], got: dict[str, Any], timeout: str | None, path: Any
    ) -> None:
        w = self.w
        collect = self.collect
        tail = ", return_exceptions=True)" if collect.return_exceptions else ")"
        wrap_head, wrap_tail = "", ""
        if collect.shield:
            wrap_head, wrap_tail = "asyncio.shield(", ")"
        if timeout:
            wrap_head = "asyncio.wait_for(" + wrap_head
            wrap_tail = wrap_tail + f", timeout={timeout})"
        loop = bool(self.program.on_result)
        head = ("for result in await " if loop else "results = await ") + wrap_head
        end = wrap_tail + (":" if loop else "")
        if self.compact:
            self.submitted |= {_key(c) for c in self.calls}
            items = call_items(self.calls, coroutine_expr)
            if collect.return_exceptions:  # an argument like the others, when one a line
                items.append("return_exceptions=True")
            display(w, head + "asyncio.gather(", items, ")" + end, brackets="", **site)
        else:
            w.line(head + "asyncio.gather(*tasks" + tail + end, **site)
        if loop:
            with w.indented():
                w.line("results.append(result)", **got)
                self._on_result()

    def _taskgroup(self) -> None:
        """Every main step up to ``collect`` runs inside ``async with TaskGroup()``: the tasks
        are the group's; leaving the block waits for them (and raises ExceptionGroup)."""
        w = self.w
        steps = list(enumerate(self.program.main_steps))
        cut = next((i for i, s in steps if isinstance(s, m.CollectStep)), len(steps))
        path = ("main", cut)
        site = self.site(SiteKind.COLLECT, "collect", path)
        if self.collect.timeout is not None:
            w.line(f"async with asyncio.timeout({seconds(self.collect.timeout)}):")
            w.depth += 1
        w.line("async with asyncio.TaskGroup() as tg:", **site)
        with w.indented():
            for index, step in steps[:cut]:
                if isinstance(step, m.SubmitStep):
                    self._submit(step.submit, ("main", index), group_task_expr, "tasks")
                else:
                    write_step(w, self.res, self.frame, step, ("main", index))
            if len(self.submitted) < len(self.calls):
                self._submit("all", path, group_task_expr, "tasks")
        if self.collect.timeout is not None:
            w.depth -= 1
        w.line("for task in tasks:")
        with w.indented():
            w.line("results.append(task.result())", **self.site(SiteKind.RESULT, "result", path))
            self._on_result()
        for index, step in steps[cut + 1 :]:
            write_step(w, self.res, self.frame, step, ("main", index))

    def _on_result(self) -> None:
        write_steps(self.w, self.res, self.frame, self.program.on_result, ("on_result",))


def _key(call: Call) -> tuple[str, int | None]:
    return (call.fn.function, call.index)
