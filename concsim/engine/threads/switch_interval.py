"""The switch interval (Python/ceval_gil.c, ``take_gil``): when a waiting thread's timed
wait on ``gil->cond`` ends with no switch in between, and so when the holder is asked to
drop the GIL.

In CPython every thread that wants the GIL waits on the condition for up to the switch
interval, counted from when *it* began waiting (``COND_TIMED_WAIT(gil->cond, gil->mutex,
interval, timed_out)``). When the wait times out and ``gil->switch_number`` is still the
one it saved before waiting, it sets the interpreter's one ``gil_drop_request``; otherwise
it saves the new switch number and waits another interval. So a waiter's timeouts fall on
its own grid (``since + k * interval``), and the first timeout after a switch only starts a
fresh interval: the drop request comes one interval later.

The model does not schedule those timeouts one by one. The drop request is a property of
the GIL (``SET_GIL_DROP_REQUEST(interp)``), so one timer per GIL stands for all its waiters:
``next_drop`` works out the earliest instant at which some waiter's timeout finds the switch
number unchanged, and the GIL model (threads/gil.py) re-arms that timer whenever the holder
or the set of waiters changes. The number of scheduled callbacks then follows the GIL's
hand-offs, not its waiters.
"""

from __future__ import annotations

from ..runtime import Gil, TimerStage


def wait_interval(switch_interval: int) -> int:
    """How long a waiter's timed wait lasts, in microseconds: the switch interval, but at
    least 1 (take_gil: ``interval = (gil->interval >= 1 ? gil->interval : 1)``), so that
    an interval below a microsecond (stored as 0) still lets the holder run."""
    return max(1, switch_interval)


def first_timeout_after(since: int, start: int, interval: int) -> int:
    """The first instant on a waiter's grid (``since + k * interval``, ``k >= 1``) at or
    after ``start``."""
    steps = max(1, -(-(start - since) // interval))  # ceil((start - since) / interval)
    return since + steps * interval


def next_drop(gil: Gil, interval: int, after: int) -> int:
    """The earliest instant, at or after ``after``, at which a waiter of ``gil`` times out
    and finds ``gil->switch_number`` unchanged since its wait began (so it sets the drop
    request). ``gil.waiting_since`` must not be empty.

    A waiter that began after the last switch saved the current switch number: each of
    its timeouts requests the drop. One that began before it saved an older number: its
    first timeout at or after the switch only saves the new one (a timeout at the very
    instant of the switch came before it if ``gil.waits_ended_first``, and then counts as
    one before the switch), and the next requests the drop."""
    best = -1
    switches, switched_at = gil.switches, gil.switched_at
    for since, seen in gil.waiting_since.values():
        if seen == switches:
            due = since + interval
        else:
            # first_timeout_after(since, switched_at, interval), inline: one per waiter
            stale = since + interval
            if stale < switched_at:
                stale += -(-(switched_at - stale) // interval) * interval
            if stale == switched_at and gil.waits_ended_first:
                stale += interval
            due = stale + interval
        if due < after:
            due += -(-(after - due) // interval) * interval
        if best < 0 or due < best:
            best = due
    return best


def timer_for(due: int, interval: int, now: int) -> tuple[int, TimerStage]:
    """When the GIL's timer runs for a drop request due at ``due``, and as what.

    Invariant: among the callbacks due at ``due``, the drop request keeps the place the
    waiter's own timer had: after those scheduled before its timed wait began (at ``due -
    interval``), before those scheduled after. If that wait began now or before, the timer
    is armed now for ``due``. If it is still to come, the timer first runs at ``due -
    interval`` (the timeout that saw a switch and waits again) and arms the drop request
    there, so that a stretch of code started in between and ending at ``due`` still ends
    before the drop request, as it did with a timer per waiter."""
    if due - interval <= now:
        return due, TimerStage.DROP
    return due - interval, TimerStage.WAIT_AGAIN
