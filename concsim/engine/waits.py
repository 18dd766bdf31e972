"""What a lane waits for: the value its actor yields, which the driver keeps as ``lane.wait``.

An actor suspends by yielding one of these, ``yield IoWait(until)``; ``World.resume`` (the
driver) records it on the lane, starts the timer of a timed wait, and resumes the actor
later with the result (a value sent in, or an exception thrown at the ``yield``, which is
where CPython raises it). A fault reads ``lane.wait`` to learn where the lane is stopped:
it needs no flag per kind of wait.

Invariants (checked by the faults and the GIL model, kept by the driver):

- ``lane.wait is None`` while the lane's own code runs, before it first runs, and after
  its actor ended. A lane another lane's code looks at is never running, so its wait
  says exactly where it is parked.
- A thread (or process) lane holds ``IoWait``, ``Overhead``, ``NativeRun``, ``CpuRun``,
  ``GilWait``, ``GilRetake``, ``CoreWait``, ``LockWait``, ``QueueWait``, ``FutureWait``,
  ``StartWait``, ``WorkWait`` or ``PrimitiveWait``.
- A coroutine lane holds ``IoWait`` (``await asyncio.sleep``, awaited I/O), ``Awaiting``,
  ``FutureWait`` (main() collecting), ``LockWait``/``QueueWait``/``PrimitiveWait`` (their asyncio
  counterparts) while parked, so the loop runs others; and ``BlockingCall``, ``CpuRun``,
  ``NativeRun``, ``GilWait``, ``CoreWait`` while it holds the loop (nothing else runs).
- ``GilRetake`` is held only by a thread (not a coroutine) waiting in ``gil.waiters`` or
  handed the GIL and not yet resumed; its actor is suspended at the ``CpuRun`` it held.
- ``CpuRun`` is held only by the lane running Python code on its thread, with the GIL
  (if the build has one) and a core: a waiting thread's switch interval preempts it.
- ``Hung`` wraps the wait a ``hang`` fault froze; whatever it wraps, no timer and no
  waker ends it.
- ``FutureWait`` is the only wait a ``timeout`` fault ends (main() in ``result(timeout)``,
  ``wait``, ``as_completed``, ``wait_for``).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

# NamedTuples rather than dataclasses: one is made for every wait, and a tuple is built
# without an ``__init__`` call, which matters on the path of a simulated sleep.


class IoWait(NamedTuple):
    """Blocking I/O or a sleep without the GIL (``time.sleep``, ``await asyncio.sleep``)
    ending at ``until`` (virtual microseconds) unless hung or interrupted."""

    until: int


class BlockingCall(NamedTuple):
    """A blocking call inside ``async def``: the event loop itself is stuck until ``until``."""

    until: int


class NativeRun(NamedTuple):
    """C code that released the GIL, on a core until ``until``."""

    until: int


class CpuRun(NamedTuple):
    """Python code holding the GIL and a core until ``until``, unless preempted first."""

    until: int


class Overhead(NamedTuple):
    """Time spent in machinery the model does not break down, until ``until``: a process
    starting (``multiprocessing`` spawn) or pickling its arguments and results."""

    until: int


class GilWait(NamedTuple):
    """``take_gil``: waiting for the GIL (Python/ceval_gil.c)."""


class GilRetake(NamedTuple):
    """``take_gil`` after ``drop_gil`` at an eval-breaker check (Python/ceval_gil.c): Python
    code a drop request stopped with ``remaining`` microseconds of it left (its ``label``
    the step it shows). The code's frame stays where it was, at its ``CpuRun``: the GIL
    model parks the thread and, once handed the GIL, runs the rest (Cores._preempt)."""

    remaining: int
    label: str


class CoreWait(NamedTuple):
    """Runnable, waiting for a free CPU core."""


class LockWait(NamedTuple):
    """``threading.Lock.acquire`` (or ``asyncio.Lock``, an RLock, a semaphore) blocked on
    ``lock``; with a timeout, it gives up at ``until`` (its waiter list's timer, not the
    driver's: whoever releases may hand it over first)."""

    lock: str
    until: int | None = None


class QueueWait(NamedTuple):
    """``queue.Queue.get`` on an empty queue, or ``put`` on a full one."""

    queue: str


class FutureWait(NamedTuple):
    """The main program waiting for results (``result``, ``wait``, ``as_completed``,
    ``join``, shutdown): the one wait a ``timeout`` fault can end."""

    label: str


class StartWait(NamedTuple):
    """``Thread.start()`` waiting for the new thread to run (``self._started.wait()``, with
    no timeout: a ``timeout`` fault has nothing to end here)."""

    thread: str


class WorkWait(NamedTuple):
    """An idle pool worker in ``work_queue.get()`` (concurrent/futures/thread.py,
    ``_worker``), woken by new work or shutdown."""


class Awaiting(NamedTuple):
    """A coroutine parked at an ``await`` of something not yet done (``label`` says what)."""

    label: str


class PrimitiveWait(NamedTuple):
    """``Event.wait``, ``Condition.wait`` or ``Barrier.wait`` (threading or asyncio)
    blocked on the primitive named ``primitive``, until another lane signals it or its
    timeout (a timer of its own) ends the wait."""

    primitive: str


class Hung(NamedTuple):
    """A wait that a ``hang`` fault froze: it never ends by itself (no timer, no waker);
    only an exception thrown at it (a cancel, Ctrl-C) moves the lane on."""

    of: IoWait | BlockingCall | LockWait | QueueWait | FutureWait | StartWait | PrimitiveWait


Wait = (
    IoWait
    | BlockingCall
    | NativeRun
    | CpuRun
    | Overhead
    | GilWait
    | GilRetake
    | CoreWait
    | LockWait
    | QueueWait
    | FutureWait
    | StartWait
    | WorkWait
    | Awaiting
    | Hung
    | PrimitiveWait
)

Timed = IoWait | BlockingCall | NativeRun | CpuRun | Overhead
TIMED = (IoWait, BlockingCall, NativeRun, CpuRun, Overhead)
"""Waits that end by themselves at ``until``: the driver starts their timer."""

GIL_WAIT = GilWait()
CORE_WAIT = CoreWait()
WORK_WAIT = WorkWait()

# ``IoWait(until)`` calls the ``__new__`` that ``NamedTuple`` generates, a Python function;
# on the hot paths (every simulated sleep, every stretch of Python code) the waits are
# built by ``tuple.__new__`` directly, the same object without that frame:
# ``new_io_wait((until,))`` is ``IoWait(until)``.
new_io_wait = partial(tuple.__new__, IoWait)
new_cpu_run = partial(tuple.__new__, CpuRun)
new_gil_retake = partial(tuple.__new__, GilRetake)
