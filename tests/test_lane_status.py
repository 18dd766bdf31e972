"""The status column of the lanes: the words a lesson points to fit whole at 120 columns
(84 for the lanes, the notes beside them) and at 160, and stay sensible at 80."""

from __future__ import annotations

import pytest

from concsim.engine import Simulation
from concsim.replay import open_scenario
from concsim.ui.cells import Window
from concsim.ui.draw import Columns, draw_lane
from concsim.ui.timeline import Timeline


def statuses(name: str, t: float, width: int, variant: str | None = None) -> dict[str, str]:
    """Each lane's status as drawn at ``t`` in lanes ``width`` columns wide."""
    sim = Simulation(open_scenario(name).variant(variant))
    sim.run()
    timeline = Timeline()
    timeline.feed([event for event in sim.events if event.t <= t])
    columns = Columns.for_width(width)
    window = Window(0.0, 0.05, columns.bar)
    shown = {}
    for track in timeline.rows:
        waits = None if track.is_gil else timeline.story.waits(timeline, track)
        row = draw_lane(track, window, t, columns, story=timeline.story, waits=waits)
        text = "".join(segment.text for segment in row)
        assert len(text) == width
        shown[track.row_id] = text[columns.name + columns.bar + 1 :].rstrip()
    return shown


@pytest.mark.parametrize(
    ("name", "t", "lane", "at_120", "at_160"),
    [
        (
            "semaphore-limit",
            0.05,
            "thread-3",
            "= with slots (2 of 2 taken)",
            "= fetch-3: with slots (2 of 2 taken)",
        ),
        (
            "event-wait-stop",
            0.7,
            "thread-1",
            "= pause 0.5 s (stop: not set)",
            "= worker-1: pause 0.5 s (stop: not set)",
        ),
        (
            "barrier-breaks",
            0.6,
            "thread-2",
            "= wait ready (2 of 3 arrived)",
            "= stock: wait ready (2 of 3 arrived)",
        ),
        (
            "lock-timeout-back-off",
            0.12,
            "thread-1",
            "= lock_b held by thread-2",
            "= lock_b held by thread-2",
        ),
        (
            "deadlock-lock-order",
            0.05,
            "thread-1",
            "? lock_b held by thread-2",
            "? lock_b held by thread-2",
        ),
    ],
)
def test_the_words_a_lesson_points_to_fit_whole(
    name: str, t: float, lane: str, at_120: str, at_160: str
) -> None:
    """At 120 columns (84 for the lanes, the notes beside) the step a lesson quotes is
    whole, its task dropped for room; at 160 (116) the task comes first. A lane blocked on
    a lock, timed or not, names the lock and its holder."""
    assert statuses(name, t, 84)[lane] == at_120
    assert statuses(name, t, 116)[lane] == at_160


def test_a_step_that_fits_keeps_its_task() -> None:
    """With room the task comes first: ``fetch-1: fetch page``."""
    assert statuses("semaphore-limit", 0.05, 84)["thread-1"] == "~ fetch-1: fetch page"


def test_at_80_columns_the_status_keeps_the_words_a_lesson_quotes() -> None:
    """80 columns: the lock and its holder, the step a lesson quotes, whole."""
    assert statuses("deadlock-lock-order", 0.05, 80)["thread-2"] == "? lock_a held by thread-1"
    assert statuses("semaphore-limit", 0.05, 80)["thread-6"] == "= with slots (2 of 2 taken)"
    assert statuses("event-wait-stop", 0.7, 80)["thread-2"] == "= pause 0.5 s (stop: not set)"


def test_the_status_column_takes_three_sevenths_of_what_the_name_leaves() -> None:
    assert [Columns.for_width(w).label for w in (60, 80, 84, 116, 160)] == [0, 29, 31, 40, 40]
