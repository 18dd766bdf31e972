"""A TaskGroup whose ``async with`` body runs steps of its own (Lib/asyncio/taskgroups.py,
``TaskGroup._on_task_done`` and ``TaskGroup.__aexit__``): a child that fails while the body
runs cancels the parent task at its current await."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from concsim.events import FutureState, Phase, PhaseBegan, PhaseEnded

from ..flow import BreakLoop, ContinueLoop, Returned, Stopped
from ..reprs import TASKGROUP_MESSAGE
from ..runtime import Actor, Cancelled, GroupError, Lane, SimError, TaskRun
from ..runtime_core import Progress
from .collecting import heard_of_all
from .timeouts import Timeouts


class _Group:
    """The state of one ``TaskGroup``: ``_aborting``, ``_parent_cancel_requested``, and
    whether the parent is still in the body (``_exiting`` not yet set)."""

    def __init__(self) -> None:
        self.aborting = False
        self.parent_cancel_requested = False
        self.in_body = True


class TaskGroups(Timeouts):
    """``async with asyncio.TaskGroup() as tg: tg.create_task(...); <steps>``."""

    def taskgroup_body(
        self, co: Lane, run: TaskRun | None, kids: list[TaskRun], steps: Sequence[Any]
    ) -> Actor:
        """The body runs in the parent task while its children run. ``_on_task_done`` of a
        failed child, while the body runs, aborts the group (cancels the other children)
        and calls ``_parent_task.cancel()``: the body's current await raises CancelledError.
        ``__aexit__`` then calls ``uncancel()``; with no other cancel pending the
        CancelledError is dropped, and once every child is done the group raises
        ExceptionGroup of the children's failures and the body's own exception (not a
        CancelledError). A cancel from elsewhere with no failure is re-raised as is."""
        group = _Group()
        owner = run.name if run is not None else "main"
        errors: list[SimError] = []  # ``self._errors``, in the order the group heard of them

        def abort(reason: str) -> None:
            if not group.aborting:
                group.aborting = True
                self._cancel_all(kids, reason, co.id)

        def on_done(future: Any) -> None:
            if future.state is not FutureState.FAILED:
                return
            errors.append(future.error)
            why = f"{future.task.name} raised {future.error.error}"
            first = not group.aborting  # in the body, only this aborts the group
            abort(f"TaskGroup cancels the other tasks because {why}")
            if first and group.in_body:
                group.parent_cancel_requested = True
                reason = f"TaskGroup cancels {owner}, whose async with body runs, because {why}"
                self.cancel(run, reason, by=co.id) if run is not None else self.cancel_main()
            elif first:
                self.late_cancel(co, future)

        for kid in kids:
            kid.future.retrieved = True  # the group collects every child's exception
            kid.future.add_done_callback(lambda future: self.call_soon(partial(on_done, future)))
        error: SimError | None = None
        flow: Exception | None = None
        try:
            yield from self.runtime.interp.run_steps(co, run, steps, [])
        except (BreakLoop, ContinueLoop, Returned, Stopped) as leaving:
            flow = leaving  # __aexit__(None, ...): the group waits, then the jump goes on
        except SimError as exc:
            error = exc
        group.in_body = False
        propagate = error if isinstance(error, Cancelled) else None
        if group.parent_cancel_requested:
            co.cancel_requests -= 1  # uncancel()
            if co.cancel_requests == 0:
                propagate = None
        if error is not None:
            abort(f"the async with body of the TaskGroup in {owner} raised {error.error}")
        cancelled = yield from self._group_exit(co, kids, group, abort)
        propagate = cancelled or propagate
        _raise_at_exit(heard_of_all(errors, kids), propagate, error)
        if flow is not None:
            raise flow

    def _group_exit(self, co: Lane, kids: list[TaskRun], group: _Group, abort: Any) -> Actor:
        """``__aexit__``'s wait for every child. A cancel of the parent meanwhile aborts the
        group and is the one to propagate, unless the group was aborting already."""
        cancelled: Cancelled | None = None
        progress = Progress(self.runtime, kids)
        self.world.emit(PhaseBegan, lane=co.id, phase=Phase.SHUTDOWN, step="TaskGroup.__aexit__")
        while not progress.all_done:
            try:
                yield from self.await_until(co, lambda: progress.all_done, "TaskGroup.__aexit__")
            except Cancelled as exc:
                if not group.aborting:
                    cancelled = exc
                    abort("the task running the TaskGroup was cancelled")
        self.world.emit(PhaseEnded, lane=co.id, phase=Phase.SHUTDOWN, step="TaskGroup.__aexit__")
        return cancelled


def _raise_at_exit(errors: list[SimError], propagate: SimError | None, error: Any) -> None:
    """The end of ``__aexit__``: the cancel to propagate if no child failed, else the
    ExceptionGroup of the failures, the body's own exception (not a cancel) last."""
    if propagate is not None and not errors:
        raise propagate
    if error is not None and not isinstance(error, Cancelled):
        errors.append(error)
    if errors:
        raise GroupError(TASKGROUP_MESSAGE, errors)
