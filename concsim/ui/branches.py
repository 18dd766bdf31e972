"""A session's timelines: the original run and the branches forked from it (``b``).

A branch is the same program, variant and seed as the run it was forked from, with that
run's injections up to the fork and its own after: the engine is deterministic, so the two
share every event before the fork and differ only by what was injected since. One branch
is on screen at a time; its injections live in the session's run, and are written back
here whenever another branch is shown or the session is saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from concsim.export.outcome import outcome
from concsim.replay import Branch
from concsim.ui.timeline import Timeline

if TYPE_CHECKING:
    from concsim.scenario.model import Scenario
    from concsim.ui.session import SimulationFactory

ORIGINAL = "original"


@dataclass
class Branches:
    """Every timeline of one variant and seed, and which one is shown."""

    items: list[Branch]
    active: int = 0

    @classmethod
    def start(cls, injections: Sequence[Any] = ()) -> Branches:
        return cls([Branch(ORIGINAL, tuple(injections))])

    @classmethod
    def restore(cls, saved: Sequence[Branch], shown: str | None) -> Branches:
        """The branches of a replay file, ``shown`` on screen (the reader checked both)."""
        if not saved:
            return cls.start()
        names = [branch.name for branch in saved]
        return cls(list(saved), names.index(shown) if shown in names else 0)

    @property
    def current(self) -> Branch:
        return self.items[self.active]

    @property
    def branched(self) -> bool:
        """Whether there is more than the original."""
        return len(self.items) > 1

    def parent_of(self, branch: Branch) -> Branch | None:
        return next((b for b in self.items if b.name == branch.parent), None)

    def keep(self, injections: Sequence[Any]) -> None:
        """Write the shown branch's injections back (before showing another, or saving)."""
        self.items[self.active] = replace(self.current, injections=tuple(injections))

    def fork(self, at: float, injections: Sequence[Any]) -> Branch:
        """A new branch of the shown one at ``at``, shown from now on: it keeps the shown
        branch's injections up to ``at`` (those after belong to the history it leaves)."""
        self.keep(injections)
        number = 1 + max((_number(b.name) for b in self.items), default=0)
        kept = tuple(i for i in injections if i.at <= at)
        branch = Branch(f"branch {number}", kept, self.current.name, at)
        self.items.append(branch)
        self.active = len(self.items) - 1
        return branch

    def show(self, index: int, injections: Sequence[Any]) -> Branch:
        """Show branch ``index``; ``injections`` are the shown one's, kept first."""
        self.keep(injections)
        self.active = index
        return self.current

    def close(self, index: int, injections: Sequence[Any]) -> Branch:
        """Close branch ``index`` (never the original); its children are re-parented to its
        parent. Closing the shown one shows its parent. Returns the branch shown after."""
        self.keep(injections)
        gone = self.items[index]
        assert gone.parent is not None, "the original is never closed"
        shown = self.current.name if index != self.active else gone.parent
        self.items = [
            replace(b, parent=gone.parent) if b.parent == gone.name else b
            for b in self.items
            if b is not gone
        ]
        self.active = next(i for i, b in enumerate(self.items) if b.name == shown)
        return self.current


def _number(name: str) -> int:
    """``branch 3`` -> 3; the original (and any other name) -> 0."""
    head, _, number = name.rpartition(" ")
    return int(number) if head == "branch" and number.isdigit() else 0


@dataclass(frozen=True)
class PlayedOut:
    """One timeline run to its end off screen: drawn as a ghost, compared as an outcome."""

    timeline: Timeline
    end: float
    outcome: dict[str, Any]


def play_out(
    scenario: Scenario,
    variant: str | None,
    seed: int,
    factory: SimulationFactory,
    injections: Sequence[Any],
) -> PlayedOut:
    """Simulate to the end (a stalled run ends as hung, as ``run()`` does) and fold it."""
    sim = factory(scenario, variant, seed, tuple(injections))
    sim.run()
    timeline = Timeline()
    timeline.feed(sim.events)
    timeline.now = max(timeline.now, sim.now)
    return PlayedOut(timeline, sim.now, outcome(sim.events))
