"""SHA-256 digests of the engine's event streams, to prove a change leaves them byte-identical.

Every bundled scenario and every loadable fixture scenario, each variant, three seeds, and a
grid of injected faults (each kind at a few instants on a few targets) is simulated in
process; the ``--events`` lines of each run (``json.dumps(event.to_dict(), default=str)``,
as ``concsim run --headless --events`` prints them) are hashed. ``tests/test_event_hashes.py``
compares the digests with the committed ``tests/fixtures/event_hashes.json``.

    python scripts/event_hashes.py            # compare, list the runs that differ
    python scripts/event_hashes.py --update   # record the current engine's digests

A change that alters an event stream on purpose (a fixed bug) updates the file in the same
commit, with a test of its own for the new behaviour.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from concsim.engine import Injection, Simulation
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario
from concsim.scenario.model import FaultKind, Scenario

ROOT = Path(__file__).resolve().parent.parent
DIGESTS = ROOT / "tests" / "fixtures" / "event_hashes.json"
SEEDS = (0, 1, 7)
INSTANTS = (0.0, 0.05, 0.3, 1.0)  # virtual seconds at which a fault is injected
LARGE = 100  # a scenario with more task runs than this gets a smaller grid (time, not cover)
TASK_FAULTS = tuple(kind for kind in FaultKind if kind is not FaultKind.INTERRUPT)


@dataclass(frozen=True, slots=True)
class Case:
    """One run: a scenario file, a variant (None: as written), a seed, injections."""

    path: Path
    scenario: Scenario
    variant: str | None
    seed: int
    injections: tuple[Injection, ...] = ()

    @property
    def key(self) -> str:
        shown = "|".join(f"{i.at:g}:{i.fault}:{i.target}" for i in self.injections)
        where = self.path.relative_to(ROOT).as_posix()
        return f"{where}#{self.variant or '-'}#seed={self.seed}#{shown or '-'}"


def scenario_files() -> list[Path]:
    """The bundled scenarios and the fixture scenarios that load."""
    paths = sorted((ROOT / "scenarios").glob("*.yaml"))
    paths += sorted((ROOT / "tests" / "fixtures" / "scenarios" / "good").glob("*.yaml"))
    return paths


def run_names(scenario: Scenario) -> list[str]:
    """The running tasks' names, as a fault names them (NAME, or NAME-k when repeated)."""
    return [
        task.name if task.repeat == 1 else f"{task.name}-{i}"
        for task in scenario.tasks
        for i in range(1, task.repeat + 1)
    ]


def cases() -> Iterator[Case]:
    for path in scenario_files():
        try:
            scenario = load_scenario(path)
        except ScenarioError:
            continue
        for variant in [None, *scenario.variant_names]:
            for seed in SEEDS:
                yield Case(path, scenario, variant, seed)
            names = run_names(scenario.variant(variant))
            targets = sorted({names[0], names[-1]}) if names else []
            instants = INSTANTS
            if len(names) > LARGE:
                targets, instants = targets[:1], INSTANTS[1:3]
            seed = scenario.seed
            for at in instants:
                yield Case(path, scenario, variant, seed, (Injection(at, "interrupt", "main"),))
                for target in targets:
                    for kind in TASK_FAULTS:
                        injection = Injection(at, kind.value, target, "ValueError")
                        yield Case(path, scenario, variant, seed, (injection,))
            if len(names) > 1:  # two faults in one run: a cancel, then Ctrl-C
                pair = (Injection(0.05, "cancel", names[0]), Injection(0.3, "interrupt", "main"))
                yield Case(path, scenario, variant, seed, pair)


def digest(case: Case) -> str:
    """The SHA-256 of the run's ``--events`` lines (and how it was stopped short, if so)."""
    sim = Simulation(
        case.scenario, variant=case.variant, seed=case.seed, injections=case.injections
    )
    sim.run()
    sha = hashlib.sha256()
    for event in sim.events:
        sha.update(json.dumps(event.to_dict(), default=str).encode())
        sha.update(b"\n")
    if sim.exhausted:
        sha.update(sim.exhausted.encode())
    return sha.hexdigest()


def compute() -> dict[str, str]:
    return {case.key: digest(case) for case in cases()}


def differences(recorded: dict[str, str], now: dict[str, str]) -> list[str]:
    """One line per run whose digest changed, appeared or disappeared."""
    lines = [f"changed: {key}" for key in now if key in recorded and recorded[key] != now[key]]
    lines += [f"new: {key}" for key in now if key not in recorded]
    lines += [f"gone: {key}" for key in recorded if key not in now]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--update", action="store_true", help="record the current digests")
    args = parser.parse_args()
    now = compute()
    if args.update:
        DIGESTS.write_text(json.dumps(now, indent=0, sort_keys=True) + "\n")
        print(f"recorded {len(now)} digests in {DIGESTS.relative_to(ROOT)}")
        return 0
    lines = differences(json.loads(DIGESTS.read_text()), now)
    print("\n".join(lines) or f"all {len(now)} event streams are byte-identical")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
