"""Four CPU-bound processes on a machine with fewer cores: do two finish first, or all together?

Linux (EEVDF since 6.6, CFS before) shares the cores among every runnable thread in slices
of a few milliseconds, so with more CPU-bound processes than cores all of them progress at
the same reduced speed and end at about the same time. Also prints whether the cores are
real: the CPU time one process needs for the same loop, alone and beside another (two
hyperthreads of one physical core would each need more CPU time when both run).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time

ROUNDS = 10_000_000


def spin(began: float) -> tuple[float, float, float]:
    started = time.monotonic() - began
    cpu = time.process_time()
    for _ in range(ROUNDS):
        pass
    return started, time.monotonic() - began, time.process_time() - cpu


def run(processes: int) -> list[tuple[float, float, float]]:
    ctx = mp.get_context("fork")
    with ctx.Pool(processes) as pool:
        began = time.monotonic()
        return pool.map(spin, [began] * processes, chunksize=1)


def main() -> None:
    cores = os.cpu_count() or 1
    print(f"{cores} cores; load average {os.getloadavg()[0]:.1f}")
    for processes in (1, cores, 2 * cores):
        times = run(processes)
        ends = " ".join(f"{end:.3f}" for _, end, _ in times)
        cpu = " ".join(f"{c:.3f}" for _, _, c in times)
        print(f"{processes} processes: each ended at {ends} s; CPU time each {cpu} s")


if __name__ == "__main__":
    main()
