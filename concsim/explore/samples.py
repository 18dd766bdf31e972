"""One seed's run reduced to what groups it: its facets, its grade, its elapsed time."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from concsim.engine import Injection, Simulation
from concsim.engine.threads.ties import Chance
from concsim.events import Event, SharedWritten
from concsim.export.outcome import OUTCOME_EVENTS, outcome
from concsim.export.verdicts import Verdict as ExpectVerdict
from concsim.export.verdicts import failure, verdicts_for
from concsim.scenario.expect import Grade
from concsim.scenario.model import Scenario


class Verdict(StrEnum):
    """How the runs of one outcome are judged by the scenario's ``expect:`` list."""

    ACCEPTABLE = "acceptable"
    INTERESTING = "interesting"
    FORBIDDEN = "forbidden"
    UNEXPECTED = "unexpected"
    """The scenario expects outcomes, and this one matched none that is allowed."""
    UNGRADED = "ungraded"
    """The scenario (or variant) has no ``expect:`` list."""

    @property
    def fails(self) -> bool:
        """Whether a run judged so fails its expectations, as ``concsim test`` says."""
        return self in (Verdict.FORBIDDEN, Verdict.UNEXPECTED)


Facets = tuple[tuple[str, str], ...]
"""What a run did, as ``(name, value)`` pairs in a fixed order: ``("shared.counter", "196")``."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One seed's run: what it did, how that is judged, and how long it took (virtual)."""

    seed: int
    facets: Facets
    verdict: Verdict
    why: str
    """The sentence of the expectation that graded it (empty if none did)."""
    elapsed: float | None


def facets(result: Mapping[str, Any]) -> Facets:
    """The facts of an outcome (docs/outcome.md) that tell two runs apart, without times.

    Times vary with every seed once jitter is on; what a learner compares is what the
    program did: main's outcome, the results in the order main got them, how each task
    ended, the final shared values and the printed lines.
    """
    main = result["main"]
    found: list[tuple[str, str]] = [
        ("main", main["outcome"] + (f" {main['error']}" if main.get("error") else ""))
    ]
    if result.get("exit_code") not in (None, 0):
        found.append(("exit code", str(result["exit_code"])))
    found.append(("results", _text(result["results"])))
    for task in result["tasks"]:
        ending = task["outcome"] + (f" {task['error']}" if task.get("error") else "")
        if task.get("cleanup") not in (None, "none"):
            ending += f", cleanup {task['cleanup']}"
        found.append((f"task {task['name']}", ending))
    for name, value in sorted(result["shared"].items()):
        found.append((f"shared.{name}", _text(value)))
    found.append(("output", _text(result["output"])))
    return tuple(found)


def _text(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def judged(verdicts: Sequence[ExpectVerdict] | None) -> tuple[Verdict, str]:
    """The run's grade: the gravest expectation it matched, or why none applies."""
    if not verdicts:
        return Verdict.UNGRADED, ""
    matched = [v for v in verdicts if v.matched]
    for grade in (Grade.FORBIDDEN, Grade.INTERESTING, Grade.ACCEPTABLE):
        for verdict in matched:
            if verdict.grade is grade:
                return Verdict(grade.value), verdict.why or verdict.where
    problem = failure(verdicts) or ""
    return Verdict.UNEXPECTED, problem


KEPT: frozenset[type[Event]] = OUTCOME_EVENTS - {SharedWritten}
"""What a run kept only for its outcome records: the outcome's events but one
``SharedWritten`` per write (the commonest event of a race), whose last values the run
itself holds (``Simulation.shared``)."""


def run_outcome(
    scenario: Scenario,
    variant: str | None,
    injections: Sequence[Injection],
    seed: int,
    rng: Chance | None = None,
) -> dict[str, Any]:
    """One seed's outcome (``concsim.export.outcome``), from a run that keeps no history:
    equal to ``outcome(events)`` of the same run with every event kept. ``rng``: the run's
    random numbers instead of the seed's (a schedule being shrunk, explore/schedule.py)."""
    sim = Simulation(
        scenario, variant=variant, seed=seed, injections=injections, keep=KEPT, rng=rng
    )
    result = outcome(sim.run())
    result["shared"] = sim.shared
    return result


def run_seed(
    scenario: Scenario, variant: str | None, injections: Sequence[Injection], seed: int
) -> Sample:
    """Simulate one seed to the end and reduce it to a sample."""
    result = run_outcome(scenario, variant, injections, seed)
    verdict, why = judged(verdicts_for(scenario, variant, result))
    return Sample(seed, facets(result), verdict, why, result["elapsed"])
