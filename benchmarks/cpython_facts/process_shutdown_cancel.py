"""ProcessPoolExecutor: the manager thread's name, and who cancels at shutdown(cancel_futures=True).

CPython 3.11 (Lib/concurrent/futures/process.py, Lib/threading.py, Lib/concurrent/futures/
_base.py):

- ``_ExecutorManagerThread`` calls ``Thread.__init__()`` without a name, so it takes the
  next number of ``threading._counter``, the counter every unnamed thread shares: after
  one unnamed ``Thread(target=nothing)`` the first pool's manager is ``Thread-2``, the
  second pool's ``Thread-3``, and the next unnamed thread ``Thread-4 (nothing)``.
- ``shutdown(cancel_futures=True)`` only sets flags and wakes the manager; the manager,
  when it runs, calls ``future.cancel()`` on each pending future
  (``flag_executor_shutting_down``), so their done-callbacks run in the manager thread.
- ``Future.cancel()`` sets CANCELLED and notifies the future's condition (``result()``
  wakes and raises CancelledError) but not its ``_waiters``: nobody ever calls
  ``set_running_or_notify_cancel()`` on those futures (the manager drains its work-id
  queue), so ``wait()`` and ``as_completed()`` never count them: a ``wait`` returns at
  its timeout with them in ``not_done``, ``as_completed`` raises TimeoutError.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import (
    CancelledError,
    Future,
    ProcessPoolExecutor,
    TimeoutError,
    as_completed,
    wait,
)


def nothing() -> None:
    pass


def pause(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def manager_names() -> None:
    names: list[str] = []

    def done(future: Future[float]) -> None:
        names.append(threading.current_thread().name)

    thread = threading.Thread(target=nothing)
    thread.start()
    thread.join()
    print("unnamed thread:", thread.name)
    for pool in ("first", "second"):
        with ProcessPoolExecutor(max_workers=1) as executor:
            executor.submit(pause, 0).add_done_callback(done)
        print(f"{pool} pool's manager:", names[-1])
    print("next unnamed thread:", threading.Thread(target=nothing).name)


def cancelled_at_shutdown() -> None:
    """One worker, five 0.2 s calls: two are in the call queue (RUNNING), three PENDING.
    A named thread shuts the pool down while main waits in ``wait()``."""
    executor = ProcessPoolExecutor(max_workers=1)
    futures = [executor.submit(pause, 0.2) for _ in range(5)]
    called: list[str] = []
    for future in futures:
        future.add_done_callback(
            lambda f: called.append(f"{f._state} in {threading.current_thread().name}")  # type: ignore[attr-defined]
        )
    time.sleep(0.05)

    def close() -> None:
        time.sleep(0.05)
        executor.shutdown(wait=False, cancel_futures=True)

    threading.Thread(target=close, name="closer").start()
    start = time.perf_counter()
    done, not_done = wait(futures, timeout=1.0)
    waited = time.perf_counter() - start
    print(
        f"wait: {len(done)} done, {len(not_done)} not done, returned at its timeout:", waited > 0.9
    )
    print("states:", [f._state for f in futures])  # type: ignore[attr-defined]
    print("done():", [f.done() for f in futures])
    print("cancelled callbacks ran in:", sorted({c for c in called if c.startswith("CANCELLED")}))
    try:
        for _ in as_completed(futures, timeout=0.2):
            pass
    except TimeoutError as error:
        print("as_completed:", error)
    try:
        futures[-1].result(timeout=0.2)
    except CancelledError:
        print("result(): CancelledError at once")
    executor.shutdown()


if __name__ == "__main__":
    manager_names()
    cancelled_at_shutdown()
