"""ProcessPoolExecutor: who moves calls into the call queue, and where done-callbacks run.

CPython 3.11 (Lib/concurrent/futures/process.py): the manager thread (_ExecutorManagerThread,
named Thread-1) moves queued calls into a call queue of max_workers + EXTRA_QUEUED_CALLS
items when it wakes (a result, a submit's wakeup, a dead worker), each future made RUNNING
on the way in; a worker taking a call does not wake it. The manager completes the futures,
so their done-callbacks run in Thread-1. The call queue's feeder thread (QueueFeederThread)
pickles each call when it runs; a call that cannot be pickled fails its own future there
(_SafeQueue._on_queue_feeder_error), after the submits, and the pool goes on.

Prints, for max_workers=1 and five 0.3 s calls: the futures' states 50 ms after the
submits and what cancel() returns for each: 2 RUNNING when the manager's last wake-up came
before the worker took the first call, 3 when after (both happen, run to run); the thread
of each done-callback; what an unpicklable argument does.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, wait


def spin(seconds: float) -> int:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
    return 0


def call_queue_bound() -> None:
    with ProcessPoolExecutor(max_workers=1) as executor:
        futures = [executor.submit(spin, 0.3) for _ in range(5)]
        time.sleep(0.05)
        print("states", [f._state for f in futures])  # type: ignore[attr-defined]
        print("cancel", [f.cancel() for f in futures])


def callback_threads() -> None:
    seen: list[str] = []

    def done(future: Future[int]) -> None:
        seen.append(threading.current_thread().name)

    with ProcessPoolExecutor(max_workers=2) as executor:
        futures = [executor.submit(spin, 0.05) for _ in range(3)]
        for future in futures:
            future.add_done_callback(done)
        wait(futures)
    print("callbacks ran in", sorted(set(seen)))


def unpicklable_argument() -> None:
    events: list[str] = []

    def done(future: Future[int]) -> None:
        error = future.exception()
        events.append(f"failed in {threading.current_thread().name}: {error!r}")

    with ProcessPoolExecutor(max_workers=2) as executor:
        bad = executor.submit(spin, threading.Lock())  # type: ignore[arg-type]
        bad.add_done_callback(done)
        events.append(f"after submit: {bad._state}")  # type: ignore[attr-defined]
        good = executor.submit(spin, 0.01)
        events.append("submitted the next call")
        wait([bad, good])
        events.append(f"next call: {good.result()!r}")
    print(*events, sep="\n")


if __name__ == "__main__":
    callback_threads()  # first: its manager is the script's first Thread-N
    call_queue_bound()
    unpicklable_argument()
