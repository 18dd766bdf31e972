"""Run scenarios headless and judge their ``expect:`` lists: ``concsim test`` and the fixtures.

A case is one run: a file as written, or one of its variants. It passes when no forbidden
expectation matches and, if it has acceptable or interesting ones, at least one of those
matches (``concsim.export.verdicts.failure``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from concsim.engine import Injection, Simulation
from concsim.export.outcome import outcome
from concsim.export.verdicts import Verdict, failure, label, verdicts_for
from concsim.scenario.checks import injection_problem
from concsim.scenario.errors import ScenarioError
from concsim.scenario.expect import Grade
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario
from concsim.scenario.model import Scenario


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing expected of this run
    INVALID = "invalid"  # the file cannot be loaded


@dataclass(frozen=True, slots=True)
class Case:
    """One run of ``concsim test``: a file (or a variant of it) and what became of it."""

    file: str
    variant: str | None
    status: Status
    message: str
    """Why it failed, what it matched, why it was skipped, or the file's problem lines."""
    verdicts: tuple[Verdict, ...] = ()
    seconds: float = 0.0
    """Wall-clock time the run took."""
    scenario: str = ""

    @property
    def name(self) -> str:
        """``default`` for the file as written, else the variant's name."""
        return self.variant or "default"


def run_outcome(
    scenario: Scenario,
    *,
    variant: str | None = None,
    seed: int | None = None,
    injections: Sequence[Injection] = (),
) -> dict[str, Any]:
    """One run's outcome (docs/outcome.md), with ``expect`` when the run has expectations.

    Raises ValueError for an injection aimed at nothing and KeyError for an unknown variant.
    """
    return _run(scenario, variant, seed, injections)[0]


def _run(
    scenario: Scenario, variant: str | None, seed: int | None, injections: Sequence[Injection]
) -> tuple[dict[str, Any], list[Verdict] | None]:
    for injection in injections:
        problem = injection_problem(scenario, injection.target, injection.error)
        if problem:
            raise ValueError(f"--inject {injection.fault} on {injection.target}: {problem}")
    sim = Simulation(scenario, variant=variant, seed=seed, injections=injections)
    result = outcome(sim.run())
    verdicts = verdicts_for(scenario, variant, result)
    if verdicts is not None:
        result["expect"] = [verdict.to_dict() for verdict in verdicts]
    return result, verdicts


def check_file(
    target: str, *, seed: int | None = None, clock: Callable[[], float] = time.perf_counter
) -> list[Case]:
    """Every run of a file (as written, then each variant) judged on its expectations."""
    try:
        scenario = load_scenario(find_scenario(target))
    except ScenarioError as error:
        return [Case(target, None, Status.INVALID, str(error))]
    cases = []
    for variant in (None, *scenario.variant_names):
        start = clock()
        verdicts = _run(scenario, variant, seed, ())[1] or []
        seconds = clock() - start
        cases.append(_case(target, variant, verdicts, seconds, scenario.name))
    return cases


def check_files(
    files: Sequence[str], *, seed: int | None = None, echo: Callable[..., None] | None = None
) -> tuple[list[tuple[str, list[Case]]], Tally]:
    """``concsim test``: every file checked, a line per case through ``echo`` as it is
    judged (an invalid file's problem lines first, with ``err=True``), then the tally."""
    echo = echo or _print
    tally = Tally()
    report = []
    for file in files:
        cases = check_file(file, seed=seed)
        for case in cases:
            if case.status is Status.INVALID:
                echo(case.message, err=True)
            echo(case_line(case))
        tally.add(cases)
        report.append((file, cases))
    echo(str(tally))
    return report, tally


def _print(text: str, err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout)


def _case(
    file: str, variant: str | None, verdicts: list[Verdict], seconds: float, scenario: str
) -> Case:
    if not verdicts:
        status, message = Status.SKIPPED, "no expectations"
    elif (problem := failure(verdicts)) is not None:
        status, message = Status.FAILED, problem
    else:
        matched = [v for v in verdicts if v.matched and v.grade is not Grade.FORBIDDEN]
        status = Status.PASSED
        message = "; ".join(f"{v.grade.value}: {label(v)}" for v in matched) or (
            "no forbidden outcome"
        )
    return Case(file, variant, status, message, tuple(verdicts), seconds, scenario)


@dataclass
class Tally:
    """How many cases ended each way; the exit status of ``concsim test``."""

    counts: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(Status, 0))

    def add(self, cases: Sequence[Case]) -> None:
        for case in cases:
            self.counts[case.status] += 1

    @property
    def exit_status(self) -> int:
        """2 if a file is invalid, else 1 if a case failed, else 0."""
        if self.counts[Status.INVALID]:
            return 2
        return 1 if self.counts[Status.FAILED] else 0

    def __str__(self) -> str:
        return ", ".join(
            f"{count} {status.value}" for status, count in self.counts.items() if count
        )


def case_line(case: Case) -> str:
    """One line per case: ``PASS  file [variant]  what matched`` (an invalid file: ERROR)."""
    tag = {
        Status.PASSED: "PASS ",
        Status.FAILED: "FAIL ",
        Status.SKIPPED: "SKIP ",
        Status.INVALID: "ERROR",
    }[case.status]
    where = case.file + (f" [{case.variant}]" if case.variant else "")
    if case.status is Status.INVALID:
        return f"{tag} {where}  invalid scenario (see above)"
    return f"{tag} {where}  {case.message}"


def resolve(target: str | Path, base: Path) -> str:
    """A scenario file next to ``base`` (a test's folder), else as given (a path from the
    current directory, or a bundled scenario's name)."""
    beside = base / target
    return str(beside) if beside.is_file() else str(target)
