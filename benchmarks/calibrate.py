"""Measure, on this machine's CPython, the costs behind concsim's `machine` defaults.

    python benchmarks/calibrate.py            # about 30 s
    python benchmarks/calibrate.py --quick    # fewer repeats, about 10 s

Prints the median and the minimum of several runs for each figure. On a busy machine the
minimum is the better estimate of the cost itself (everything else is waiting for a core);
docs/semantics.md lists the figures and which the defaults use.

- process start, by start method: from Process.start() until the child runs its first
  line (fork, forkserver, spawn), and start + join of a child that does nothing;
- ThreadPoolExecutor.submit: per task, submitting no-op tasks to a warm pool and waiting
  for them all;
- a ProcessPoolExecutor round trip: submit(f, arg).result() on a warm pool, one at a
  time, with a small argument and with a 100 KB one (pickling both ways included);
- a lock hand-off: an uncontended acquire + release, against a contended hand-off
  (two threads ping-ponging through two locks: each hand-off wakes the other thread).
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait

QUICK = "--quick" in sys.argv
REPEATS = 5 if QUICK else 15


def noop(x: object = None) -> object:
    return x


def _child(conn: object) -> None:
    conn.send(time.monotonic())  # type: ignore[attr-defined]


def process_start(method: str) -> tuple[list[float], list[float]]:
    """Seconds from start() to the child's first line, and for start() + join()."""
    ctx = mp.get_context(method)
    if method == "forkserver":
        ctx.Process(target=noop).start()  # the server itself starts once, not per process
    first_line: list[float] = []
    whole: list[float] = []
    for _ in range(REPEATS):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_child, args=(child,))
        began = time.monotonic()
        p.start()
        first_line.append(parent.recv() - began)
        p.join()
        whole.append(time.monotonic() - began)
    return first_line, whole


def _first_line(_: object) -> float:
    return time.monotonic()


def pool_start(workers: int = 4) -> tuple[list[float], list[float]]:
    """ProcessPoolExecutor (fork): from the first submit until a task's first line runs,
    and until every one of ``workers`` tasks has begun (3.11 forks all workers at once)."""
    first: list[float] = []
    every: list[float] = []
    ctx = mp.get_context("fork")
    for _ in range(REPEATS):
        began = time.monotonic()
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
            starts = list(ex.map(_first_line, range(workers)))
        first.append(min(starts) - began)
        every.append(max(starts) - began)
    return first, every


def per_call(fn: Callable[[], int]) -> list[float]:
    """Seconds per operation: fn() does some operations and returns how many."""
    results = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        count = fn()
        results.append((time.perf_counter() - began) / count)
    return results


def thread_submit(ex: ThreadPoolExecutor, n: int = 2000) -> int:
    wait([ex.submit(noop) for _ in range(n)])
    return n


def process_round_trip(ex: ProcessPoolExecutor, arg: object, n: int = 200) -> int:
    for _ in range(n):
        ex.submit(noop, arg).result()
    return n


def uncontended(n: int = 200_000) -> int:
    lock = threading.Lock()
    for _ in range(n):
        lock.acquire()
        lock.release()
    return n


def contended(n: int = 5_000) -> int:
    """Two threads hand control back and forth: each hand-off releases a lock another
    thread is blocked on and then blocks itself."""
    ping, pong = threading.Lock(), threading.Lock()
    ping.acquire()
    pong.acquire()

    def other() -> None:
        for _ in range(n):
            ping.acquire()
            pong.release()

    t = threading.Thread(target=other)
    t.start()
    for _ in range(n):
        ping.release()
        pong.acquire()
    t.join()
    return 2 * n


def spin(n: int) -> int:
    x = 0
    for i in range(n):
        x += i
    return x


def cpu_step_spread(step: float = 200e-6, repeats: int = 3000) -> list[float]:
    """How much the CPU time of one pure-Python loop of ``step`` seconds varies: each run's
    ``time.thread_time()`` relative to the median (what ``machine.cpu_jitter`` draws).
    CPU time, not wall time, so that other processes' turns on the core are left out."""
    n = 1000
    while True:
        began = time.thread_time()
        spin(n)
        took = time.thread_time() - began
        if took > step:
            break
        n *= 2
    n = max(1, int(n * step / took))
    times = []
    for _ in range(repeats):
        began = time.thread_time()
        spin(n)
        times.append(time.thread_time() - began)
    middle = statistics.median(times)
    return sorted(t / middle - 1 for t in times)


def show(label: str, values: list[float], unit: str = "us") -> None:
    scale = 1e6 if unit == "us" else 1e3
    print(
        f"{label:58} median {statistics.median(values) * scale:9.1f} {unit}"
        f"   min {min(values) * scale:9.1f} {unit}"
    )


def main() -> None:
    print(f"CPython {sys.version.split()[0]} on {sys.platform}, {mp.cpu_count()} cores")
    for method in ("fork", "forkserver", "spawn"):
        first, whole = process_start(method)
        show(f"process start ({method}): start() to child's first line", first, "ms")
        show(f"process start ({method}): start() + join() of a no-op", whole, "ms")
    first, every = pool_start()
    show("ProcessPoolExecutor(4, fork): first submit to a task's first line", first, "ms")
    show("ProcessPoolExecutor(4, fork): first submit to all four tasks begun", every, "ms")
    with ThreadPoolExecutor(max_workers=4) as ex:
        thread_submit(ex, 100)  # warm: the workers exist
        show("ThreadPoolExecutor.submit, per no-op task", per_call(lambda: thread_submit(ex)))
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork")) as pex:
        process_round_trip(pex, None, 20)
        small = per_call(lambda: process_round_trip(pex, 1))
        show("ProcessPoolExecutor round trip, small argument", small)
        for kb in (100, 1000):
            arg = b"x" * (kb * 1000)
            trips = per_call(lambda arg=arg: process_round_trip(pex, arg, 20))  # type: ignore[misc]
            show(f"ProcessPoolExecutor round trip, {kb} KB argument and result", trips)
            slope = [(trip - min(small)) / (2 * kb) for trip in trips]
            show(f"  so per KB sent each way ({kb} KB)", slope)
    show("threading.Lock acquire + release, uncontended", per_call(uncontended))
    show("threading.Lock hand-off between two threads (contended)", per_call(contended))
    spread = cpu_step_spread()
    quantile = {p: spread[int(p / 100 * (len(spread) - 1))] for p in (5, 25, 75, 95)}
    print(
        f"{'a 200 us pure-Python loop, CPU time vs its median':58}"
        + "".join(f"  p{p} {q:+.1%}" for p, q in quantile.items())
    )


if __name__ == "__main__":
    main()
