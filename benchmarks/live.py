"""Cost of live mode: each bundled scenario's program, plain and under the probe.

For every bundled scenario (the file as written; ``--all`` adds every variant) the program
that ``concsim code`` prints is run as ``python program.py`` and as ``concsim run --live``
runs it (``python -m concsim.live.probe``: trace hooks, wrappers, one record per event),
wall time from process start to exit. The two are interleaved (plain, probed, plain, ...)
``--repeats`` times, so that a change in the machine's load hits both alike, and each runs
in a session of its own, as ``concsim run --live`` starts it: with autogroup scheduling
Linux shares the cores between sessions first, so a plain run left in this script's session
would compete with whatever else runs there. The table gives the min and the median of each
and the ratio of the medians, and the load average before and after. The CPU columns give
the median CPU seconds (user + system) each run cost, the program's processes and, for the
probed run, this process reading the records too: on a busy machine the steadier figure,
since waiting for a core is not counted. Programs the simulator says hang are skipped (they
never exit); both runs are without the faults the file injects, so a program that ends only
by one of them is skipped too (asyncio-condition's packers wait forever for the order its
cancel fault stands for).
``--only NAME`` (any number of times) runs only those scenarios. A first line
gives the fixed cost alone: an empty program, plain and probed, beside ``python -c pass``
(``--no-startup`` skips it). Target: the probe costs at most 5%.

    python benchmarks/live.py [--repeats 5] [--all] [--only cpu-threads-gil] [--no-startup]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.live.plan import plan_of
from concsim.live.runner import LiveRun, Plan
from concsim.scenario.library import find_scenario, scenario_index
from concsim.scenario.loader import load_scenario


def _cpu() -> float:
    """CPU seconds used so far by this process and its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def plain(source: str) -> tuple[float, float]:
    """Wall and CPU seconds of ``python program.py``."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "program.py")
        with open(path, "w", encoding="utf-8") as file:
            file.write(source)
        cpu = _cpu()
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, path],
            cwd=folder,
            capture_output=True,
            check=False,
            timeout=120,
            start_new_session=True,  # as the probed run: Linux schedules a session as a group
        )
        return time.perf_counter() - start, _cpu() - cpu


def probed(plan: object) -> tuple[float, float]:
    """Wall and CPU seconds of the probed run, reading its records included."""
    run = LiveRun(plan)  # type: ignore[arg-type]
    cpu = _cpu()
    start = time.perf_counter()
    run.start()
    try:
        run.wait(120.0)
        return time.perf_counter() - start, _cpu() - cpu
    finally:
        run.close()


EMPTY = 'def main():\n    pass\n\n\nif __name__ == "__main__":\n    main()\n'
"""The program of no task: what is left is the probe's start-up (and ``python``'s own)."""


def bare() -> tuple[float, float]:
    """Wall and CPU seconds of ``python -c pass``: the interpreter's own start-up."""
    cpu = _cpu()
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "pass"],
        capture_output=True,
        check=False,
        timeout=60,
        start_new_session=True,
    )
    return time.perf_counter() - start, _cpu() - cpu


def startup(repeats: int) -> None:
    """The fixed cost: an empty program, plain and probed, beside ``python -c pass``."""
    plan = Plan(source=EMPTY, tasks=())
    runs: dict[str, list[tuple[float, float]]] = {"pass": [], "plain": [], "probed": []}
    for _ in range(max(repeats, 9)):  # short: more rounds for a steady median
        runs["pass"].append(bare())
        runs["plain"].append(plain(EMPTY))
        runs["probed"].append(probed(plan))
    wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    print(
        f"{'start-up (empty program; python -c pass:':<44} {wall['pass'] * 1000:5.0f} ms wall,"
        f" {cpu['pass'] * 1000:3.0f} ms cpu)"
    )
    print(
        f"{'start-up (empty program)':<44} {wall['plain']:15.3f} {wall['probed']:15.3f}"
        f" {'+':>3}{(wall['probed'] - wall['plain']) * 1000:3.0f}ms"
        f" {cpu['plain']:8.3f}/{cpu['probed']:8.3f} {'+':>3}"
        f"{(cpu['probed'] - cpu['plain']) * 1000:3.0f}ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--all", action="store_true", help="every variant, not only the file")
    parser.add_argument("--only", action="append", default=[], help="this scenario only")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up line")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"{'scenario':<44} {'plain min/med':>15} {'probed min/med':>15} {'ratio':>7}"
        f" {'cpu plain/probed':>17} {'ratio':>7}"
    )
    if not args.no_startup:
        startup(args.repeats)
    medians: list[tuple[float, float, float, float]] = []
    for info in scenario_index():
        if args.only and info.name not in args.only:
            continue
        scenario = load_scenario(find_scenario(info.name))
        for variant in [None, *(scenario.variant_names if args.all else ())]:
            # both runs are without the file's faults (the plain program has none of them)
            faultless = scenario.variant(variant).model_copy(update={"faults": ()})
            events = Simulation(faultless).run()
            if getattr(events[-1], "hung", False):
                continue
            code = program(scenario, variant)
            plan = plan_of(code, scenario.variant(variant))
            a: list[tuple[float, float]] = []
            b: list[tuple[float, float]] = []
            name = info.name + (f" --variant {variant}" if variant else "")
            try:
                for _ in range(args.repeats):  # interleaved: load changes hit both alike
                    a.append(plain(code.source))
                    b.append(probed(plan))
            except subprocess.TimeoutExpired:  # the simulator said it ends; CPython did not
                print(f"{name:<44} the plain program did not end in 120 s: left out", flush=True)
                continue
            ma = statistics.median(w for w, _ in a)
            mb = statistics.median(w for w, _ in b)
            ca = statistics.median(c for _, c in a)
            cb = statistics.median(c for _, c in b)
            medians.append((ma, mb, ca, cb))
            print(
                f"{name:<44} {min(w for w, _ in a):7.3f}/{ma:7.3f}"
                f" {min(w for w, _ in b):7.3f}/{mb:7.3f} {mb / ma:7.3f}"
                f" {ca:8.3f}/{cb:8.3f} {cb / ca:7.3f}",
                flush=True,
            )
    total = [sum(column) for column in zip(*medians, strict=True)] or [1.0] * 4
    print(
        f"{'all (sum of medians)':<44} {total[0]:15.3f} {total[1]:15.3f}"
        f" {total[1] / total[0]:7.3f} {total[2]:8.3f}/{total[3]:8.3f} {total[3] / total[2]:7.3f}"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
