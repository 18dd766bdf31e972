"""ThreadPoolExecutor: what does shutdown(cancel_futures=True) right after the submits cancel?

CPython (Lib/concurrent/futures/thread.py, ThreadPoolExecutor._adjust_thread_count and
_worker; Lib/threading.py, Thread.start waits for self._started): each submit that
starts a new worker returns only once that thread runs, and the new thread holds the GIL
from there on until it blocks -- it takes its work item from the queue first. So the
first max_workers items are running, the rest are still queued and are cancelled.
With CPU-bound tasks a few more may run: main waits for the GIL after each start, and a
worker that finishes meanwhile takes the next item.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor


def io_task() -> None:
    time.sleep(0.01)


def cpu_task() -> None:
    end = time.perf_counter() + 0.02
    while time.perf_counter() < end:
        pass


def trial(fn: object, workers: int, tasks: int) -> tuple[int, int]:
    ex = ThreadPoolExecutor(max_workers=workers)
    futures = [ex.submit(fn) for _ in range(tasks)]  # type: ignore[arg-type]
    ex.shutdown(wait=True, cancel_futures=True)
    cancelled = sum(f.cancelled() for f in futures)
    return tasks - cancelled, cancelled


def main() -> None:
    tasks = (io_task,) if "--io" in sys.argv else (io_task, cpu_task)
    for fn in tasks:
        for workers, tasks in ((2, 5), (4, 10), (1, 3)):
            seen = Counter(trial(fn, workers, tasks) for _ in range(50))
            shown = ", ".join(f"{ran} ran/{c} cancelled x{n}" for (ran, c), n in seen.most_common())
            print(f"{fn.__name__} max_workers={workers} submit {tasks}: {shown}")


if __name__ == "__main__":
    main()
