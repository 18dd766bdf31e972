"""A thousand 0.1 ms tasks: a process pool one by one, in chunks of 250, and a plain loop.

CPython (Lib/concurrent/futures/process.py): every work item is pickled by one feeder
thread in the parent and every result read by its manager thread, so tiny tasks cost more
than their work, and map(chunksize=...) pays that cost once per chunk. The bundled
scenario process-overhead shows the same. Prints each time and the pool's ratio to the loop.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor


def square(n: int) -> int:
    end = time.perf_counter() + 0.0001
    while time.perf_counter() < end:
        pass
    return n * n


def main() -> None:
    began = time.perf_counter()
    for n in range(1000):
        square(n)
    loop = time.perf_counter() - began
    for chunksize in (1, 250):
        began = time.perf_counter()
        with ProcessPoolExecutor(4, mp_context=mp.get_context("fork")) as ex:
            list(ex.map(square, range(1000), chunksize=chunksize))
        pool = time.perf_counter() - began
        print(f"pool, chunksize={chunksize}: {pool:.3f} s ({pool / loop:.2f} x the loop)")
    print(f"loop: {loop:.3f} s")


if __name__ == "__main__":
    main()
