"""``concsim check``: simulate each file and variant, run its program live, compare."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from concsim.durations import format_time
from concsim.engine import Injection, Simulation
from concsim.live.compare import SLEEP_BOUND, Disagreement, compare, margin_for
from concsim.live.interpreters import interpreter_for, this_interpreter
from concsim.live.open_order import open_shared_values
from concsim.live.session import LiveSession
from concsim.scenario.model import Model, Scenario, StartMethod

LIMIT_FACTOR = 3.0
"""A live run may last this many times the simulated run (plus ``LIMIT_EXTRA``) before it
is stopped and called hung: a program the simulator says hangs must be stopped somewhere."""
LIMIT_EXTRA = 2.0
BUSY_LOAD = 2.0
"""Above this load average per core, CPU-bound times are not compared (and say so)."""
MAX_TIMING_LINES = 5
"""More timing misses than this in one run are summed up in one line (the worst shown)."""


@dataclass(slots=True)
class CheckResult:
    """One scenario variant, simulated and run live."""

    scenario: Scenario
    label: str  # "io-threads" or "io-threads --variant two-workers"
    variant: str | None
    disagreements: list[Disagreement] = field(default_factory=list)
    facts: int = 0
    error: str | None = None
    note: str = ""  # what was not compared, and why
    skipped: str = ""  # why it was not run at all (no such CPython here)


def on_this_machine(scenario: Scenario, variant: str | None) -> tuple[Scenario, str]:
    """The variant applied, with no more cores than this machine has: the simulator then
    models the machine the program really runs on. Returns it and a note if it changed."""
    applied = scenario.variant(variant)
    cores = min(applied.machine.cores, os.cpu_count() or 1)
    notes = []
    if cores != applied.machine.cores:
        notes.append(f"{cores} cores as this machine has, not {applied.machine.cores}")
    python = applied.machine.python
    if python.value == this_interpreter():
        gil = applied.machine.gil or sys.version_info < (3, 13) or sys._is_gil_enabled()
    else:  # the program runs on that version: a GIL unless a free-threaded build
        gil = applied.machine.gil or not python.free_threaded
    if gil != applied.machine.gil:
        notes.append("a GIL, as this interpreter has")
    if not notes:
        return applied, ""
    machine = applied.machine.model_copy(update={"cores": cores, "gil": gil})
    note = f" (simulated with {' and '.join(notes)})"
    return applied.model_copy(update={"machine": machine}), note


def check_one(
    scenario: Scenario,
    variant: str | None,
    *,
    loose: float = 1.0,
    injections: Sequence[Injection] = (),
) -> CheckResult:
    """Simulate, run live, compare; a timing miss is run again once before it counts."""
    label = scenario.name + (f" --variant {variant}" if variant else "")
    applied, note = on_this_machine(scenario, variant)
    result = CheckResult(scenario, label + note, variant)
    python = interpreter_for(applied.machine.python)
    if python is None:
        result.skipped = f"not run: this machine has no CPython {applied.machine.python.value}"
        return result
    sim = Simulation(applied, injections=injections)
    simulated = sim.run()
    open_values = open_shared_values(applied, injections, sim)
    hung = bool(simulated) and getattr(simulated[-1], "hung", False)
    elapsed = simulated[-1].t if simulated else 0.0
    # A hanging program is stopped just after the simulator's last event.
    # CPU-bound work stretches with the machine's load (the loops are calibrated in CPU
    # seconds): give it room before calling it hung.
    cpu_bound = margin_for(applied) is not SLEEP_BOUND
    factor = LIMIT_FACTOR * 3 if cpu_bound else LIMIT_FACTOR
    limit = elapsed + 1.0 if hung else elapsed * factor + LIMIT_EXTRA
    if hung and spawns_children(applied):
        limit += SPAWN_ROOM  # each new interpreter starts slower than simulated on a busy machine
    for attempt in range(2):
        try:
            session = LiveSession(applied, injections=injections, python=python)
            real = session.run_to_end(limit=limit)
        except Exception as error:  # a broken program is a finding, not a crash of check
            result.error = f"{type(error).__name__}: {error}"
            return result
        found = compare(applied, simulated, real, loose=loose, open_values=open_values)
        if not hung and getattr(real[-1], "hung", False):
            # Stopped at the limit: the facts that follow from that say nothing more.
            stopped = Disagreement(
                "exit",
                f"exits at {format_time(elapsed)}",
                f"ran on at {format_time(limit)}",
                timing=True,
            )
            found = [stopped]
        busy = os.getloadavg()[0]
        if cpu_bound and busy > BUSY_LOAD * (os.cpu_count() or 1):
            found = [d for d in found if not d.timing]
            result.note = (
                f"CPU-bound times not compared: load average {busy:.1f} on "
                f"{os.cpu_count()} cores (the work needs the cores it is timed on)"
            )
        if spawns_children(applied):
            found = [d for d in found if not d.timing]
            result.note = (
                f"times not compared under {start_method_of(applied)}: the "
                "probe's start in each new interpreter (its imports) outweighs the start it "
                "would time"
            )
        result.disagreements = found
        result.facts = _facts(applied)
        if attempt == 0 and found and all(d.timing for d in found):
            continue  # a busy machine can be late once; a second miss counts
        break
    return result


def spawns_children(scenario: Scenario) -> bool:
    """Processes started by ``spawn`` or ``forkserver``: each child is a new
    interpreter, which imports the probe before the program (live/spawned.py)."""
    return (
        scenario.program.model is Model.PROCESSES
        and start_method_of(scenario) is not StartMethod.FORK
    )


SPAWN_ROOM = 3.0
"""Seconds more before a program the simulator says hangs is stopped, when its processes
start by spawn or forkserver."""


def start_method_of(scenario: Scenario) -> StartMethod:
    """How the program's processes start: a pool with ``max_tasks_per_child`` spawns them."""
    program = scenario.program
    if program.executor and program.max_tasks_per_child is not None:
        return StartMethod.SPAWN
    return scenario.machine.resolved_start_method


