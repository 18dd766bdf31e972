"""``main()`` of the sequential, thread and process models (concurrent.futures, threading,
multiprocessing)."""

from __future__ import annotations

from typing import Any

from concsim.engine.atexit import handler_name
from concsim.scenario import model as m

from .callbacks import callbacks_of, write_add, write_callbacks
from .future import write_future_calls
from .names import seconds
from .pickling import LAMBDA_ARG, with_arg
from .sites import SiteKind
from .steps import Frame, Resources, write_step, write_steps
from .tasks import (
    Call,
    TaskFn,
    calls_for,
    instance_name_expr,
    write_each,
    write_list,
    write_task,
)
from .writer import Writer


class PoolMain:
    """Writes ``def main():`` for ``sequential``, ``threads`` and ``processes``."""

    def __init__(self, w: Writer, res: Resources, program: m.Program, fns: list[TaskFn]) -> None:
        self.w = w
        self.res = res
        self.program = program
        self.fns = fns
        self.model = program.model
        self.pattern = program.collect.pattern
        self.pooled = self.model is not m.Model.SEQUENTIAL and program.executor
        self.plain = self.model is not m.Model.SEQUENTIAL and not program.executor
        self.frame = Frame("main", False, '"main"', exit_value="", fills=res.fills)
        self.frame.main_step = self._main_step
        self.submitted: set[tuple[str, int | None]] = set()  # the calls handed over so far
        self.lambda_arg = False  # the lambda passed as an unpicklable argument is defined
        self.started: list[tuple[str, str]] = []  # plain: (task, instance) in ``processes``
        self.calls = calls_for(fns)
        self.gets_results = self.pattern not in (m.Pattern.NONE, m.Pattern.JOIN)
        self.callbacks = {id(step): name for _, step, name in callbacks_of(program)}
        self.order: list[str] = []  # the task instance of each future in ``futures``

    def site(self, kind: SiteKind, label: str, path: tuple[Any, ...] = ()) -> dict[str, Any]:
        return {"owner": "main", "kind": kind, "label": label, "path": path}

    # --- the function -------------------------------------------------------------------

    def write_handlers(self) -> None:
        """``def at_exit_N():`` for each ``atexit`` step, at module level."""
        for index, step in enumerate(self.program.atexit):
            self.w.line(f"def {handler_name(index + 1)}():")
            with self.w.indented():
                write_step(self.w, self.res, self.frame, step, ("atexit", index))
            self.w.blank()
            self.w.blank()

    def write(self) -> None:
        w = self.w
        w.line("def main():")
        with w.indented():
            for fn in self.fns:
                if fn.nested:
                    write_task(w, self.res, fn)
                    w.blank()
            if self.program.atexit:
                w.need("atexit")
            for index in range(len(self.program.atexit)):
                w.line(f"atexit.register({handler_name(index + 1)})")
            write_callbacks(w, self.res, self.program)
            for line in self.res.main_made:
                w.line(line)
            if self.gets_results:
                w.line("results = []")
            if self.pooled:
                self._pooled_body()
            else:
                self._guarded_steps(shutdown=None)
            if self.gets_results:
                w.line("return results", **self.site(SiteKind.RETURN, "return"))

    def _pooled_body(self) -> None:
        w = self.w
        program = self.program
        pool = "ThreadPoolExecutor" if self.model is m.Model.THREADS else "ProcessPoolExecutor"
        w.need("concurrent.futures", pool)
        args = "" if program.max_workers is None else f"max_workers={program.max_workers}"
        if program.max_tasks_per_child is not None and self.model is m.Model.PROCESSES:
            limit = f"max_tasks_per_child={program.max_tasks_per_child}"
            args = f"{args}, {limit}" if args else limit
        if self.res.pool_shared and self.model is m.Model.PROCESSES:
            shared = self.res.pool_shared
            given = ", ".join(shared) + ("," if len(shared) == 1 else "")
            share = f"initializer={self.res.initializer}, initargs=({given})"
            args = f"{args}, {share}" if args else share
        site = self.site(SiteKind.EXECUTOR, pool)
        if program.context_manager:
            w.line(f"with {pool}({args}) as executor:", **site)
            with w.indented():
                self._guarded_steps(shutdown=program.shutdown)
        else:
            w.line(f"executor = {pool}({args})", **site)
            self._guarded_steps(shutdown=program.shutdown)

    def _guarded_steps(self, shutdown: m.Shutdown | None) -> None:
        """The main steps; ``on_error`` as ``except BaseException: ...; raise`` and an
        explicit ``shutdown`` as ``finally:``, in that order, as the simulator runs them."""
        w = self.w
        program = self.program
        if not program.on_error and shutdown is None:
            self._steps()
            return
        w.line("try:")
        with w.indented():
            self._steps()
        if program.on_error:
            w.line("except BaseException:", **self.site(SiteKind.ON_ERROR, "on_error"))
            with w.indented():
                write_steps(w, self.res, self.frame, program.on_error, ("on_error",))
                w.line("raise")
        if shutdown is not None:
            w.line("finally:")
            with w.indented():
                w.line(
                    f"executor.shutdown(wait={shutdown.wait}, "
                    f"cancel_futures={shutdown.cancel_futures})",
                    **self.site(SiteKind.SHUTDOWN, "shutdown"),
                )

    def _steps(self) -> None:
        for index, step in enumerate(self.program.main_steps):
            self._main_step(step, ("main", index))

    def _main_step(self, step: Any, path: tuple[Any, ...]) -> None:
        """One step of main(), nested in a block or not."""
        if isinstance(step, m.SubmitStep):
            self._submit(step.submit, path)
        elif isinstance(step, m.CollectStep):
            self._collect(path)
        elif isinstance(step, m.ShutdownStep):
            s = step.shutdown
            self.w.line(
                f"executor.shutdown(wait={s.wait}, cancel_futures={s.cancel_futures})",
                **self.site(SiteKind.SHUTDOWN, m.step_label(step), path),
                comment=step.label,
            )
        elif isinstance(step, m.TerminateStep | m.KillStep):
            self._signal(step, path)
        elif isinstance(step, m.AddDoneCallbackStep):
            site = self.site(SiteKind.ADD_DONE_CALLBACK, m.step_label(step), path)
            write_add(self.w, step, self.callbacks[id(step)], self.order, site)
        elif isinstance(step, m.FutureStep):
            site = self.site(SiteKind.FUTURE, m.step_label(step), path)
            write_future_calls(self.w, step, self.order, site)
        elif isinstance(step, m.JoinProcessStep):
            self._join(step, path)
        else:
            write_step(self.w, self.res, self.frame, step, path)

    def _signal(self, step: m.TerminateStep | m.KillStep, path: tuple[Any, ...]) -> None:
        """``processes[k].terminate()`` (or ``kill()``) for each process running the task."""
        terminate = isinstance(step, m.TerminateStep)
        target = step.terminate if isinstance(step, m.TerminateStep) else step.kill
        kind, method = (SiteKind.TERMINATE, "terminate") if terminate else (SiteKind.KILL, "kill")
        site = self.site(kind, m.step_label(step), path)
        for index, (spec, instance) in enumerate(self.started):
            if target in (spec, instance):
                self.w.line(f"processes[{index}].{method}()", **site, comment=step.label)

    def _join(self, step: m.JoinProcessStep, path: tuple[Any, ...]) -> None:
        """``processes[k].join(timeout)`` for each process running the task, in turn."""
        site = self.site(SiteKind.JOIN_PROCESS, m.step_label(step), path)
        timeout = "" if step.timeout is None else seconds(step.timeout)
        for index, (spec, instance) in enumerate(self.started):
            if step.join_process in (spec, instance):
                self.w.line(f"processes[{index}].join({timeout})", **site, comment=step.label)

    # --- handing work over --------------------------------------------------------------

    def _submit(self, names: Any, path: tuple[Any, ...]) -> None:
        def wanted(spec: str, instance: str) -> bool:
            return names == "all" or spec in names or instance in names

        calls = [c for c in calls_for(self.fns, wanted) if self._key(c) not in self.submitted]
        if not calls or self.model is m.Model.SEQUENTIAL:
            return  # a sequential program calls each task when it collects
        self.submitted |= {self._key(c) for c in calls}
        w = self.w
        site = self.site(SiteKind.SUBMIT, "submit", path)
        if self.plain:
            self._start(calls, site)
            return
        if self.pattern is m.Pattern.MAP:
            self._map_call(calls, site)
            return

        if not self.lambda_arg and any(
            c.fn.spec.unpicklable_arg is m.Unsendable.LAMBDA for c in calls
        ):  # made here, in main(), not in a comprehension: its name is main.<locals>.<lambda>
            self.lambda_arg = True
            w.line(f"{LAMBDA_ARG} = lambda: None")

        def submit(fn: TaskFn, arg: str | None) -> str:
            args = fn.function if arg is None else f"{fn.function}, {arg}"
            return f"executor.submit({with_arg(fn.spec, args, w)})"

        if self.pattern is m.Pattern.NONE and not self.callbacks:
            write_each(w, calls, submit, site)  # the futures are not kept: nobody reads them
        else:
            first = len(self.submitted) == len(calls)
            self.order += [_instance(c) for c in calls]
            write_list(w, "futures = " if first else "futures += ", calls, submit, **site)

    @staticmethod
    def _key(call: Call) -> tuple[str, int | None]:
        return (call.fn.function, call.index)

    def _map_call(self, calls: list[Call], site: dict[str, Any]) -> None:
        w = self.w
        extra = ""
        if self.program.collect.timeout is not None:
            extra += f", timeout={seconds(self.program.collect.timeout)}"
        if self.model is m.Model.PROCESSES and self.program.chunksize != 1:
            extra += f", chunksize={self.program.chunksize}"
        fns = {c.fn.function for c in calls}
        if len(fns) == 1 and calls[0].index is not None:
            first, last = calls[0].index, calls[-1].index
            assert last is not None
            fn = calls[0].fn.function
            w.line(f"outputs = executor.map({fn}, range({first}, {last + 1}){extra})", **site)
            return
        self.res.uses_call = True

        def item(fn: TaskFn, arg: str | None) -> str:
            return fn.function if arg is None else f"functools.partial({fn.function}, {arg})"

        write_list(w, "outputs = executor.map(call, ", calls, item, f"{extra})", **site)

    def _start(self, calls: list[Call], site: dict[str, Any]) -> None:
        w = self.w
        if self.model is m.Model.PROCESSES:
            w.need("multiprocessing")
            cls, var, each = "multiprocessing.Process", "processes", "process"
        else:
            w.need("threading")
            cls, var, each = "threading.Thread", "threads", "thread"

        def make(fn: TaskFn, arg: str | None) -> str:
            given = ([] if arg is None else [arg]) + list(fn.passes)
            items = ", ".join(given) + ("," if len(given) == 1 else "")
            args = f", args=({items})" if given else ""
            daemon = ", daemon=True" if fn.spec.daemon else ""
            # A thread keeps the name CPython gives it, ``Thread-N (function)``, as the
            # simulator shows it (threading.excepthook prints it); a process is named after
            # its task, ``Process NAME:`` above its traceback.
            named = self.model is m.Model.PROCESSES
            name = f", name={instance_name_expr(fn, arg)}" if named else ""
            return f"{cls}(target={fn.function}{args}{name}{daemon})"

        self.started = [(c.fn.spec.name, _instance(c)) for c in calls]
        write_list(w, f"{var} = ", calls, make)
        w.line(f"for {each} in {var}:")
        with w.indented():
            w.line(f"{each}.start()", **site)

    # --- collecting ---------------------------------------------------------------------

    def _collect(self, path: tuple[Any, ...]) -> None:
        w = self.w
        site = self.site(SiteKind.COLLECT, "collect", path)
        if self.model is m.Model.SEQUENTIAL:
            self._sequential(path)
            return
        if len(self.submitted) < len(self.calls):
            self._submit("all", path)
        collect = self.program.collect
        timeout = "" if collect.timeout is None else f"timeout={seconds(collect.timeout)}"
        got = self.site(SiteKind.RESULT, "result", path)
        match self.pattern:
            case m.Pattern.AS_COMPLETED:
                w.need("concurrent.futures", "as_completed")
                args = "futures" + (f", {timeout}" if timeout else "")
                w.line(f"for future in as_completed({args}):", **site)
                with w.indented():
                    w.line("results.append(future.result())", **got)
                    self._on_result()
            case m.Pattern.MAP:
                w.line("for result in outputs:", **site)
                with w.indented():
                    w.line("results.append(result)", **got)
                    self._on_result()
            case m.Pattern.RESULT:
                w.line("for future in futures:")
                with w.indented():
                    w.line(f"results.append(future.result({timeout}))", **site)
                    self._on_result()
            case m.Pattern.WAIT:
                w.need("concurrent.futures", "wait")
                wait_args = ["futures"]
                if timeout:
                    wait_args.append(timeout)
                when = collect.return_when
                if when is not m.ReturnWhen.ALL_COMPLETED:
                    w.need("concurrent.futures", when.value)
                    wait_args.append(f"return_when={when.value}")
                w.line(f"done, not_done = wait({', '.join(wait_args)})", **site)
                w.line("for future in done:")
                with w.indented():
                    w.line("results.append(future.result())", **got)
                    self._on_result()
            case m.Pattern.JOIN:
                var, each = (
                    ("processes", "process")
                    if self.model is m.Model.PROCESSES
                    else ("threads", "thread")
                )
                w.line(f"for {each} in {var}:")
                with w.indented():
                    w.line(f"{each}.join({timeout})", **site)
            case m.Pattern.NONE:
                pass
            case m.Pattern.GATHER | m.Pattern.TASKGROUP:
                raise AssertionError(f"{self.pattern} is an asyncio pattern")

    def _sequential(self, path: tuple[Any, ...]) -> None:
        """``results.append(task())`` for each task in turn: the calls happen here."""
        w = self.w
        keep = self.pattern is not m.Pattern.NONE
        site = self.site(SiteKind.RESULT if keep else SiteKind.COLLECT, "collect", path)
        for fn in self.fns:
            if fn.takes_index:
                w.line(f"for i in range(1, {fn.spec.repeat + 1}):")
                with w.indented():
                    self._sequential_call(f"{fn.function}(i)", keep, site)
            else:
                self._sequential_call(f"{fn.function}()", keep, site)

    def _sequential_call(self, call: str, keep: bool, site: dict[str, Any]) -> None:
        self.w.line(f"results.append({call})" if keep else call, **site)
        if keep:
            self._on_result()

    def _on_result(self) -> None:
        write_steps(self.w, self.res, self.frame, self.program.on_result, ("on_result",))


def _instance(call: Call) -> str:
    """The task instance a call runs: ``fetch``, or ``fetch-3`` for a repeated task."""
    spec = call.fn.spec
    return spec.name if spec.repeat == 1 else f"{spec.name}-{call.index}"
