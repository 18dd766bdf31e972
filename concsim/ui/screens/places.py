"""Where the run screen's notes and code view go: beside the lanes, under them, or hidden.

A base of ``RunScreen``. ``n`` and ``o`` change what is shown on the widgets that change,
never with a class on the screen: a class there restyles every widget of the screen (the
notes' Markdown blocks and the footer's keys included, about 120 of them), and the
screen is then laid out as often as the new styles ask. Here a key sets the ``display`` of
the notes and the code view, and only when one of them goes under the lanes (a narrow
terminal) the classes of the stage (the lanes, legend and bottom panels, a dozen widgets)
and the body's layout. The screen's own classes (``-narrow``, ``-code-below``) follow the
terminal's width alone: they change on a resize, never on a key.
"""

from __future__ import annotations

from enum import Enum

from textual.screen import Screen
from textual.widget import Widget


class Under(Enum):
    """What sits under the lanes, in the place of the log, futures and faults."""

    NOTHING = ""
    NOTES = "-over-notes"
    CODE = "-over-code"


class Placing(Screen[None]):
    """The notes (``notes_on``, unless the code is shown) and the code view (``code_on``)
    placed for the terminal's width (``narrow``: notes under the lanes; ``code_below``:
    the code under them)."""

    notes_on = False
    code_on = False
    narrow = False
    code_below = False

    @property
    def notes_shown(self) -> bool:
        """The notes are on screen: chosen, and not in the code view's place."""
        return self.notes_on and not self.code_on

    @property
    def under(self) -> Under:
        if self.code_on and self.code_below:
            return Under.CODE
        if self.notes_shown and self.narrow:
            return Under.NOTES
        return Under.NOTHING

    def place(self) -> None:
        """Show, hide and place the notes and the code view as chosen; nothing changes
        (no style, no layout) for what is already where it belongs."""
        stage: Widget = self.query_one("#stage")
        under = self.under
        for place in Under:
            if place is not Under.NOTHING:
                stage.set_class(place is under, place.value)
        body: Widget = self.query_one("#body")
        stacked = under is not Under.NOTHING
        if (body.styles.layout is not None and body.styles.layout.name == "vertical") != stacked:
            # Set on the body alone: a class there would restyle the notes' blocks too.
            body.styles.layout = "vertical" if stacked else None
        self.query_one("#notes").display = self.notes_shown
        self.query_one("#code").display = self.code_on
