"""Timeouts made to expire now: the ``timeout`` fault on the real program.

The simulator's ``timeout`` (``concsim.engine.faults.Faults._timeout``) ends a wait that has
a timeout as if its time had run out: an asyncio task awaited through
``asyncio.wait_for(..., timeout)`` is cancelled and its waiter gets ``TimeoutError``;
otherwise main's current timed wait (``Future.result(timeout)``, ``as_completed``,
``wait``, ``Thread.join(timeout)``, ``asyncio.wait_for``/``timeout``/``wait``) returns or
raises ``TimeoutError`` now. Live, the same happens to CPython's own code:

- asyncio: every timeout of the standard library is a timer handle whose callback is
  ``_release_waiter`` (``asyncio.tasks.wait_for``, ``asyncio.wait``), ``Timeout._on_timeout``
  (``asyncio.timeout``) or ``_on_timeout`` (``asyncio.as_completed``), scheduled with
  ``BaseEventLoop.call_at``. The wrapped ``call_at`` keeps the latest such handle of each
  task; expiring it is cancelling the handle and running its callback now, in the loop.
  An await of main with no timeout in the program times out as if main's body ran inside
  ``asyncio.timeout()``, as the simulator's does: main's task is cancelled (a ``gather``
  or ``TaskGroup`` it awaits cancels its children) and the ``CancelledError`` that leaves
  main becomes ``TimeoutError`` (``asyncio.timeouts.Timeout.__aexit__`` does the same);
  main's coroutine runs inside a thin wrapper that converts it (``guarded``).
- threads: ``Future.result(timeout)`` waits on the future's condition and raises
  ``TimeoutError`` when woken unfinished; ``wait`` and ``as_completed`` wait on a waiter's
  event and then compare ``time.monotonic()`` with their deadline. Expiring sets the clock
  that ``concurrent.futures._base`` reads far ahead (only while that one wait lasts), then
  wakes the condition and the waiters; ``Thread.join(timeout)`` reads the same clock and
  waits on a condition that a thread's end and the expiry both notify.

A real timeout that runs out is reported too (``TimeoutExpired``). Standard library only.
"""

from __future__ import annotations

import sys
import threading
import time
from types import ModuleType

from concsim.live.probe import Reporter

TYPE_CHECKING = False  # typing costs the program's process ~5 ms to import
if TYPE_CHECKING:
    from typing import Any

_FAR = 1e9  # seconds added to concurrent.futures' clock: every deadline has passed
_UNTIMED = 1e8  # the timeout given for "no timeout": never reached, but it can be expired
_TIMER_CALLBACKS = frozenset({"_release_waiter", "_on_timeout"})
_JOIN_SLICE = 1.0  # a join looks at its thread this often, whatever wakes it


