"""Four threads started in a row, each running pure-Python work: when does each begin?

CPython (Lib/threading.py, Thread.start): start() waits on ``self._started`` with the GIL
released; the new thread takes the GIL to run its first bytecode and keeps it while it
computes, so the starting thread then waits for the GIL like any waiting thread: one
switch interval (5 ms) or more, while the threads already running take their turns too.
Prints each thread's start and end in ms over three runs (the simulator: 0, 10, 30, 60).
"""

from __future__ import annotations

import threading
import time


def loops_per_second() -> float:
    rounds = 100_000
    while True:
        start = time.thread_time()
        for _ in range(rounds):
            pass
        took = time.thread_time() - start
        if took > 0.02:
            return rounds / took
        rounds *= 2


LOOPS_PER_SECOND = loops_per_second()


def spin(seconds: float) -> None:
    for _ in range(round(seconds * LOOPS_PER_SECOND)):
        pass


def run() -> tuple[list[float], list[float]]:
    began = time.perf_counter()
    starts = [0.0] * 4
    ends = [0.0] * 4

    def adder(i: int) -> None:
        starts[i] = time.perf_counter() - began
        for _ in range(100):
            spin(0.0003)
        ends[i] = time.perf_counter() - began

    threads = [threading.Thread(target=adder, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return starts, ends


def main() -> None:
    for _ in range(3):
        starts, ends = run()
        print(
            "started at",
            " ".join(f"{t * 1000:.0f}" for t in starts),
            "ms; ended at",
            " ".join(f"{t * 1000:.0f}" for t in ends),
            "ms",
        )


if __name__ == "__main__":
    main()
