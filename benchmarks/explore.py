"""``concsim explore`` throughput: runs per second of wall time on 1 and 2 jobs, and runs
per CPU-second, optionally against another version of concsim measured in the same run.

    python benchmarks/explore.py                         # this version, 2,000 runs a side
    python benchmarks/explore.py --runs 4000 --rounds 3  # best of 3 rounds
    python benchmarks/explore.py --before /tmp/before    # and a source tree to compare with

A source tree to compare with is any checkout of concsim, e.g.
``git archive 3dccbba | tar -x -C /tmp/before``. Each measurement runs in a fresh
interpreter whose ``concsim`` is imported from that tree, the two sides alternating
(before, after, before, after, ...), so both see the same machine. A measurement is
``explore(race-lost-update, runs=N, jobs=J)`` in process, as the command runs it, the
scenario loaded and the interpreter started outside the timing: wall time
(``time.perf_counter``) and CPU time of the process and its pool's workers
(``resource.getrusage``, ``RUSAGE_SELF`` and ``RUSAGE_CHILDREN``). Each figure is the best
of the rounds. The load average is printed before and after: on a machine shared with other
work, wall figures on 2 jobs say more about the machine than about concsim; runs per
CPU-second are the steadier figure.

The two sides must find the same histogram (every bar's outcome, count and seeds); the
script says whether they did.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
TARGET = 1_000  # runs/s on 2 jobs, race-lost-update

_MEASURE = textwrap.dedent(
    """
    import hashlib, json, resource, sys, time
    sys.path.insert(0, sys.argv[1])
    from concsim.explore import explore
    from concsim.scenario.library import find_scenario
    from concsim.scenario.loader import load_scenario

    def cpu():
        mine = resource.getrusage(resource.RUSAGE_SELF)
        pool = resource.getrusage(resource.RUSAGE_CHILDREN)
        return mine.ru_utime + mine.ru_stime + pool.ru_utime + pool.ru_stime

    scenario = load_scenario(find_scenario("race-lost-update"))
    runs, jobs = int(sys.argv[2]), int(sys.argv[3])
    explore(scenario, runs=20, jobs=1)  # warm: the first run makes each step's call
    wall, used = time.perf_counter(), cpu()
    found = explore(scenario, runs=runs, jobs=jobs)
    wall, used = time.perf_counter() - wall, cpu() - used
    bars = [[list(b.facets), b.count, b.seeds, b.verdict.value] for b in found.histogram.bars]
    digest = hashlib.sha256(json.dumps(bars).encode()).hexdigest()[:16]
    print(json.dumps({"wall": wall, "cpu": used, "runs": found.histogram.runs,
                      "bars": len(bars), "digest": digest}))
    """
)


def measure(tree: Path, runs: int, jobs: int) -> dict[str, float | str]:
    """One exploration in a fresh interpreter importing concsim from ``tree``."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(tree), str(runs), str(jobs)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
    )
    figures: dict[str, float | str] = json.loads(done.stdout.splitlines()[-1])
    return figures


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2_000, help="seeds per exploration")
    parser.add_argument("--rounds", type=int, default=2, help="measurements per figure")
    parser.add_argument("--before", type=Path, help="a concsim source tree to compare with")
    args = parser.parse_args()
    sides = [("after", HERE)] + ([("before", args.before.resolve())] if args.before else [])
    best: dict[tuple[str, int], dict[str, float]] = {}
    digests: set[str] = set()
    print(f"race-lost-update, {args.runs:,} runs a measurement, best of {args.rounds}")
    print(f"load average before: {load()}")
    for _ in range(args.rounds):
        for jobs in (1, 2):
            for side, tree in reversed(sides):  # before first, then after
                got = measure(tree, args.runs, jobs)
                digests.add(str(got["digest"]))
                runs = float(got["runs"])
                now = {"wall": runs / float(got["wall"]), "cpu": runs / float(got["cpu"])}
                kept = best.setdefault((side, jobs), now)
                for key in ("wall", "cpu"):
                    kept[key] = max(kept[key], now[key])
    print(f"load average after:  {load()}")
    print(f"{'':8}{'jobs':>5}{'runs/s wall':>14}{'runs/cpu-s':>13}")
    for side, _ in sides:
        for jobs in (1, 2):
            figures = best[(side, jobs)]
            print(f"{side:8}{jobs:>5}{figures['wall']:>14,.0f}{figures['cpu']:>13,.0f}")
    after2 = best[("after", 2)]["wall"]
    verdict = "meets" if after2 >= TARGET else "is BELOW"
    print(f"runs/s on 2 jobs: {after2:,.0f}, {verdict} the {TARGET:,} runs/s target")
    if args.before:
        for jobs in (1, 2):
            wall = best[("after", jobs)]["wall"] / best[("before", jobs)]["wall"]
            cpu = best[("after", jobs)]["cpu"] / best[("before", jobs)]["cpu"]
            print(
                f"after / before, {jobs} job{'s' if jobs > 1 else ''}: {wall:.2f}x wall, "
                f"{cpu:.2f}x runs per CPU-second"
            )
        same = "yes" if len(digests) == 1 else f"NO ({len(digests)} different)"
        print(f"the same histogram on every side and job count: {same}")


if __name__ == "__main__":
    main()
