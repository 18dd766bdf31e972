"""The run screen's code view: shown and hidden, kept at the playhead, its lines clicked.

A base of ``RunScreen`` beside ``MarkKeys``; it relies on the screen's ``session``, ``lanes``,
``say`` and ``show_log``. Beside the lanes on a wide terminal, in place of the event log on a
narrow one; beside the lanes it takes the notes' place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.events import Resize

from concsim.durations import format_time
from concsim.ui.screens.places import Placing
from concsim.ui.widgets.code import CodeView
from concsim.ui.widgets.lanes import LanesView

if TYPE_CHECKING:
    from concsim.ui.session import Session

CODE_BESIDE = 100
"""From this many columns the code view sits beside the lanes; below, in the log's place."""


class CodeKeys(Placing):
    """o shows or hides the program, each lane's line marked; a click on a line lights the
    lanes on it and selects the first."""

    if TYPE_CHECKING:  # what RunScreen and MarkKeys provide
        session: Session
        mark: int | None
        chain: Any

        @property
        def lanes(self) -> LanesView: ...
        def say(self, message: str, **options: Any) -> None: ...
        def show_log(self) -> None: ...

    @property
    def code(self) -> CodeView:
        return self.query_one(CodeView)

    def show_code(self) -> None:
        """Mark the lanes' lines at the playhead (the run screen calls it whenever the
        playhead or the history changes); nothing to do while the code view is hidden."""
        track = self.lanes.selected_track
        self.code.follow(self.session, track.row_id if track is not None else None)

    def action_toggle_code(self) -> None:
        self.code_on = not self.code_on
        self.place()
        if self.code_on:
            self.call_after_refresh(self.show_code)  # once laid out: the view knows its size

    def hide_code(self) -> None:
        self.code_on = False
        self.place()

    @on(Resize)
    def _place_code(self, event: Resize) -> None:
        self.code_below = event.size.width < CODE_BESIDE
        self.set_class(self.code_below, "-code-below")  # a resize restyles all anyway
        self.place()

    @on(LanesView.Selected)
    def _follow_selection(self, message: LanesView.Selected) -> None:
        self.show_code()

    @on(CodeView.LinePicked)
    def _light_line(self, message: CodeView.LinePicked) -> None:
        """Light each lane on the clicked line over its stretch there, select the first."""
        now = self.session.now
        code, lanes = self.code, message.lanes
        if self.chain is not None:
            self.chain = None
            self.show_log()
        self.mark = None
        if not lanes:
            self.lanes.light({})
            self.say(f"No lane is on line {message.line} at {format_time(now)}.", timeout=3)
            return
        lit: dict[str, list[tuple[float, float]]] = {}
        for lane in lanes:
            since = code.since(lane)
            lit[lane] = [(now if since is None else since, now)]
        self.lanes.light(lit)
        self.lanes.select_row(lanes[0])
        self.say(f"Line {message.line} at {format_time(now)}: {', '.join(lanes)}.", timeout=3)
