"""The records of concsim.live.pool_threads, turned into events: a process pool's manager
thread gets its lane as it starts, named as CPython named it (``Thread-N``, the lane
``thread-N``, as the simulator draws it); each done-callback call is a ``CallbackInvoked``
on the lane of the thread that made it; each ``cancel()`` shown a ``CancelRequested`` whose
``by`` is the lane that called it."""

from __future__ import annotations

from itertools import count

from concsim.events import CallbackInvoked, CancelRequested, LaneKind, LaneState
from concsim.live.lanes import LaneBook, Record, thread_lane

REASONS = {
    "flag_executor_shutting_down": "shutdown(cancel_futures=True): the pool's manager thread "
    "cancels the futures still pending when it wakes",
    "result_iterator": "Executor.map cancels the futures it has not returned yet when it "
    "stops early",
}
"""Why CPython's own code called ``cancel()``, by the function that called it."""


class PoolRecords(LaneBook):
    """The translator's handlers for the pool's threads, callbacks and cancels."""

    def _on_pool_thread(self, record: Record, t: float) -> None:
        name = record["name"]
        taken = set(self.lanes.values())
        lane = thread_lane(name)
        if lane is None or lane in taken:
            lane = next(f"thread-{n}" for n in count(1) if f"thread-{n}" not in taken)
        self.lanes[(record["pid"], record["tid"])] = lane
        self._lane(lane, t, LaneKind.THREAD, name, "main")

    def _on_pool_thread_end(self, record: Record, t: float) -> None:
        lane = self.lanes.get((record["pid"], record["tid"]))
        if lane is not None:
            self._state(lane, t, LaneState.DONE, "exited")

    def _on_callback(self, record: Record, t: float) -> None:
        lane = self.lane_of(record, t)
        self.emit(
            CallbackInvoked,
            t,
            lane=lane,
            task=record["task"],
            callback=record["callback"],
            thread=record["thread"],
        )

    def _on_cancel_call(self, record: Record, t: float) -> None:
        accepted = bool(record["accepted"])
        reason = REASONS.get(record["by"])
        if reason is None:
            reason = "it had not started, so it never will" if accepted else "it is running or done"
        lane = self.lane_of(record, t)
        self.emit(
            CancelRequested, t, task=record["task"], accepted=accepted, reason=reason, by=lane
        )