def _facts(scenario: Scenario) -> int:
    """How many facts a comparison covers: main (2), per task 5, elapsed, output, warnings,
    the done-callbacks, and a process pool's manager thread."""
    tasks = sum(task.repeat for task in scenario.tasks)
    program = scenario.program
    pool = program.model is Model.PROCESSES and program.executor
    return 2 + 5 * tasks + 3 + len(scenario.shared) + 1 + 1 + int(pool)


def variants_of(scenario: Scenario, only: str | None) -> list[str | None]:
    if only is not None:
        return [None if only == "default" else only]
    return [None, *scenario.variant_names]


def check_all(
    scenarios: Iterable[Scenario],
    only: str | None = None,
    *,
    jobs: int = 2,
    loose: float = 1.0,
) -> list[CheckResult]:
    """Check every scenario and variant, ``jobs`` live runs at a time, in input order."""
    work = [(scenario, name) for scenario in scenarios for name in variants_of(scenario, only)]
    # Work that waits runs side by side; CPU-bound work runs alone afterwards, or the
    # programs would compete for the cores they are timed on.
    waiting = [i for i, (s, v) in enumerate(work) if margin_for(s.variant(v)) is SLEEP_BOUND]
    busy = [i for i in range(len(work)) if i not in waiting]
    results: dict[int, CheckResult] = {}

    def one(index: int) -> None:
        scenario, name = work[index]
        results[index] = check_one(scenario, name, loose=loose)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(one, waiting))
    for index in busy:
        one(index)
    return [results[i] for i in range(len(work))]


def report(results: Iterable[CheckResult]) -> tuple[list[str], bool]:
    """The lines to print and whether everything agreed."""
    lines: list[str] = []
    ok = True
    for result in results:
        if result.skipped:
            lines.append(f"{result.label}: {result.skipped}")
            continue
        if result.error is not None:
            ok = False
            lines.append(f"{result.label}: could not run live: {result.error}")
            continue
        timing = [d for d in result.disagreements if d.timing]
        for disagreement in result.disagreements:
            ok = False
            if disagreement.timing and len(timing) > MAX_TIMING_LINES:
                continue
            lines.append(f"{result.label}: {disagreement}")
        if len(timing) > MAX_TIMING_LINES:
            worst = max(timing, key=lambda d: abs(d.real - d.simulated))
            lines.append(
                f"{result.label}: {len(timing)} times outside the margin; the worst: {worst}"
            )
        if result.note:
            lines.append(f"{result.label}: {result.note}")
        if not result.disagreements:
            lines.append(f"{result.label}: agrees ({result.facts} facts)")
    return lines, ok