class SkewedTime:
    """``concurrent.futures._base.time``: the time module, with ``monotonic`` moved ahead
    while an expired wait lasts."""

    def __init__(self, expiry: Expiry) -> None:
        self._expiry = expiry

    def monotonic(self) -> float:
        return _real_monotonic() + self._expiry.skew

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class Expiry:
    """Knows main's current timed wait and each asyncio task's timeout; ends them on command."""

    def __init__(self, out: Reporter, futures: dict[str, Any], names: dict[int, list[str]]):
        self.out = out
        self.futures = futures  # task instance -> its Future (shared with the instruments)
        self.names = names  # id of a concurrent Future -> its task instances
        self.lock = threading.Lock()
        self.joins = threading.Condition(threading.Lock())  # a thread's run ended; expired
        self.skew = 0.0
        self.timed: list[str] = []  # main's timed waits in progress (labels), innermost last
        self.ended = 0  # how many timed waits of main have ended: a wake-up landed
        self.timers: dict[Any, Any] = {}  # asyncio task -> its latest timeout handle
        self.main_task: Any = None
        self.expiring_main = False  # main's untimed await was made to time out

    # --- threads: main's timed waits ---------------------------------------------------

    def waiting(self, label: str) -> _Waiting:
        """A context: main's timed wait ``label`` in progress."""
        return _Waiting(self, label)

    def patch_base(self, module: ModuleType) -> None:
        """``concurrent.futures._base``: its clock, ``wait``, ``as_completed`` and
        ``Future.result`` (called after the probe's own wrapper is in place)."""
        module.time = SkewedTime(self)  # type: ignore[attr-defined]
        setattr(module, "wait", self._timed_wait(module.wait))  # noqa: B010
        setattr(module, "as_completed", self._timed_as_completed(module.as_completed))  # noqa: B010
        result = module.Future.result
        setattr(module.Future, "result", self._timed_result(result))  # noqa: B010

    def patch_thread(self) -> None:
        """``Thread.join`` in the main thread waits on ``joins``, a condition notified when
        a thread's run is over (``Thread._bootstrap_inner`` returns) and when the fault
        expires the join; then joins the thread, which is going. A join that woke every few
        milliseconds to look would take the GIL from the CPU-bound threads it waits for,
        forcing switches that ``python program.py`` does not make. It still looks once a
        second (``_JOIN_SLICE``), in case a thread ends some other way."""
        join = threading.Thread.join
        bootstrap = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]
        expiry = self

        def bootstrap_inner(thread: Any) -> None:
            try:
                bootstrap(thread)
            finally:
                with expiry.joins:
                    thread._concsim_ran = True
                    expiry.joins.notify_all()

        def timed_join(thread: Any, timeout: float | None = None) -> None:
            if not _in_main_thread() or not thread._started.is_set():
                return join(thread, timeout)  # and its errors: not started, joining itself
            label = f"join {thread.name}"
            with expiry.waiting(label):
                end = _real_monotonic() + (_UNTIMED if timeout is None else timeout)
                while thread.is_alive():
                    remaining = end - (_real_monotonic() + expiry.skew)
                    if remaining <= 0:
                        expiry.out.emit("timed_out", waiter="main", on=label)
                        return None
                    with expiry.joins:
                        ran = getattr(thread, "_concsim_ran", False)
                        if not ran:
                            expiry.joins.wait(min(remaining, _JOIN_SLICE))
                    if ran:
                        join(thread, remaining)
            return None

        setattr(threading.Thread, "_bootstrap_inner", bootstrap_inner)  # noqa: B010
        setattr(threading.Thread, "join", timed_join)  # noqa: B010

    def _timed_result(self, result: Any) -> Any:
        expiry = self

        def timed_result(future: Any, timeout: float | None = None) -> Any:
            if not _in_main_thread():
                return result(future, timeout)
            # Held across the call (the condition's lock is reentrant; ``wait`` releases
            # it): a wake-up from ``expire`` cannot fall between entering and waiting.
            label = f"{expiry.name_of(future)}.result()"
            with future._condition, expiry.waiting(label):
                return result(future, timeout)

        return timed_result

    def _timed_wait(self, wait: Any) -> Any:
        expiry = self

        def timed_wait(
            fs: Any, timeout: float | None = None, return_when: str = "ALL_COMPLETED"
        ) -> Any:
            if not _in_main_thread():
                return wait(fs, timeout, return_when)
            timeout = _UNTIMED if timeout is None else timeout
            label = f"wait({str(return_when).lower()})"
            with expiry.waiting(label):
                done, not_done = wait(fs, timeout, return_when)
            if not_done and (return_when != "FIRST_COMPLETED" or not done):
                failed = any(not f.cancelled() and f.exception() is not None for f in done)
                if not (return_when == "FIRST_EXCEPTION" and failed):
                    expiry.out.emit("timed_out", waiter="main", on=label)
            return done, not_done

        return timed_wait

    def _timed_as_completed(self, as_completed: Any) -> Any:
        expiry = self

        def timed_as_completed(fs: Any, timeout: float | None = None) -> Any:
            if not _in_main_thread():
                yield from as_completed(fs, timeout)
                return
            found = as_completed(fs, _UNTIMED if timeout is None else timeout)
            while True:  # timed only while main waits inside next(), not in its loop body
                with expiry.waiting("as_completed()"):
                    try:
                        future = next(found)
                    except StopIteration:
                        return
                yield future

        return timed_as_completed

    def name_of(self, future: Any) -> str:
        names = self.names.get(id(future), [])
        return names[0] if names else "future"

    # --- asyncio: timeout handles -------------------------------------------------------

    def patch_loop(self, module: ModuleType) -> None:
        loop = module.BaseEventLoop
        call_at = loop.call_at
        expiry = self

        def recorded_call_at(loop: Any, when: float, callback: Any, *args: Any, **kw: Any) -> Any:
            if getattr(callback, "__name__", "") not in _TIMER_CALLBACKS or not getattr(
                callback, "__module__", ""
            ).startswith("asyncio."):
                return call_at(loop, when, callback, *args, **kw)
            task = _current_task()
            handle = call_at(loop, when, expiry._reported(task, callback), *args, **kw)
            if task is not None:
                expiry.timers[task] = handle
            return handle

        setattr(loop, "call_at", recorded_call_at)  # noqa: B010

    def _reported(self, task: Any, callback: Any) -> Any:
        def timed_out(*args: Any) -> Any:
            self.timers.pop(task, None)
            name = task.get_name() if task is not None else "?"
            if task is self.main_task:
                self.out.emit("timed_out", waiter="main", on="a timed await")
            else:
                self.out.emit("timed_out", waiter=f"wait_for({name})", on=name)
            return callback(*args)

        return timed_out

    # --- the fault ---------------------------------------------------------------------

    def expire(self, target: str) -> str | None:
        """Make ``target``'s timeout (or main's current timed wait) run out now; the reason
        it cannot, or None."""
        if self.main_task is not None:
            return self._expire_async(target)
        with self.lock:
            if not self.timed:
                return "the main program is not waiting for results right now"
            self.skew = _FAR
            ended = self.ended
        # A wake-up may land between main entering its wait and waiting: try again until
        # the wait has ended (or main has gone on to wait without a timeout).
        for _ in range(100):
            self._wake()
            with self.lock:
                if self.ended != ended or not self.timed:
                    return None
            time.sleep(0.01)
        return None

    def _wake(self) -> None:
        with self.joins:
            self.joins.notify_all()
        for future in list(self.futures.values()):
            if hasattr(future, "get_loop"):
                continue
            with future._condition:
                future._condition.notify_all()
                for waiter in list(future._waiters):
                    waiter.event.set()

    def _expire_async(self, target: str) -> str | None:
        loop = self.main_task.get_loop()
        done = threading.Event()
        reason: list[str | None] = ["the program's event loop did not answer"]

        def act() -> None:
            try:
                tasks = sys.modules["asyncio"].all_tasks(loop)
                task = next((t for t in tasks if t.get_name() == target), None)
                handle = self.timers.get(task) if task is not None else None
                if handle is None or handle.cancelled():
                    handle = self.timers.get(self.main_task)
                if handle is None or handle.cancelled():
                    reason[0] = self._expire_untimed()
                    return
                callback, args = handle._callback, handle._args  # cancel() clears them
                handle.cancel()  # it runs once, now, instead of at its time
                reason[0] = None
                callback(*args)
            except Exception as error:  # report, never break the program's loop
                reason[0] = f"could not apply it live: {type(error).__name__}: {error}"
            finally:
                done.set()

        loop.call_soon_threadsafe(act)
        done.wait(5.0)
        return reason[0]

    def _expire_untimed(self) -> str | None:
        """Main awaits with no timeout: cancel its task, as ``asyncio.timeout()`` would, and
        let ``guarded`` turn the ``CancelledError`` into ``TimeoutError``."""
        task = self.main_task
        if task.done() or getattr(task, "_fut_waiter", None) is None:
            return "the main program is not waiting for results right now"
        self.expiring_main = True
        self.out.emit("timed_out", waiter="main", on=_awaited(task))
        task.cancel()
        return None

    async def guarded(self, main: Any) -> Any:
        """Main's coroutine, as run by its task: a ``CancelledError`` that leaves it after
        ``_expire_untimed`` is a ``TimeoutError``, as ``asyncio.timeout()`` raises it."""
        try:
            return await main
        except BaseException as error:
            if self.expiring_main and type(error).__name__ == "CancelledError":
                raise TimeoutError from None
            raise


