"""How main() collects its tasks: ``gather``, ``asyncio.TaskGroup``, ``as_completed``,
``asyncio.wait`` and awaiting one task (Lib/asyncio/tasks.py, Lib/asyncio/taskgroups.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from concsim.events import (
    CancelRequested,
    FutureState,
    LaneState,
    Phase,
    PhaseBegan,
    PhaseEnded,
    ResultReceived,
)
from concsim.scenario import model as m
from concsim.scenario.tree import child_tasks

from ..phases import in_phase
from ..reprs import TASKGROUP_MESSAGE
from ..runtime import Actor, Cancelled, GroupError, Lane, SimError, TaskRun
from ..runtime_core import TIMED_OUT, Progress
from ..waits import FutureWait
from .tasks import Tasks


class Collecting(Tasks):
    """main()'s ways of waiting for the tasks it created."""

    gathering: list[TaskRun] | None = None  # the children of the gather main awaits now
    gather_cancelled = False  # that gather's own cancel() was called (a ``cancel`` fault)

    def _selected(self, names: Any) -> list[TaskRun]:
        runs = [r for r in self.runtime.tasks if not r.submitted]
        children = child_tasks(self.world.scenario)
        if children:  # tasks that other tasks create are not main's to submit
            runs = [r for r in runs if r.spec.name not in children]
        if names == "all":
            return runs
        return [r for r in runs if r.name in names or r.spec.name in names]

    def collect(self, lane: Lane) -> Actor:
        collect = self.program.collect
        for run in self._selected("all"):
            yield from self.start_task(lane, run)
        # gather(*tasks): the tasks main's submit made, not those a create_task, gather or
        # taskgroup step made (the program names those on their own: NAME_task)
        children = child_tasks(self.world.scenario)
        runs = [r for r in self.runtime.tasks if r.submitted and r.spec.name not in children]
        deadline = None if collect.timeout is None else self.world.clock.now + collect.timeout
        pattern = collect.pattern
        if pattern is m.Pattern.GATHER:
            yield from self._gather(lane, runs, deadline)
        elif pattern is m.Pattern.TASKGROUP:
            yield from self._taskgroup(lane, runs, deadline)
        elif pattern is m.Pattern.AS_COMPLETED:
            yield from self._as_completed(lane, runs, deadline)
        elif pattern is m.Pattern.WAIT:
            yield from self._wait(lane, runs, deadline, collect.return_when)
        elif pattern is m.Pattern.RESULT:
            for run in runs:
                yield from self._await_task(lane, run)

    def _gather(self, lane: Lane, runs: list[TaskRun], deadline: int | None) -> Actor:
        collect = self.program.collect
        for run in runs:
            run.future.retrieved = True  # gather's done-callback reads every child's exception

        progress = Progress(self.runtime, runs)

        def finished() -> bool:
            if progress.all_done:
                return True
            return not collect.return_exceptions and progress.errored > 0

        self.gathering = runs  # what a cancel of the gather itself cancels
        try:
            if finished() and self.world.machine.python.at_least < (3, 12):
                yield from self._done_callbacks_soon(lane)
            got = yield from self.await_until(lane, finished, "await gather(...)", deadline)
        except Cancelled:
            if not collect.shield:  # cancelling a gather cancels its children, then waits
                # until it is done: as it would be anyway (``finished``), so without
                # return_exceptions at the first child that ends cancelled or failed
                # (tasks.py, gather's ``_done_callback``), the others still cleaning up.
                self._cancel_all(runs, "the gather() it belongs to was cancelled", lane.id)
                label = "gather() cancelling its children"
                settling = self._settle(lane, finished, label)
                yield from in_phase(self.world, lane, Phase.CANCELLING, label, settling)
            raise
        finally:
            self.gathering = None
        if got is TIMED_OUT:
            if not collect.shield:
                why = "wait_for() timed out and cancelled gather(), which cancels its children"
                self._cancel_all(runs, why, lane.id)
                yield from self._settle(lane, finished, "wait_for() waiting for cancellation")
            raise SimError("TimeoutError", "")
        if collect.return_exceptions and self.gather_cancelled:
            raise Cancelled()  # _GatheringFuture._cancel_requested: CancelledError, no list
        if collect.return_exceptions:
            for run in runs:
                error = run.future.error
                value = run.future.value if error is None else repr(error)
                if isinstance(error, Cancelled):
                    # gather's _done_callback: ``CancelledError('' if fut._cancel_message
                    # is None else fut._cancel_message)``, always with its argument
                    value = f"CancelledError({error.message!r})"
                self.world.emit(ResultReceived, task=run.name, value=value)
                for step in self.program.on_result:
                    yield from self.runtime.interp.step(lane, None, step, [])
            return
        first = next((r for r in progress.update().order if r.future.error), None)
        if first is not None:
            self.runtime.receive(first)  # raises: the first exception propagates
        for run in runs:
            yield from self._receive(lane, run)

    def _done_callbacks_soon(self, co: Lane) -> Actor:
        """3.11's ``gather`` adds ``_done_callback`` to each child even when it is already
        done, and ``Future.add_done_callback`` schedules it with ``call_soon``: the outer
        future is done only once those run, so ``await gather(...)`` of finished tasks
        still suspends, and the tasks ready before it run first. 3.12 calls it at once for
        a child already done (``done_futs``, for the eager task factory): no suspension."""
        label = "await gather(...)"
        yield from self.await_(co, LaneState.BLOCKED, label, self._soon, FutureWait(label))

    def _soon(self, wake: Callable[..., None]) -> Callable[[], None]:
        self.call_soon(wake)
        return lambda: None

    def late_cancel(self, co: Lane, future: Any) -> None:
        """``_on_task_done`` of the first child to fail once ``__aexit__`` runs (the body
        has ended): ``self._parent_task.cancel()`` as in the body, but the
        ``uncancel()`` that balances it came earlier in ``__aexit__``, so on 3.11 and 3.12
        the parent's ``cancelling()`` stays one up for good (fixed in 3.13, gh-116720,
        where ``__aexit__`` uncancels after its wait). The CancelledError lands on
        ``__aexit__``'s own wait, which drops it (``if not self._aborting``): what is left
        is the count, which an enclosing ``asyncio.timeout()`` reads -- it no longer turns
        its cancel into TimeoutError."""
        if self.world.machine.python.at_least >= (3, 13):
            return
        co.cancel_requests += 1  # Task._num_cancels_requested, never taken back
        owner = co.task.name if co.task is not None else "main"
        self.world.emit(
            CancelRequested,
            task=owner,
            accepted=True,
            by=co.id,
            reason=(
                f"TaskGroup cancels {owner}, whose async with body has ended, because "
                f"{future.task.name} raised {future.error.error}; __aexit__ drops the "
                "CancelledError but never uncancels it"
            ),
        )

    def _taskgroup(
        self, lane: Lane, runs: list[TaskRun], deadline: int | None, *, collecting: bool = True
    ) -> Actor:
        """``async with asyncio.TaskGroup() as tg`` (Lib/asyncio/taskgroups.py): the first
        failure (heard of in ``_on_task_done``) cancels the other children; ``__aexit__``
        waits for all of them and raises an ExceptionGroup of every failure. ``collecting``:
        main() then reads each result (``task.result()``); a task's group reads none."""
        state: dict[str, Any] = {"aborting": False}
        errors: list[SimError] = []  # ``self._errors``, in the order the group heard of them

        def abort(reason: str) -> None:
            if not state["aborting"]:
                state["aborting"] = True
                self._cancel_all(runs, reason, lane.id)

        def on_done(future: Any) -> None:
            if future.state is FutureState.FAILED:
                errors.append(future.error)
                first = not state["aborting"]
                abort(
                    f"TaskGroup cancels the other tasks because {future.task.name} raised "
                    f"{future.error.error}"
                )
                if first:  # _abort(), then self._parent_task.cancel()
                    self.late_cancel(lane, future)

        def schedule_on_done(future: Any) -> None:
            # Future.__schedule_callbacks: done-callbacks go through loop.call_soon, so a
            # child whose step is already in the ready queue runs it before the group
            # hears of a sibling's failure. Two children failing at the same instant both
            # raise, and both are in the ExceptionGroup.
            self.call_soon(partial(on_done, future))

        for run in runs:
            run.future.retrieved = True  # the group collects every child's exception
            run.future.add_done_callback(schedule_on_done)
        interrupted: SimError | None = None
        progress = Progress(self.runtime, runs)
        self.world.emit(PhaseBegan, lane=lane.id, phase=Phase.SHUTDOWN, step="TaskGroup.__aexit__")
        while not progress.all_done:
            try:
                got = yield from self.await_until(
                    lane,
                    lambda: progress.all_done,
                    "TaskGroup.__aexit__",
                    deadline,
                )
            except Cancelled as exc:
                interrupted = exc
                abort("the task running the TaskGroup was cancelled")
                continue
            if got is TIMED_OUT:
                interrupted = SimError("TimeoutError", "")
                deadline = None
                abort("asyncio.timeout() expired around the TaskGroup")
        self.world.emit(PhaseEnded, lane=lane.id, phase=Phase.SHUTDOWN, step="TaskGroup.__aexit__")
        _raise_group_error(runs, errors, interrupted)
        if collecting:
            for run in runs:
                yield from self._receive(lane, run)

    def _as_completed(self, lane: Lane, runs: list[TaskRun], deadline: int | None) -> Actor:
        progress = Progress(self.runtime, runs)
        taken = 0
        while taken < len(runs):
            if taken == len(progress.update().order):
                got = yield from self.await_until(
                    lane,
                    partial(progress.has_more_than, taken),
                    "as_completed()",
                    deadline,
                )
                if got is TIMED_OUT:
                    raise SimError("TimeoutError", "")
                continue
            taken += 1
            yield from self._receive(lane, progress.order[taken - 1])

    def _wait(
        self, lane: Lane, runs: list[TaskRun], deadline: int | None, when: m.ReturnWhen
    ) -> Actor:
        progress = Progress(self.runtime, runs)
        yield from self.await_until(
            lane, partial(progress.reached, when), f"asyncio.wait({when.value})", deadline
        )
        for run in list(progress.update().order):
            yield from self._receive(lane, run)

    def _await_task(self, lane: Lane, run: TaskRun) -> Actor:
        """``await task`` (or ``await wait_for(task, timeout)``): cancelling the waiter
        cancels the task, unless it is shielded."""
        collect = self.program.collect
        deadline = None if collect.timeout is None else self.world.clock.now + collect.timeout
        try:
            got = yield from self.await_until(
                lane, lambda: run.future.is_done, f"await {run.name}", deadline
            )
        except Cancelled:
            if not collect.shield:
                self.cancel(run, "the coroutine awaiting it was cancelled", by=lane.id)
                yield from self._settle_all(lane, [run], f"await {run.name}")
            raise
        if got is TIMED_OUT:
            if not collect.shield:
                why = "asyncio.wait_for() timed out and cancels the task it waits for"
                self.cancel(run, why, by=lane.id)
                yield from self._settle_all(lane, [run], f"wait_for({run.name}) cancelling")
            raise SimError("TimeoutError", "")
        yield from self._receive(lane, run)


def _raise_group_error(
    runs: list[TaskRun], errors: list[SimError], interrupted: SimError | None
) -> None:
    """How ``TaskGroup.__aexit__`` ends once every child is done: an ExceptionGroup of the
    failures (in the order the group heard of them), else the cancellation or timeout that
    interrupted the wait, else nothing."""
    errors = heard_of_all(errors, runs)
    if errors:
        raise GroupError(TASKGROUP_MESSAGE, errors)
    if interrupted is not None:
        raise interrupted


def heard_of_all(errors: list[SimError], runs: list[TaskRun]) -> list[SimError]:
    """``self._errors`` once ``__aexit__`` goes on: every child's ``_on_task_done`` has run
    by then, so each failed child's exception is in it, in the order they were heard of."""
    errors = list(errors)
    for run in runs:
        error = run.future.error
        if run.future.state is FutureState.FAILED and error is not None and error not in errors:
            errors.append(error)
    return errors
