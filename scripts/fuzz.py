"""The long fuzz of the command line: ``python scripts/fuzz.py --count 10000``.

Generates scenario and replay files (valid, broken and hostile: alias bombs, tags, deep
nesting, huge numbers, unbounded work) with the Hypothesis strategies of tests/fuzzgen.py,
runs each through ``concsim validate`` and ``concsim run --headless`` in-process, and counts
the outcomes. Exit 0 when every input gave exit 0 or clean exit-2 lines, else 1; the inputs
that did not are saved under --keep for replaying by hand.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

SCENARIO = "io-threads"


def _work(job: tuple[int, int, float]) -> dict[str, Any]:
    """Run ``count`` inputs from the Hypothesis seed ``seed``; return the tallies."""
    count, seed, limit = job
    from fuzzgen import replay_files, scenario_texts
    from fuzzkit import check_replay_text, check_scenario_text
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    tally: Counter[str] = Counter()
    failures: list[tuple[str, str, str]] = []
    inputs = st.one_of(
        st.tuples(st.just("scenario"), st.just(".yaml"), scenario_texts),
        replay_files(SCENARIO).map(lambda file: ("replay", *file)),
    )

    @hypothesis_seed(seed)
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs)
    def one(case: tuple[str, str, str]) -> None:
        kind, suffix, text = case
        with tempfile.TemporaryDirectory() as folder:
            if kind == "scenario":
                verdicts = check_scenario_text(text, Path(folder), limit)
            else:
                verdicts = check_replay_text(suffix, text, Path(folder), SCENARIO, limit)
        tally["inputs"] += 1
        if tally["inputs"] % 250 == 0:
            print(f"job {seed}: {tally['inputs']} inputs", file=sys.stderr, flush=True)
        tally[f"{kind} inputs"] += 1
        for verdict in verdicts:
            tally[f"{verdict.command.split()[1]} exit {verdict.exit_code}"] += 1
            if verdict.problem is None:
                continue
            what = verdict.problem.split(":")[0]
            found = "hangs" if what == "hang" else "tracebacks" if "traceback" in what else "other"
            tally[found] += 1
            report = f"{verdict.command}\n{verdict.problem}\n{verdict.output}"
            failures.append((suffix, text, report))

    one()
    return {"tally": tally, "failures": failures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="inputs to try (default 1000)")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="first Hypothesis seed")
    parser.add_argument("--limit", type=float, default=20.0, help="seconds per input")
    parser.add_argument("--keep", type=Path, default=Path("fuzz-failures"))
    args = parser.parse_args()
    shares = [args.count // args.jobs + (i < args.count % args.jobs) for i in range(args.jobs)]
    jobs = [(share, args.seed + i, args.limit) for i, share in enumerate(shares) if share]
    start = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        results = pool.map(_work, jobs)
    tally: Counter[str] = Counter()
    failures = []
    for result in results:
        tally.update(result["tally"])
        failures += result["failures"]
    elapsed = time.monotonic() - start
    print(f"inputs tried: {tally['inputs']} in {elapsed:.0f} s")
    print(f"tracebacks: {tally['tracebacks']}  hangs: {tally['hangs']}  other: {tally['other']}")
    for key in sorted(k for k in tally if "exit" in k or k.endswith(" inputs")):
        print(f"  {key}: {tally[key]}")
    if failures:
        args.keep.mkdir(parents=True, exist_ok=True)
        for index, (suffix, text, report) in enumerate(failures):
            (args.keep / f"{index}{suffix}").write_text(text, errors="surrogatepass")
            (args.keep / f"{index}.txt").write_text(report, errors="replace")
        print(f"{len(failures)} failing inputs saved in {args.keep}/")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