class _Waiting:
    """``Expiry.waiting``: a class rather than a ``contextlib.contextmanager`` generator,
    a third of the cost, as main enters one at each ``result()`` it calls."""

    __slots__ = ("expiry", "label")

    def __init__(self, expiry: Expiry, label: str) -> None:
        self.expiry = expiry
        self.label = label

    def __enter__(self) -> None:
        with self.expiry.lock:
            self.expiry.timed.append(self.label)

    def __exit__(self, kind: type[BaseException] | None, error: object, trace: object) -> None:
        expiry = self.expiry
        if kind is not None and issubclass(kind, TimeoutError):
            expiry.out.emit("timed_out", waiter="main", on=self.label)
        with expiry.lock:
            expiry.timed.pop()
            expiry.ended += 1
            if not expiry.timed:
                expiry.skew = 0.0


def _awaited(task: Any) -> str:
    """What main awaits, named as the simulator names it."""
    coro = task.get_coro()
    while coro is not None:
        code = getattr(coro, "cr_code", None)
        if code is not None and code.co_qualname == "TaskGroup.__aexit__":
            return "TaskGroup.__aexit__"
        coro = getattr(coro, "cr_await", None)
    if type(getattr(task, "_fut_waiter", None)).__name__ == "_GatheringFuture":
        return "await gather(...)"
    return "an await without a timeout"


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _current_task() -> Any:
    asyncio = sys.modules.get("asyncio")
    try:
        return asyncio.current_task() if asyncio is not None else None
    except RuntimeError:
        return None


_real_monotonic = time.monotonic
