"""A long log shown anew (a new history, a filter, a kind) costs the key a screen's worth
of events; the rest is looked at a slice per turn of the event loop."""

from __future__ import annotations

from appkit import sync
from textual.app import App, ComposeResult

from concsim.events import ExceptionRaised, LaneState, LaneStateChanged
from concsim.ui.widgets.eventlog import EventLog


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EventLog(id="log")


@sync
async def test_a_long_log_shown_anew_looks_at_a_screens_worth_of_events_at_once() -> None:
    """A new history or filter on a 100,000-event log: the key that set it looks at 1,000
    events (the newest, the ones on screen), the rest goes on a slice per turn; a log of
    4,000 events or fewer is looked at whole, at once, as before."""
    events = [
        LaneStateChanged(t=k / 1000, seq=k, lane="main", state=LaneState.RUNNING, step=f"s{k}")
        if k % 3
        else ExceptionRaised(
            t=k / 1000, seq=k, lane="main", error="ValueError", message="", task="main"
        )
        for k in range(100_000)
    ]
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(EventLog)
        log.rebuild(events, len(events), None, fold=True)
        assert log.scanned == len(events) - 1_000
        region = log.scrollable_content_region
        lines = [strip.text for strip in log._lines(region.width, region.height)]
        assert "ValueError was raised in main" in lines[-1]  # the newest event, at the bottom
        while log.is_scanning:
            await pilot.pause()
        assert len(log.entries) == 66_667  # every raise, each stretch between two one row
        log.rebuild(events[:4_000], 4_000, None, fold=True)
        assert not log.is_scanning
