"""An I/O thread beside a CPU-bound thread: how long do 5 x (100 ms I/O + 1 ms CPU) take?

CPython (Python/ceval_gil.c, take_gil): a thread that wants the GIL waits one switch
interval from when *it* starts waiting, then sets the drop request; the holder lets go at
its next eval-breaker check. So each return from I/O costs about one interval (5 ms).
"""

from __future__ import annotations

import threading
import time


def spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def io_thread(done: list[float], start: float) -> None:
    for _ in range(5):
        time.sleep(0.1)
        spin(0.001)
    done.append(time.perf_counter() - start)


def main() -> None:
    done: list[float] = []
    start = time.perf_counter()
    cpu = threading.Thread(target=spin, args=(2.0,))
    io = threading.Thread(target=io_thread, args=(done, start))
    cpu.start()
    io.start()
    io.join()
    cpu.join()
    print(f"io thread ended at {done[0]:.3f} s; cpu thread at {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
