"""threading.Lock: does release() hand the lock to a blocked waiter, or can the releaser
take it again first?

CPython 3.11 (Modules/_threadmodule.c, acquire_timed; Python/thread_pthread.h,
PyThread_acquire_lock_timed with USE_SEMAPHORES): a lock is a POSIX semaphore. release()
is sem_post: the lock is free at once and one sleeping waiter is woken. The woken thread
takes the semaphore in sem_wait, *without* the GIL, when the OS runs it; until then the
lock is free and the releaser's next acquire() (a sem_trywait, with the GIL held) takes it.

Each trial: main holds the lock, a thread blocks in acquire(), main releases it, spins
SPIN of bytecode (keeping the GIL: less than one switch interval, so the waiter cannot
have had the GIL) and tries acquire(False). False means the waiter took the lock without
the GIL; True means the releaser barged in first.

    python benchmarks/cpython_facts/lock_barging.py
"""

from __future__ import annotations

import os
import threading
import time

TRIALS = 40


def spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def trial(lock: threading.Lock, gap: float) -> bool:
    lock.acquire()

    def waiter() -> None:
        lock.acquire()
        lock.release()

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.005)  # the waiter is now blocked in acquire()
    lock.release()
    spin(gap)
    again = lock.acquire(False)
    if again:
        lock.release()
    thread.join()
    return again


def main() -> None:
    lock = threading.Lock()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for gap in (0.0, 0.00001, 0.00003, 0.0001, 0.0003, 0.001, 0.003):
        barged = sum(trial(lock, gap) for _ in range(TRIALS))
        print(
            f"acquire {gap * 1e6:5.0f} us after release: the releaser took it again "
            f"{barged}/{TRIALS}, the woken waiter had it {TRIALS - barged}/{TRIALS}"
        )


if __name__ == "__main__":
    main()
