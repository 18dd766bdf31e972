"""``asyncio.run(main())`` (Lib/asyncio/runners.py): main() on the loop, then the
teardown that cancels what is left and waits for the default executor."""

from __future__ import annotations

from collections.abc import Callable

from concsim.events import LaneState, Phase, PhaseBegan, PhaseEnded
from concsim.scenario import model as m

from ..flow import Returned
from ..runtime import Actor, Cancelled, Interrupted, Lane, SimError
from ..waits import Awaiting
from .children import TaskTree
from .loop import do_nothing

_NOTHING_LEFT = "asyncio.run(): closing the loop, no task left to cancel"
"""``Runner.close`` when main() leaves no task pending: ``_cancel_all_tasks`` finds none."""


class AsyncioModel(TaskTree):
    """``asyncio.run(main())``: the loop, its tasks, and main()'s way of collecting them."""

    # --- main() -------------------------------------------------------------------------

    def main(self, lane: Lane) -> Actor:
        world = self.world
        runtime = self.runtime
        error: SimError | None = None
        runtime.interp.main_step = self._main_step  # a submit or collect inside a try or loop
        try:
            for step in self.program.main_steps:
                if isinstance(step, m.SubmitStep):
                    for run in self._selected(step.submit):
                        yield from self.start_task(lane, run)
                elif isinstance(step, m.CollectStep):
                    yield from self.collect(lane)
                else:
                    yield from runtime.interp.step(lane, None, step, [])
        except Returned:
            pass  # ``return`` ends main() normally
        except SimError as exc:
            error = exc
        lane.pending_error = None  # main() is over: nothing more can be raised in it
        if self.interrupted and isinstance(error, Cancelled):
            error = self._after_interrupt(lane, error)
        if error is not None and self.program.on_error:
            try:
                with runtime.interp.handling(lane, None, error):
                    yield from runtime.interp.run_steps(lane, None, self.program.on_error, [])
            except SimError as exc:
                error = exc
        self.in_teardown = True
        label = "asyncio.run(): cancelling remaining tasks"
        world.emit(PhaseBegan, lane=lane.id, phase=Phase.TEARDOWN, step="asyncio.run() teardown")
        left = [r for r in runtime.tasks if r.submitted and not r.future.is_done]
        if left:
            yield from self._stop_loop(lane, label)
        # asyncio.run(): cancel what is still pending (CPython iterates a set; concsim uses
        # creation order), run the loop until they finish, then wait for to_thread workers.
        # With nothing pending, _cancel_all_tasks returns at once: the lane says so.
        left = [r for r in runtime.tasks if r.submitted and not r.future.is_done]
        world.set_state(lane, LaneState.BLOCKED, label if left else _NOTHING_LEFT)
        for run in left:
            why = "asyncio.run() cancels the tasks still pending when main() ends"
            self.cancel(run, why, by=lane.id)
        yield from self._settle_all(lane, left, "asyncio.run(): cancelling remaining tasks")
        if self.interrupted_again:
            error = Interrupted()
        pool = self.default_pool
        if pool.workers:
            pool.shutdown(wait=True, cancel_futures=False)
            yield from self._settle(lane, pool.finished, "shutdown_default_executor()")
        world.emit(PhaseEnded, lane=lane.id, phase=Phase.TEARDOWN, step="asyncio.run() teardown")
        runtime.unretrieved_warnings(asyncio=True)
        # Runner.run took main()'s outcome before the teardown; asyncio.run() returns or
        # raises it only now, after Runner.close: the lane's last words say so.
        runtime.end_main(lane, error, "asyncio.run() raised" if error else "asyncio.run() returned")
        self._park(lane)

    @staticmethod
    def _after_interrupt(lane: Lane, error: Cancelled) -> SimError:
        """``Runner.run`` (Lib/asyncio/runners.py, 3.11 to 3.13) after Ctrl-C, when the
        main task ends with CancelledError: ``if task.uncancel() == 0: raise
        KeyboardInterrupt()``, else the CancelledError goes on. So a cancel request left
        over in the main task -- a TaskGroup child that failed after the body on 3.11 and
        3.12 (gh-116720) -- makes Ctrl-C end the program with CancelledError."""
        lane.cancel_requests -= 1  # uncancel()
        return Interrupted() if lane.cancel_requests <= 0 else error

    def _main_step(self, lane: Lane, step: m.SubmitStep | m.CollectStep) -> Actor:
        """A ``submit`` or ``collect`` nested in a block of main()."""
        if isinstance(step, m.SubmitStep):
            for run in self._selected(step.submit):
                yield from self.start_task(lane, run)
        else:
            yield from self.collect(lane)

    def _stop_loop(self, lane: Lane, label: str) -> Actor:
        """main() is over, but asyncio.run() cancels nothing before the loop stops
        (Lib/asyncio/base_events.py, run_until_complete): the main task's done-callback
        ``_run_until_complete_cb`` is scheduled with call_soon and stops the loop only
        after one more turn, in which everything already in the ready queue runs. So a
        task created on main()'s last line still starts, up to its first await."""
        if not self.ready:
            return

        def register(wake: Callable[..., None]) -> Callable[[], None]:
            self.call_soon(wake)
            return do_nothing

        while True:
            try:
                yield from self.await_(lane, LaneState.BLOCKED, label, register, Awaiting(label))
                return
            except Cancelled:
                continue  # main() is over: a late cancel of it changes nothing
