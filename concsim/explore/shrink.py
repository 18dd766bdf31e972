"""Shrinking a run to the fewest deviations from the default schedule that still give its
outcome (delta debugging, Zeller and Hildebrandt's ``ddmin``, as simloom and Hypothesis
shrink a failing schedule).

A run's schedule is the list of its random draws, one per varied duration (an I/O wait
under ``machine.jitter``, a CPU step under ``machine.cpu_jitter``). The default schedule
varies nothing: every duration as written. A deviation is a draw that varies its duration;
shrinking keeps the fewest deviations of a seed's run with which the outcome still comes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

Schedule = Mapping[int, float]
"""Draws that deviate, by their index in the run: every other draw leaves its duration be."""


@dataclass(frozen=True, slots=True)
class Shrunk:
    """The fewest deviations found, and what finding them cost."""

    schedule: dict[int, float]
    runs: int
    """Simulations run while shrinking."""
    complete: bool
    """False when the budget ran out first: fewer deviations may still give the outcome."""


def shrink(
    deviations: Schedule, produces: Callable[[Schedule], bool], *, budget: int = 2_000
) -> Shrunk:
    """The smallest subset of ``deviations`` for which ``produces`` holds, 1-minimal: taking
    away any one deviation more loses the outcome (unless the budget of runs ran out).

    ``produces(deviations)`` must hold; ``produces({})`` is tried first (the default
    schedule may give the outcome by itself).
    """
    runs = 0

    def test(kept: list[int]) -> bool:
        nonlocal runs
        runs += 1
        return produces({index: deviations[index] for index in kept})

    if test([]):
        return Shrunk({}, runs, True)
    kept = sorted(deviations)
    parts = 2
    while len(kept) >= 2:
        if runs >= budget:
            return Shrunk({i: deviations[i] for i in kept}, runs, False)
        chunks = _split(kept, parts)
        for chunk in chunks:  # is one part enough by itself?
            if runs < budget and test(chunk):
                kept, parts = chunk, 2
                break
        else:
            for chunk in chunks:  # can one part go?
                rest = [index for index in kept if index not in set(chunk)]
                if runs < budget and test(rest):
                    kept, parts = rest, max(parts - 1, 2)
                    break
            else:
                if parts >= len(kept):
                    break  # every single deviation is needed
                parts = min(len(kept), parts * 2)
    return Shrunk({i: deviations[i] for i in kept}, runs, runs < budget or len(kept) <= 1)


def _split(items: list[int], parts: int) -> list[list[int]]:
    size, extra = divmod(len(items), parts)
    chunks, at = [], 0
    for part in range(parts):
        end = at + size + (1 if part < extra else 0)
        if end > at:
            chunks.append(items[at:end])
        at = end
    return chunks
