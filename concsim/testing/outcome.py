"""The outcome of one run with attribute access, for tests: ``out.main.error``,
``out.tasks["fetch-3"].outcome``. A thin typed view of the ``--json`` document
(docs/outcome.md), which stays available as ``out.raw``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from concsim.export.verdicts import Verdict, failure
from concsim.scenario.expect import Grade


@dataclass(frozen=True, slots=True)
class MainResult:
    """How ``main()`` ended: ``ok``, ``raised`` (with ``error``) or ``hung``."""

    outcome: str
    error: str | None


@dataclass(frozen=True, slots=True)
class TaskResult:
    """How one task ended (``tasks[]`` of the outcome)."""

    name: str
    outcome: str
    """ok, failed, cancelled, killed, never_started or hung."""
    error: str | None
    started: float | None
    ended: float | None
    cleanup: str
    """ran, skipped or none."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one run did; every field as in docs/outcome.md."""

    scenario: str
    variant: str | None
    seed: int
    elapsed: float
    main: MainResult
    results: list[Any]
    tasks: dict[str, TaskResult]
    """Every task by name, in the order of the file (a repeated task as NAME-1 ... NAME-N)."""
    warnings: list[str]
    shared: dict[str, Any]
    output: list[str]
    expect: tuple[Verdict, ...]
    """The scenario's expectations judged on this run (empty if it has none)."""
    raw: dict[str, Any] = field(repr=False, compare=False)
    """The outcome document itself, as ``concsim run --json`` prints it."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outcome:
        tasks = {task["name"]: TaskResult(**task) for task in data["tasks"]}
        verdicts = tuple(
            Verdict(
                where=item["where"],
                grade=Grade(item["grade"]),
                why=item["why"],
                matched=item["matched"],
                unmet=item["unmet"],
            )
            for item in data.get("expect", ())
        )
        return cls(
            scenario=data["scenario"],
            variant=data["variant"],
            seed=data["seed"],
            elapsed=data["elapsed"],
            main=MainResult(**data["main"]),
            results=list(data["results"]),
            tasks=tasks,
            warnings=list(data["warnings"]),
            shared=dict(data["shared"]),
            output=list(data["output"]),
            expect=verdicts,
            raw=dict(data),
        )

    @property
    def matched(self) -> list[Verdict]:
        """The expectations this run matched."""
        return [verdict for verdict in self.expect if verdict.matched]

    @property
    def expect_failure(self) -> str | None:
        """Why this run fails its expectations as ``concsim test`` judges them, or None."""
        return failure(self.expect)
