"""Cost of live mode: each bundled scenario's program, plain and under the probe.

For every bundled scenario (the file as written; ``--all`` adds every variant) the program
that ``concsim code`` prints is run as ``python program.py`` and as ``concsim run --live``
runs it (``python -m concsim.live.probe``: trace hooks, wrappers, one record per event),
wall time from process start to exit. The two are interleaved (plain, probed, plain, ...)
``--repeats`` times, so that a change in the machine's load hits both alike; the table gives
the min and the median of each and the ratio of the medians, and the load average before and
after. Programs the simulator says hang are skipped (they never exit). ``--only NAME`` (any
number of times) runs only those scenarios. Target: the probe costs at most 5%.

    python benchmarks/live.py [--repeats 5] [--all] [--only cpu-threads-gil]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.live.plan import plan_of
from concsim.live.runner import LiveRun
from concsim.scenario.library import find_scenario, scenario_index
from concsim.scenario.loader import load_scenario


def plain(source: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "program.py")
        with open(path, "w", encoding="utf-8") as file:
            file.write(source)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, path], cwd=folder, capture_output=True, check=False, timeout=120
        )
        return time.perf_counter() - start


def probed(plan: object) -> float:
    run = LiveRun(plan)  # type: ignore[arg-type]
    start = time.perf_counter()
    run.start()
    try:
        run.wait(120.0)
        return time.perf_counter() - start
    finally:
        run.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--all", action="store_true", help="every variant, not only the file")
    parser.add_argument("--only", action="append", default=[], help="this scenario only")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'scenario':<44} {'plain min/med':>15} {'probed min/med':>15} {'ratio':>7}")
    medians_plain: list[float] = []
    medians_probed: list[float] = []
    for info in scenario_index():
        if args.only and info.name not in args.only:
            continue
        scenario = load_scenario(find_scenario(info.name))
        for variant in [None, *(scenario.variant_names if args.all else ())]:
            events = Simulation(scenario, variant=variant).run()
            if getattr(events[-1], "hung", False):
                continue
            code = program(scenario, variant)
            plan = plan_of(code, scenario.variant(variant))
            a: list[float] = []
            b: list[float] = []
            for _ in range(args.repeats):  # interleaved: load changes hit both alike
                a.append(plain(code.source))
                b.append(probed(plan))
            ma, mb = statistics.median(a), statistics.median(b)
            medians_plain.append(ma)
            medians_probed.append(mb)
            name = info.name + (f" --variant {variant}" if variant else "")
            print(
                f"{name:<44} {min(a):7.3f}/{ma:7.3f} {min(b):7.3f}/{mb:7.3f} {mb / ma:7.3f}",
                flush=True,
            )
    total_a, total_b = sum(medians_plain), sum(medians_probed)
    print(f"{'all (sum of medians)':<44} {total_a:15.3f} {total_b:15.3f} {total_b / total_a:7.3f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
