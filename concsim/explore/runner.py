"""Running many seeds: in this process, or across cores with a standard process pool.

The seeds are cut into chunks that are judged in seed order whatever order they finish in,
so an exploration is as deterministic as one run: the same scenario, seeds and faults give
the same histogram, and ``until`` stops at the same seed, however many jobs ran it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from concsim.engine import Injection
from concsim.explore.histogram import Histogram
from concsim.explore.samples import Sample, Verdict, run_seed
from concsim.scenario.model import Scenario

_MAX_CHUNK = 50  # seeds per task sent to a worker process


@dataclass(slots=True)
class Exploration:
    """What an exploration found, and what it cost."""

    scenario: Scenario
    variant: str | None
    injections: tuple[Injection, ...]
    first_seed: int
    histogram: Histogram = field(default_factory=Histogram)
    jobs: int = 1
    seconds: float = 0.0
    stopped_at: Sample | None = None
    """The run that ended the exploration early (``until``), if one did."""

    @property
    def runs_per_second(self) -> float:
        return self.histogram.runs / self.seconds if self.seconds > 0 else 0.0

    @property
    def last_seed(self) -> int:
        return self.first_seed + self.histogram.runs - 1


def explore(
    scenario: Scenario,
    *,
    runs: int,
    variant: str | None = None,
    injections: Sequence[Injection] = (),
    first_seed: int = 0,
    jobs: int = 1,
    until: Verdict | None = None,
    progress: Callable[[Exploration], None] | None = None,
    stop: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Exploration:
    """Run seeds ``first_seed`` … ``first_seed + runs - 1`` and group them by outcome.

    With ``until``, stop after the first seed whose run is judged so. ``progress`` is
    called with the exploration so far after each chunk of seeds; when ``stop`` says so
    (checked as often), the exploration ends there, with the seeds judged so far.
    """
    found = Exploration(scenario, variant, tuple(injections), first_seed, jobs=max(1, jobs))
    start = clock()
    chunks = _chunks(first_seed, runs, found.jobs)
    for samples in _samples(found, chunks):
        kept = _until(samples, until)
        found.histogram.add(kept)
        found.seconds = clock() - start
        if until is not None and kept and kept[-1].verdict is until:
            found.stopped_at = kept[-1]
            break
        if progress is not None:
            progress(found)
        if stop is not None and stop():
            break
    found.seconds = clock() - start
    return found


def _until(samples: list[Sample], until: Verdict | None) -> list[Sample]:
    """The samples up to and including the first judged ``until`` (all of them if none)."""
    if until is None:
        return samples
    for index, sample in enumerate(samples):
        if sample.verdict is until:
            return samples[: index + 1]
    return samples


def _chunks(first: int, runs: int, jobs: int) -> list[range]:
    size = max(1, min(_MAX_CHUNK, runs // (jobs * 4) or 1))
    return [range(at, min(at + size, first + runs)) for at in range(first, first + runs, size)]


def _samples(found: Exploration, chunks: list[range]) -> Iterator[list[Sample]]:
    """Each chunk's samples, in seed order."""
    args = (found.scenario, found.variant, found.injections)
    if found.jobs == 1 or len(chunks) == 1:
        for chunk in chunks:
            yield _run_chunk(*args, chunk)
        return
    with ProcessPoolExecutor(found.jobs, initializer=_adopt, initargs=args) as pool:
        futures: list[Future[list[Sample]]] = [pool.submit(_run_adopted, c) for c in chunks]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _run_chunk(
    scenario: Scenario, variant: str | None, injections: Sequence[Injection], seeds: range
) -> list[Sample]:
    return [run_seed(scenario, variant, injections, seed) for seed in seeds]


_ADOPTED: tuple[Scenario, str | None, tuple[Injection, ...]] | None = None


def _adopt(scenario: Scenario, variant: str | None, injections: tuple[Injection, ...]) -> None:
    """A worker process's initializer: the scenario is sent once, not with every chunk."""
    global _ADOPTED
    _ADOPTED = (scenario, variant, injections)


def _run_adopted(seeds: range) -> list[Sample]:
    assert _ADOPTED is not None, "the pool's initializer sets the scenario"
    return _run_chunk(*_ADOPTED, seeds)
