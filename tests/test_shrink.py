"""ddmin over a run's deviations: the fewest that still give the outcome, 1-minimal."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from concsim.explore.shrink import Schedule, shrink


def test_the_default_schedule_is_tried_first() -> None:
    found = shrink({1: 0.9, 5: 0.1}, lambda schedule: True)
    assert found.schedule == {} and found.runs == 1 and found.complete


def test_keeps_exactly_the_deviations_that_matter() -> None:
    needed = {3, 17, 40}
    deviations = {index: 0.5 + index / 1000 for index in range(60)}
    found = shrink(deviations, lambda schedule: needed <= set(schedule))
    assert found.schedule == {index: deviations[index] for index in needed}
    assert found.complete


def test_either_of_two_causes_is_enough() -> None:
    """Any one deviation that gives the outcome alone is a 1-minimal answer."""
    found = shrink(dict.fromkeys(range(32), 0.0), lambda s: 7 in s or 25 in s)
    assert set(found.schedule) in ({7}, {25})


def test_the_budget_bounds_the_runs_and_says_so() -> None:
    deviations = dict.fromkeys(range(200), 0.1)
    found = shrink(deviations, lambda s: len(s) >= 150, budget=10)
    assert found.runs <= 10 and not found.complete
    assert len(found.schedule) >= 150


@settings(max_examples=60, deadline=None)
@given(
    st.sets(st.integers(0, 63), min_size=1, max_size=64).flatmap(
        lambda all_: st.tuples(st.just(all_), st.sets(st.sampled_from(sorted(all_)), max_size=4))
    )
)
def test_the_result_is_one_minimal(case: tuple[set[int], set[int]]) -> None:
    """Whatever subset is needed, the result still produces the outcome and no deviation
    can be taken away from it."""
    available, needed = case

    def produces(schedule: Schedule) -> bool:
        return needed <= set(schedule)

    found = shrink(dict.fromkeys(available, 0.3), produces)
    assert produces(found.schedule)
    for index in found.schedule:
        assert not produces({i: v for i, v in found.schedule.items() if i != index})
    assert set(found.schedule) == needed


def test_an_outcome_needing_pairs_is_still_one_minimal() -> None:
    """An outcome that comes from any two adjacent deviations: keeps one such pair."""

    def produces(schedule: Schedule) -> bool:
        return any(b - a == 1 for a, b in itertools.pairwise(sorted(schedule)))

    found = shrink(dict.fromkeys(range(40), 0.2), produces)
    assert len(found.schedule) == 2 and produces(found.schedule)
