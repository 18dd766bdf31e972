"""Runs grouped by outcome: one bar per distinct set of facets, with its share and grade."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from concsim.explore.samples import Facets, Sample, Verdict

KEPT_SEEDS = 5  # seeds remembered per bar, the smallest first


@dataclass(slots=True)
class Bar:
    """Every run with one outcome: how many, which seeds, how it is judged."""

    facets: Facets
    verdict: Verdict
    why: str
    count: int = 0
    seeds: list[int] = field(default_factory=list)
    """The smallest seeds that gave this outcome (up to ``KEPT_SEEDS``)."""
    shortest: float | None = None
    longest: float | None = None

    def add(self, sample: Sample) -> None:
        self.count += 1
        if len(self.seeds) < KEPT_SEEDS or sample.seed < self.seeds[-1]:
            self.seeds = sorted([*self.seeds, sample.seed])[:KEPT_SEEDS]
        elapsed = sample.elapsed
        if elapsed is not None:
            self.shortest = elapsed if self.shortest is None else min(self.shortest, elapsed)
            self.longest = elapsed if self.longest is None else max(self.longest, elapsed)

    @property
    def seed(self) -> int:
        """The representative run: the smallest seed with this outcome."""
        return self.seeds[0]


class Histogram:
    """Samples grouped by their facets; bars ordered by count, then by first seed."""

    def __init__(self) -> None:
        self._bars: dict[Facets, Bar] = {}
        self.runs = 0

    def add(self, samples: Iterable[Sample]) -> None:
        for sample in samples:
            bar = self._bars.get(sample.facets)
            if bar is None:
                bar = self._bars[sample.facets] = Bar(sample.facets, sample.verdict, sample.why)
            bar.add(sample)
            self.runs += 1

    @property
    def bars(self) -> list[Bar]:
        return sorted(self._bars.values(), key=lambda bar: (-bar.count, bar.seed))

    def share(self, bar: Bar) -> float:
        return bar.count / self.runs if self.runs else 0.0

    def varying(self) -> list[str]:
        """The facets whose values differ between bars, in the facets' own order."""
        bars = list(self._bars)
        names: list[str] = []
        for facets in bars:
            for name, _ in facets:
                if name not in names:
                    names.append(name)
        if len(bars) < 2:
            return []
        values = [dict(facets) for facets in bars]
        return [name for name in names if len({v.get(name) for v in values}) > 1]

    def label(self, bar: Bar) -> str:
        """What sets this outcome apart: the facets that vary between outcomes; with one
        outcome, main's and the shared values, and any task that did not end ``ok``."""
        shown = set(self.varying())
        pairs = [
            (name, value)
            for name, value in bar.facets
            if (name in shown if shown else _stands_out(name, value))
        ]
        return ", ".join(f"{name}={value}" for name, value in pairs)

    @property
    def fails(self) -> bool:
        """Whether any run failed its expectations (forbidden, or matched nothing allowed)."""
        return any(bar.verdict.fails for bar in self._bars.values())


def _stands_out(name: str, value: str) -> bool:
    if name.startswith("task "):
        return value != "ok"
    return name in ("main", "exit code") or name.startswith("shared.")
