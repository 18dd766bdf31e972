"""Tasks that coroutines create, await, gather, group and cancel (Lib/asyncio/tasks.py:
``create_task``, ``Task.cancel``, ``gather``; Lib/asyncio/taskgroups.py): the task tree of
format version 2."""

from __future__ import annotations

from typing import Any

from concsim.events import AwaitReraised, CancelRequested
from concsim.scenario import model as m
from concsim.scenario.tree import child_tasks, resolve

from ..runtime import Actor, Cancelled, Lane, SimError, TaskRun
from ..runtime_core import Progress
from .taskgroups import TaskGroups


class TaskTree(TaskGroups):
    """The steps of a coroutine that start, await and cancel other tasks."""

    def _tree_setup(self) -> None:
        runs = self.runtime.tasks
        self.children = child_tasks(self.world.scenario)
        self.instances: dict[str, list[str]] = {}
        for run in runs:
            self.instances.setdefault(run.spec.name, []).append(run.name)

    def tree_step(self, co: Lane, run: TaskRun | None, step: Any, label: str) -> Actor:
        """One step of the task tree in the coroutine on ``co`` (``run`` None: main())."""
        if not hasattr(self, "instances"):
            self._tree_setup()
        owner = run.name if run is not None else "main"
        yield from self.world.ensure_gil(co)
        match step:
            case m.CreateTaskStep():
                for child in self._named(run, step.create_task):
                    yield from self.start_task(co, child, owner)
            case m.AwaitStep():
                for child in self._named(run, step.await_):
                    yield from self.await_task(co, child, owner)
            case m.CancelStep():
                for child in self._named(run, step.cancel):
                    shown = "" if step.msg is None else repr(step.msg)
                    why = f"{owner} called {child.name}.cancel({shown})"
                    self.cancel(child, why, step.msg, by=co.id)
            case m.GatherStep():
                kids = [c for ref in step.gather for c in self._named(run, ref)]
                for child in kids:
                    yield from self.start_task(co, child, owner)
                yield from self.gather_in(co, kids)
            case m.TaskGroupStep():
                kids = [c for ref in step.taskgroup for c in self._named(run, ref)]
                for child in kids:
                    yield from self.start_task(co, child, owner)
                if step.steps:
                    yield from self.taskgroup_body(co, run, kids, step.steps)
                else:
                    yield from self._taskgroup(co, kids, None, collecting=False)
            case m.ShieldStep():
                for child in self._named(run, step.shield):
                    yield from self.await_shielded(co, child)
            case m.WithinStep():
                yield from self.within(co, run, step)
            case m.RescheduleStep():
                self.reschedule(co, step)
            case _:
                raise AssertionError(f"{label!r} is not a step of the task tree")

    def cancel_from_outside(self, target: str) -> str | None:
        """A ``cancel`` fault on ``main`` (the task asyncio.run made of main()) or on the
        ``gather`` main awaits; the reason it does not apply, or None. A gather's cancel()
        cancels each child and returns True if any accepted (_GatheringFuture.cancel)."""
        if self.runtime.main_ended or self.in_teardown:
            return "main() has already returned"
        if target == "main":
            reason = "the task running main() was cancelled: main_task.cancel()"
            self.world.emit(CancelRequested, task="main", accepted=True, reason=reason)
            self.cancel_main()
            return None
        runs = self.gathering
        if runs is None:
            return "main is not awaiting gather() right now"
        if self.program.collect.timeout is not None or self.program.collect.shield:
            return "main awaits the gather through wait_for() or shield(); cancel main instead"
        accepted = [
            self.cancel(run, "gather.cancel() cancels each of its children")
            for run in runs
            if not run.future.is_done
        ]
        self.gather_cancelled = any(accepted)
        return None

    def _named(self, run: TaskRun | None, ref: str) -> list[TaskRun]:
        index = None
        if run is not None and run.spec.repeat > 1:
            index = int(run.name.rsplit("-", 1)[1])
        by_name = self.runtime.by_name
        return [by_name[name] for name in resolve(ref, index, self.instances)]

    def await_task(self, co: Lane, child: TaskRun, owner: str) -> Actor:
        """``await task``: its result, or its exception raised here. A cancel of the waiter
        goes to the awaited task (``Task.cancel``: ``self._fut_waiter.cancel(msg)``) and
        the waiter wakes only when that task is done: with its CancelledError if it was
        cancelled, with its result if it swallowed the cancel (3.11)."""
        label = f"await {child.name}"
        while not child.future.is_done:
            try:
                yield from self.await_until(co, lambda: child.future.is_done, label)
            except Cancelled as exc:
                why = f"{owner}, which awaits it, was cancelled"
                self.cancel(child, why, exc.message or None, by=co.id)
        return self._outcome_in(co, child, label)

    def await_shielded(self, co: Lane, child: TaskRun) -> Actor:
        """``await asyncio.shield(task)``: the awaiter waits on shield's outer future, so a
        cancel of the awaiter cancels only that (CancelledError here at once); the task is
        not cancelled and runs on (Lib/asyncio/tasks.py, ``shield``)."""
        label = f"await asyncio.shield({child.name})"
        yield from self.await_until(co, lambda: child.future.is_done, label)
        return self._outcome_in(co, child, label)

    def gather_in(self, co: Lane, kids: list[TaskRun]) -> Actor:
        """``await asyncio.gather(...)`` in a coroutine: the first exception propagates at
        once (the other children run on); a cancel of the waiter cancels every child, and
        the waiter gets CancelledError once they are all done (``_GatheringFuture``)."""
        for kid in kids:
            kid.future.retrieved = True  # gather's _done_callback reads every exception
        progress = Progress(self.runtime, kids)

        def finished() -> bool:
            return progress.all_done or progress.errored > 0

        try:
            yield from self.await_until(co, finished, "await gather(...)")
        except Cancelled as exc:
            for kid in kids:
                if not kid.future.is_done:
                    why = "the gather() it belongs to was cancelled"
                    self.cancel(kid, why, exc.message or None, by=co.id)
            yield from self._settle_all(co, kids, "gather() cancelling its children")
            raise
        first = next((r for r in progress.update().order if r.future.error), None)
        if first is not None:
            self._outcome_in(co, first, "await gather(...)")  # the first exception propagates
        return [self._outcome_in(co, kid, "await gather(...)") for kid in kids]

    def _outcome_in(self, co: Lane, run: TaskRun, step: str) -> Any:
        """What ``step`` in the coroutine on ``co`` gets of ``run``: its value, or its
        exception raised again there, told by an ``AwaitReraised``."""
        try:
            return _outcome_of(run)
        except SimError as exc:
            self.world.emit(
                AwaitReraised,
                lane=co.id,
                task=co.task.name if co.task is not None else None,
                awaited=run.name,
                step=step,
                error=exc.error,
                message=exc.message,
            )
            raise


def _outcome_of(run: TaskRun) -> Any:
    """``future.result()`` inside a coroutine: the value, or the task's exception raised
    again. Not a ResultReceived: that event is main's collecting of results."""
    future = run.future
    future.retrieved = True
    error = future.error
    if error is None:
        return future.value
    if isinstance(error, Cancelled):
        raise Cancelled(error.message)
    raise SimError(error.error, error.message)
