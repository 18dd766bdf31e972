"""The run screen's keys for the story: move between the marks of a lane, ask why.

A base of ``RunScreen`` beside ``SessionActions``; it relies on the screen's ``session``,
``lanes``, ``say`` and ``show_log``. The selected mark and a lit chain belong to one history:
a rewind, a step back or a new seed puts them out (``forget_marks``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from concsim.durations import format_time
from concsim.events import Event
from concsim.ui.why import Link, lit_rows, why_chain

if TYPE_CHECKING:
    from concsim.ui.session import Session
    from concsim.ui.widgets.lanes import LanesView


class MarkKeys(Screen[None]):
    """m / M select the next / previous mark on the selected lane; w lights its why chain."""

    mark: int | None = None  # the selected moment (an index into the story's moments)
    chain: list[Link] | None = None  # the lit why chain, if any

    if TYPE_CHECKING:  # what RunScreen provides
        session: Session

        @property
        def lanes(self) -> LanesView: ...
        def say(self, message: str, **options: Any) -> None: ...
        def show_log(self) -> None: ...

    def forget_marks(self) -> None:
        self.mark = None
        self.chain = None

    def chain_filter(self) -> Callable[[Event], bool] | None:
        """The event log's filter while a chain is lit: its events only."""
        if self.chain is None:
            return None
        wanted = {self.session.events[link.index].seq for link in self.chain}
        return lambda event: event.seq in wanted

    def action_mark(self, delta: int) -> None:
        track = self.lanes.selected_track
        story = self.session.timeline.story
        if track is None:
            return
        numbers = story.by_row.get(track.row_id, [])
        if not numbers:
            self.say(f"No marks on {track.name} so far.", timeout=3)
            return
        if self.mark in numbers:
            at = numbers.index(self.mark) + delta
            number = numbers[max(0, min(len(numbers) - 1, at))]
        else:
            number = numbers[0] if delta > 0 else numbers[-1]
        self.mark = number
        moment = story.moments[number]
        event = self.session.events[moment.index]
        self.say(f"{format_time(moment.t)}: {event.why} (w: why)", timeout=6)
        if self.chain is None:
            self.lanes.light({moment.row: [(moment.t, moment.t)]})
        else:
            self._light_chain(number)

    def action_why(self) -> None:
        if self.chain is not None:
            self.chain = None
            self.lanes.light(self._selected_light())
            self.show_log()
            return
        story = self.session.timeline.story
        if self.mark is None:
            track = self.lanes.selected_track
            numbers = story.by_row.get(track.row_id, []) if track is not None else []
            if not numbers:
                # Nothing selected on this lane: the run's latest alarming moment, if any.
                numbers = list(range(len(story.moments)))
            if not numbers:
                self.say("Nothing to explain yet: no marks so far.", timeout=3)
                return
            self.mark = numbers[-1]
        self._light_chain(self.mark)

    def _light_chain(self, number: int) -> None:
        session = self.session
        self.chain = why_chain(session.timeline.story, session.timeline, session.events, number)
        self.lanes.light(lit_rows(self.chain))
        self.show_log()

    def _selected_light(self) -> dict[str, list[tuple[float, float]]]:
        if self.mark is None:
            return {}
        moment = self.session.timeline.story.moments[self.mark]
        return {moment.row: [(moment.t, moment.t)]}
