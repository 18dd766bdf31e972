"""Helpers for the engine tests: inline scenarios, runs by both entry points, event lookups."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from concsim.engine import Injection, Simulation
from concsim.events import Event
from concsim.export.outcome import outcome
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Scenario

E = TypeVar("E", bound=Event)


def scenario(text: str) -> Scenario:
    """An inline YAML scenario (indented freely inside a test)."""
    return load_scenario_text(textwrap.dedent(text), "test.yaml")


@dataclass
class Run:
    """A finished simulation and its headless outcome."""

    sim: Simulation
    out: dict[str, Any]

    @property
    def events(self) -> list[Event]:
        return self.sim.events

    @property
    def main(self) -> dict[str, Any]:
        return dict(self.out["main"])

    @property
    def main_outcome(self) -> tuple[str, str | None]:
        """main()'s outcome and error, e.g. ``("raised", "TimeoutError")``."""
        return self.out["main"]["outcome"], self.out["main"]["error"]

    @property
    def elapsed(self) -> float:
        return float(self.out["elapsed"])

    def outcomes(self) -> dict[str, str]:
        """Each task's outcome, by name."""
        return {task["name"]: task["outcome"] for task in self.out["tasks"]}

    def task(self, name: str) -> dict[str, Any]:
        """One task's outcome record: outcome, error, cleanup, started, ended."""
        for record in self.out["tasks"]:
            if record["name"] == name:
                return dict(record)
        raise KeyError(name)

    def of(self, kind: type[E], **fields: Any) -> list[E]:
        """Events of one type whose fields equal the given values."""
        return [
            e
            for e in self.events
            if type(e) is kind and all(getattr(e, k) == v for k, v in fields.items())
        ]

    def one(self, kind: type[E], **fields: Any) -> E:
        found = self.of(kind, **fields)
        assert len(found) == 1, f"expected one {kind.__name__} {fields}, got {found}"
        return found[0]

    def dicts(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.events]


def record(
    name: str,
    outcome: str,
    error: str | None,
    started: float | None,
    ended: float | None,
    cleanup: str,
) -> dict[str, Any]:
    """A task's record in the outcome, written in one line."""
    return {
        "name": name,
        "outcome": outcome,
        "error": error,
        "started": started,
        "ended": ended,
        "cleanup": cleanup,
    }


def run(
    text_or_scenario: str | Scenario,
    injections: Iterable[Injection] = (),
    *,
    variant: str | None = None,
    seed: int | None = None,
) -> Run:
    """Simulate to the end with injections known up front (the file / replay entry point)."""
    sc = scenario(text_or_scenario) if isinstance(text_or_scenario, str) else text_or_scenario
    sim = Simulation(sc, variant=variant, seed=seed, injections=tuple(injections))
    sim.run()
    return Run(sim, outcome(sim.events))


def run_live(
    text_or_scenario: str | Scenario,
    faults: Sequence[tuple[float, str, str] | tuple[float, str, str, str]],
    *,
    variant: str | None = None,
    seed: int | None = None,
) -> Run:
    """Simulate as the terminal app does: advance to each time, then ``inject`` there."""
    sc = scenario(text_or_scenario) if isinstance(text_or_scenario, str) else text_or_scenario
    sim = Simulation(sc, variant=variant, seed=seed)
    for at, *rest in sorted(faults, key=lambda f: f[0]):
        sim.advance(at)
        sim.inject(*rest)
    sim.run()
    return Run(sim, outcome(sim.events))


def without_faults(text: str) -> str:
    """The scenario text up to its ``faults:`` list (tests put that list last)."""
    head, _, _ = textwrap.dedent(text).partition("\nfaults:")
    return head + "\n"


def assert_same_run(a: Run, b: Run) -> None:
    """Two runs are the same run: identical events, byte for byte, hence identical outcome."""
    assert a.out == b.out
    assert a.dicts() == b.dicts()


def check_entry_points(
    text: str, faults: Sequence[tuple[float, str, str] | tuple[float, str, str, str]]
) -> Run:
    """The faults written in the file, the same faults injected live with ``inject`` after
    ``advance``, and a replay of the live session's recorded injections are one run."""
    from_file = run(text)
    live = run_live(without_faults(text), faults)
    replay = run(without_faults(text), live.sim.injections)
    assert_same_run(from_file, live)
    assert_same_run(live, replay)
    assert [(i.at, i.fault, i.target) for i in live.sim.injections] == [
        (f[0], f[1], f[2]) for f in sorted(faults, key=lambda f: f[0])
    ]
    return from_file
