"""Cost of live mode in instructions: each bundled scenario's program, plain and probed,
counted by valgrind (``--tool=callgrind``) over every process of the run.

Wall time moves with the machine's load; the instructions a program executes do not. Each
program runs once as ``python program.py`` and once as ``concsim run --live`` runs it
(``python -m concsim.live.probe PLAN``), both under ``valgrind --tool=callgrind
--trace-children=yes``; the table gives the instructions of each (the sum of every process
of the run: pool workers too) and what the probe adds, in millions and as a ratio. Programs
that wait in a loop (a lock taken in slices, a thread polling) run a few more rounds under
valgrind, which is slow: read their counts as a bound. Scenarios the simulator says hang
are skipped, as in benchmarks/live.py.

The ``cpu`` and ``native`` helpers measure their speed when the program starts
(``loops_per_second()``, ``hashes_per_second()``, in CPU seconds): under valgrind that
measure moves with the machine's load, and with it the work of every step. Both runs here
use the same fixed rates instead (the line that measures is replaced, on its own line), so
that they do the same work.

    python benchmarks/live_instructions.py [--only race-with-lock] [--all]
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import os
import subprocess
import sys
import tempfile
from unittest import mock

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.live.plan import plan_of
from concsim.live.runner import LiveRun
from concsim.scenario.library import find_scenario, scenario_index
from concsim.scenario.loader import load_scenario

LIMIT = 900.0
"""Seconds a run may take under valgrind (about 50 times slower than plain)."""


RATES = {
    "LOOPS_PER_SECOND = loops_per_second()": "LOOPS_PER_SECOND = 3_000_000",
    "HASHES_PER_SECOND = hashes_per_second()": "HASHES_PER_SECOND = 20",
}
"""The helpers' measured rates, as fixed ones (concsim.codegen.module)."""


def fixed(source: str) -> str:
    """``source`` with the helpers' rates fixed (``RATES``): the same lines, no measuring."""
    for measured, constant in RATES.items():
        source = source.replace(measured, constant)
    return source


def _valgrind(folder: str) -> list[str]:
    return [
        "valgrind",
        "--tool=callgrind",
        "--trace-children=yes",
        f"--callgrind-out-file={folder}/cg.%p",
        "--log-file=/dev/null",
    ]


def _total(folder: str) -> int:
    """Instructions of every process whose callgrind file is in ``folder``."""
    total = 0
    for path in glob.glob(os.path.join(folder, "cg.*")):
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                if line.startswith(("summary:", "totals:")):
                    total += int(line.split()[1])
                    break
    return total


def plain(source: str) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "program.py")
        with open(path, "w", encoding="utf-8") as file:
            file.write(source)
        subprocess.run(
            [*_valgrind(folder), sys.executable, path],
            cwd=folder,
            capture_output=True,
            check=False,
            timeout=LIMIT,
        )
        return _total(folder)


def probed(plan: object) -> int:
    with tempfile.TemporaryDirectory() as folder:
        real = subprocess.Popen

        def popen(args: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
            return real([*_valgrind(folder), *args], **kwargs)  # type: ignore[call-overload]

        run = LiveRun(plan)  # type: ignore[arg-type]
        with mock.patch.object(subprocess, "Popen", popen):
            run.start()
        try:
            run.wait(LIMIT)
        finally:
            run.close()
        return _total(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="every variant, not only the file")
    parser.add_argument("--only", action="append", default=[], help="this scenario only")
    args = parser.parse_args()
    print(f"{'scenario':<44} {'plain M':>9} {'probed M':>9} {'added M':>9} {'ratio':>7}")
    for info in scenario_index():
        if args.only and info.name not in args.only:
            continue
        scenario = load_scenario(find_scenario(info.name))
        for variant in [None, *(scenario.variant_names if args.all else ())]:
            faultless = scenario.variant(variant).model_copy(update={"faults": ()})
            if getattr(Simulation(faultless).run()[-1], "hung", False):
                continue
            code = program(scenario, variant)
            plan = plan_of(code, scenario.variant(variant))
            a = plain(fixed(code.source)) / 1e6
            b = probed(dataclasses.replace(plan, source=fixed(plan.source))) / 1e6
            name = info.name + (f" --variant {variant}" if variant else "")
            print(f"{name:<44} {a:9.1f} {b:9.1f} {b - a:9.1f} {b / a:7.3f}", flush=True)


if __name__ == "__main__":
    main()
