"""Cost of live mode: each bundled scenario's program, plain and under the probe.

For every bundled scenario (the file as written; ``--all`` adds every variant) the program
that ``concsim code`` prints is run as ``python program.py`` and as ``concsim run --live``
runs it (``python -m concsim.live.probe``: trace hooks, wrappers, one record per event),
best of N each, wall time from process start to exit. Programs the simulator says hang are
skipped (they never exit). Target: the probe costs at most 5%.

    python benchmarks/live.py [--repeats 3] [--all]
"""

from __future__ import annotations

import argparse
import os
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
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="every variant, not only the file")
    args = parser.parse_args()
    print(f"{'scenario':<44} {'plain':>8} {'probed':>8} {'cost':>7}")
    total_plain = total_probed = 0.0
    for info in scenario_index():
        scenario = load_scenario(find_scenario(info.name))
        for variant in [None, *(scenario.variant_names if args.all else ())]:
            events = Simulation(scenario, variant=variant).run()
            if getattr(events[-1], "hung", False):
                continue
            code = program(scenario, variant)
            plan = plan_of(code, scenario.variant(variant))
            a = min(plain(code.source) for _ in range(args.repeats))
            b = min(probed(plan) for _ in range(args.repeats))
            total_plain += a
            total_probed += b
            name = info.name + (f" --variant {variant}" if variant else "")
            print(f"{name:<44} {a:8.3f} {b:8.3f} {(b - a) / a:+7.1%}")
    cost = (total_probed - total_plain) / total_plain
    print(f"{'all':<44} {total_plain:8.3f} {total_probed:8.3f} {cost:+7.1%}")


if __name__ == "__main__":
    main()
