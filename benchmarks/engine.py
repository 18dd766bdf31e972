"""Engine speed: concsim against SimPy on the same sleep-only model, a GIL model, and scaling.

Run it with ``python benchmarks/engine.py`` (about a minute on 2 cores); ``--profile``
instead prints where the engine spends its time. The head-to-head also times a floor, the
same model as a bare ``heapq`` loop. What each figure means is in benchmarks/README.md.
The script measures wall time with ``time.perf_counter`` and keeps the best of several
runs, because the minimum is the least disturbed by the rest of the machine; the garbage
collector is treated the same way on both sides (on unless ``--no-gc``), and a full
collection runs before every timed run so that one run's garbage is never paid for by the
next. In the head-to-head the sides take turns round by round, each run starting from the
same collector state (``settled``), so that neither side pays for what the other left.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import heapq
import itertools
import os
import platform
import pstats
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import simpy

from concsim.engine import Simulation
from concsim.engine.clock import FAULT
from concsim.scenario.model import Scenario

SLEEP_S = 0.01  # each simulated sleep: 10 ms on both sides
TARGET = 1.0  # concsim should do the same simulated work at least as fast as SimPy
STRETCH = 1.2  # and, stretched, this much faster


@dataclass(frozen=True)
class Sample:
    """One timed run: wall seconds and what the run counted."""

    wall: float  # time.perf_counter seconds
    cpu: float  # time.process_time seconds: unaffected by other programs taking the cores
    events: int  # concsim: events emitted; SimPy: events scheduled on its heap
    # concsim only: callbacks scheduled on its clock (the analogue of SimPy's); a thread's
    # steps run ahead of the clock (engine/ahead.py) never were, and are not counted.
    work: int = 0
    tenths: tuple[float, ...] = ()  # cpu us/event in each tenth of the run's virtual time


# --- the models -------------------------------------------------------------------------


def sleep_scenario(coroutines: int, sleeps: int) -> Scenario:
    """``asyncio.gather`` of N coroutines, each ``for _ in range(k): await sleep(0.01)``."""
    return Scenario.model_validate(
        {
            "name": "bench-sleep",
            "program": {"model": "asyncio", "collect": "gather"},
            "tasks": [
                {
                    "name": "sleeper",
                    "repeat": coroutines,
                    "steps": [{"repeat": sleeps, "steps": [{"sleep": "10ms"}]}],
                }
            ],
        }
    )


def gil_scenario() -> Scenario:
    """Four threads, each 1 s of pure-Python work in ten 100 ms steps, 5 ms switch interval."""
    return Scenario.model_validate(
        {
            "name": "bench-gil",
            "machine": {"cores": 4, "switch_interval": "5ms"},
            "program": {"model": "threads", "max_workers": 4, "collect": "map"},
            "tasks": [
                {
                    "name": "spin",
                    "repeat": 4,
                    "steps": [{"repeat": 10, "steps": [{"cpu": "100ms"}]}],
                }
            ],
        }
    )


def run_concsim(scenario: Scenario, span: float | None = None) -> Sample:
    """Run to the end; with ``span`` (the run's virtual length in seconds), also time each
    tenth of it, which shows whether the cost of an event grows as the run gets longer.
    The tenths are read by a probe on the run's clock (after all other work at each tenth's
    instant), not by ``advance()``: that returns the new events, typed, which a run to the
    end does not build, so the rows would not compare."""
    marks: list[tuple[float, int]] = []
    start, cpu = time.perf_counter(), time.process_time()
    # A budget above every run here: the 1M-event row must not stop at the default 500k.
    sim = Simulation(scenario, max_events=10_000_000)
    if span is not None:
        clock = sim.world.clock
        marks.append((time.process_time(), 0))

        def probe() -> None:
            marks.append((time.process_time(), len(sim.events)))

        for tenth in range(1, 10):  # the last tenth ends with the run
            clock.at(round(span * tenth / 10 * 1_000_000), probe, priority=FAULT)
    sim.run()
    if span is not None:
        marks.append((time.process_time(), len(sim.events)))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    tenths = tuple(
        (t1 - t0) / max(1, n1 - n0) * 1e6 for (t0, n0), (t1, n1) in itertools.pairwise(marks)
    )
    return Sample(wall, cpu, len(sim.events), sim.world.clock.scheduled, tenths)


def run_simpy(coroutines: int, sleeps: int) -> Sample:
    start, cpu = time.perf_counter(), time.process_time()
    env = simpy.Environment()

    def sleeper(env: simpy.Environment) -> Any:
        for _ in range(sleeps):
            yield env.timeout(SLEEP_S)

    for _ in range(coroutines):
        env.process(sleeper(env))
    env.run()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    # Every event SimPy scheduled: one Initialize and one end per process, one per timeout.
    return Sample(wall, cpu, next(env._eid))


def run_floor(coroutines: int, sleeps: int) -> Sample:
    """The same model as the barest pure-Python heap loop: a heap of (time, sequence,
    generator), each generator yielding its sleep, one tuple recorded per resumption. It is
    about the least a scheduler built on ``heapq`` can cost per sleep in CPython."""
    start, cpu = time.perf_counter(), time.process_time()
    sleep_us = round(SLEEP_S * 1_000_000)

    def sleeper() -> Iterator[int]:
        for _ in range(sleeps):
            yield sleep_us

    heap = [(0, seq, sleeper()) for seq in range(coroutines)]
    seq = coroutines
    events: list[tuple[int, int]] = []
    while heap:
        now, key, sleeping = heapq.heappop(heap)
        events.append((now, key))
        try:
            delay = next(sleeping)
        except StopIteration:
            continue
        seq += 1
        heapq.heappush(heap, (now + delay, seq, sleeping))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Sample(wall, cpu, len(events), seq)


def best_of(repeats: int, run: Callable[[], Sample], *, gc_on: bool) -> Sample:
    """The fastest of ``repeats`` runs (wall and CPU each at its minimum)."""
    return fastest([settled(run, gc_on=gc_on) for _ in range(repeats)])


def settled(run: Callable[[], Sample], *, gc_on: bool) -> Sample:
    """One timed run from the same collector state whatever ran before it: a full
    collection first (the generations empty but the oldest), and one after, so that the
    garbage a run leaves is never collected in the next side's time. Nothing is frozen
    (``gc.freeze``): a full collection during a run walks every object of the process,
    as it does in any real program (measured: SimPy's 1,000 x 100 sleeps trigger only
    young collections; concsim's trigger one full collection, about a sixth of its time)."""
    gc.collect()
    if not gc_on:
        gc.disable()
    try:
        return run()
    finally:
        gc.enable()
        gc.collect()


def alternated(
    rounds: int, sides: dict[str, Callable[[], Sample]], *, gc_on: bool
) -> dict[str, list[Sample]]:
    """``rounds`` runs of each side, the sides taking turns round by round, first the one
    that went last in the round before: a drift of the machine (another program, the CPU's
    clock speed) falls on every side alike. One untimed run of each first: the first run
    of a process pays for memory its allocator has not yet asked the OS for."""
    for run in sides.values():
        settled(run, gc_on=gc_on)
    names = list(sides)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else reversed(names):
            samples[name].append(settled(sides[name], gc_on=gc_on))
    return samples


def fastest(samples: list[Sample]) -> Sample:
    """Wall and CPU each at its minimum over ``samples``; the counts of the first."""
    first = samples[0]
    return Sample(
        min(s.wall for s in samples),
        min(s.cpu for s in samples),
        first.events,
        first.work,
        first.tenths,
    )


def repeated(times: int, run: Callable[[], Sample]) -> Callable[[], Sample]:
    """A run of a tiny model ``times`` over, so that one sample is long enough to time."""

    def many() -> Sample:
        runs = [run() for _ in range(times)]
        return Sample(
            sum(r.wall for r in runs),
            sum(r.cpu for r in runs),
            sum(r.events for r in runs),
            sum(r.work for r in runs),
        )

    return many


# --- the report -------------------------------------------------------------------------


def head_to_head(coroutines: int, sleeps: int, repeats: int, gc_on: bool) -> None:
    total = coroutines * sleeps
    print(
        f"\nHead to head: {coroutines:,} coroutines x {sleeps:,} sleeps of 10 ms "
        f"= {total:,} simulated sleeps"
    )
    print(
        f"  {'':9}{'wall s':>8}{'cpu s':>8}{'sleeps/s':>11}{'events':>10}{'events/s':>11}"
        f"{'heap/s':>11}"
    )
    scenario = sleep_scenario(coroutines, sleeps)
    best = alternated(
        repeats,
        {
            "SimPy": lambda: run_simpy(coroutines, sleeps),
            "concsim": lambda: run_concsim(scenario),
            "floor": lambda: run_floor(coroutines, sleeps),
        },
        gc_on=gc_on,
    )
    theirs, ours, floor = (fastest(best[side]) for side in ("SimPy", "concsim", "floor"))
    rows = (
        ("SimPy", theirs, theirs.events),
        ("concsim", ours, ours.work),
        ("floor", floor, floor.work),
    )
    for name, got, work in rows:
        print(
            f"  {name:9}{got.wall:8.3f}{got.cpu:8.3f}{total / got.wall:11,.0f}"
            f"{got.events:10,}{got.events / got.wall:11,.0f}{work / got.wall:11,.0f}"
        )
    ratio, cpu_ratio = theirs.wall / ours.wall, theirs.cpu / ours.cpu
    verdict = "meets" if ratio >= TARGET else "is BELOW"
    print(
        f"  concsim sleeps/s / SimPy sleeps/s: {ratio:.3f}x wall, {cpu_ratio:.3f}x cpu "
        f"-> {verdict} the {TARGET}x target (needs <= {theirs.wall / TARGET * 1e3:.0f} ms; "
        f"stretch {STRETCH}x: <= {theirs.wall / STRETCH * 1e3:.0f} ms)"
    )
    paired = sorted(t.cpu / o.cpu for t, o in zip(best["SimPy"], best["concsim"], strict=True))
    print(
        f"  the same ratio round by round, cpu: min {paired[0]:.3f}x, "
        f"median {paired[len(paired) // 2]:.3f}x, max {paired[-1]:.3f}x over {len(paired)} rounds"
    )
    print(
        f"  floor (bare heapq loop) / SimPy: {theirs.wall / floor.wall:.3f}x wall, "
        f"{theirs.cpu / floor.cpu:.3f}x cpu, {floor.cpu / total * 1e6:.2f} us cpu per sleep "
        f"(SimPy {theirs.cpu / total * 1e6:.2f}, concsim {ours.cpu / total * 1e6:.2f})"
    )


def gil_model(repeats: int, gc_on: bool) -> None:
    scenario = gil_scenario()
    one = run_concsim(scenario)
    times = max(1, int(0.2 / max(one.wall, 1e-6)))  # about 0.2 s per sample
    best = best_of(repeats, repeated(times, lambda: run_concsim(scenario)), gc_on=gc_on)
    print(
        f"\nGIL-contended threads: 4 threads x 1 s cpu, switch interval 5 ms: "
        f"{one.events:,} events, {one.work:,} heap work per run"
    )
    print(
        f"  {best.events / best.wall:,.0f} events/s wall, {best.events / best.cpu:,.0f} cpu; "
        f"{best.wall / times * 1e3:.1f} ms per run"
    )


def scaling(
    sizes: list[tuple[int, int, int]], gc_on: bool, title: str, *, time_tenths: bool = False
) -> None:
    """Each size is (coroutines, sleeps, runs); us/event stays flat if growth is linear.
    With ``time_tenths`` the last size is also timed tenth by tenth (run it once)."""
    print(f"\n{title}")
    print(
        f"  {'coroutines x sleeps':>20}{'runs':>5}{'events':>11}{'wall s':>8}"
        f"{'us/event':>9}{'cpu us/ev':>10}"
    )
    per_event: list[tuple[float, float]] = []
    tenths: tuple[float, ...] = ()
    for coroutines, sleeps, runs in sizes:
        scenario = sleep_scenario(coroutines, sleeps)
        last = (coroutines, sleeps, runs) == sizes[-1]
        span = sleeps * SLEEP_S if time_tenths and last else None
        best = best_of(runs, partial(run_concsim, scenario, span), gc_on=gc_on)
        tenths = best.tenths or tenths
        per_event.append((best.wall / best.events * 1e6, best.cpu / best.events * 1e6))
        shape = f"{coroutines:,} x {sleeps:,}"
        print(
            f"  {shape:>20}{runs:5}{best.events:11,}{best.wall:8.2f}"
            f"{per_event[-1][0]:9.2f}{per_event[-1][1]:10.2f}"
        )
    (wall_0, cpu_0), (wall_n, cpu_n) = per_event[0], per_event[-1]
    print(
        f"  us/event, last row / first row: {wall_n / wall_0:.2f} wall, {cpu_n / cpu_0:.2f} cpu "
        f"(1.00 = linear)"
    )
    if tenths:
        shown = " ".join(f"{cost:.1f}" for cost in tenths)
        print(
            f"  inside the last run, cpu us/event by tenth of the run: {shown}\n"
            f"  last tenth / first tenth: {tenths[-1] / tenths[0]:.2f} (1.00 = linear)"
        )


def memory(coroutines: int, sleeps: int) -> None:
    """Bytes the finished run holds (its event log above all), per recorded event, as
    ``tracemalloc`` counts them: what a long run costs in memory."""
    scenario = sleep_scenario(coroutines, sleeps)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        sim = Simulation(scenario, max_events=10 * coroutines * sleeps)
        sim.run()
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    events = len(sim.events)
    print(f"\nMemory: {coroutines:,} coroutines x {sleeps:,} sleeps, {events:,} events")
    print(
        f"  {(held - before) / events:.0f} B per recorded event held by the finished run "
        f"(peak {(peak - before) / events:.0f} B)"
    )


def profile(coroutines: int, sleeps: int, top: int) -> None:
    scenario = sleep_scenario(coroutines, sleeps)
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    sim = Simulation(scenario)
    sim.run()
    profiler.disable()
    print(f"cProfile: {coroutines:,} coroutines x {sleeps:,} sleeps, {len(sim.events):,} events")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument("--no-gc", action="store_true", help="disable gc in timed runs")
    parser.add_argument(
        "--profile",
        metavar="NxK",
        nargs="?",
        const="1000x100",
        help="instead, profile N coroutines x K sleeps (default 1000x100)",
    )
    parser.add_argument("--top", type=int, default=15, help="rows of the profile")
    args = parser.parse_args()
    if args.profile:
        coroutines, sleeps = (int(part) for part in args.profile.split("x"))
        profile(coroutines, sleeps, args.top)
        return
    gc_on, repeats = not args.no_gc, args.repeats
    load = os.getloadavg()[0]
    print(
        f"concsim engine benchmark: Python {platform.python_version()}, SimPy "
        f"{simpy.__version__}, {os.cpu_count()} cores, load {load:.1f} at start, "
        f"gc {'on' if gc_on else 'off'}, best of {repeats}"
    )
    # The ratio is the figure most compared: at least 5 rounds of the sides in turn.
    head_to_head(1_000, 100, max(5, repeats), gc_on)
    gil_model(repeats, gc_on)
    # The 1M-event run takes 10-20 s, so it is run once.
    scaling(
        [(100, 100, repeats), (100, 1_000, repeats), (100, 10_000, 1)],
        gc_on,
        "Scaling with run length: 100 coroutines, ~10k / 100k / 1M events",
        time_tenths=True,
    )
    scaling(
        [(100, 100, repeats), (1_000, 10, 1), (2_000, 5, 1)],
        gc_on,
        "Scaling with width: the same 10,000 sleeps over 100 / 1,000 / 2,000 coroutines",
    )
    memory(1_000, 1_000)


if __name__ == "__main__":
    main()
