"""Moving in time, as people see it: the seek line with a time typed wrong, and the
playhead moved to the next marks mid-run."""

from __future__ import annotations

from test_screens import MID, SMALL, Snap, at, build, check
from textual.pilot import Pilot

from concsim.ui.app import ConcsimApp


def test_seek_line_says_what_is_wrong(snap_compare: Snap) -> None:
    """g then "abc" and enter at 120x36: the seek line stays open with one line of why."""

    async def script(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, ConcsimApp)
        await pilot.pause()
        app.advance_to(0.1)
        await pilot.press("g", *"abc", "enter")
        await pilot.pause()

    check(snap_compare, build("io-threads"), MID, script)


def test_next_marks_mid_run(snap_compare: Snap) -> None:
    """> twice from the start of failure-during-as-completed at 120x36: the playhead on
    main's re-raise of job-2's error at 200 ms, the mark lit, what happened said."""
    check(snap_compare, build("failure-during-as-completed"), MID, at(0.0, keys=(">", ">")))


def test_one_event_steps_mid_run_at_80x24(snap_compare: Snap) -> None:
    """cpu-threads-gil at 0.3 s, then . three times and , once: two events on."""
    keys = (".", ".", ".", ",")
    check(snap_compare, build("cpu-threads-gil"), SMALL, at(0.3, keys=keys))
