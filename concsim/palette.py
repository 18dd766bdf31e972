"""How each lane state looks: a glyph and a colour, distinct on both so it reads without colour.

The one palette of concsim: the app's lanes, the text timeline (`concsim run --headless`),
the trace export's slice names and every legend read it, so a glyph means one thing
everywhere and a legend can never disagree with the cells drawn beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from concsim.events import FutureState, LaneState


@dataclass(frozen=True, slots=True)
class Look:
    """The cell drawn for a state while it lasts (``fill``) and where it begins (``mark``)."""

    fill: str
    mark: str
    style: Style
    words: str  # the legend's name for the state


def _look(fill: str, style: str, words: str, mark: str | None = None) -> Look:
    return Look(fill, fill if mark is None else mark, Style.parse(style), words)


# Final states are drawn once, as a mark where the lane entered them, and then leave the lane
# blank: a row of ticks after a finished task would read as more work. A hung lane is the
# exception, it keeps its pattern because "waits forever" is exactly what it is doing; its
# mark is the same glyph, so the legend's one glyph stands for both.
LOOKS: dict[LaneState, Look] = {
    LaneState.IDLE: _look("·", "grey50", "idle"),
    LaneState.QUEUED: _look(":", "grey70", "queued"),
    LaneState.STARTING: _look("»", "bold yellow", "starting"),
    LaneState.RUNNING: _look("█", "green3", "running Python"),
    LaneState.NATIVE: _look("▓", "cyan", "native, no GIL"),
    LaneState.IO: _look("~", "bright_blue", "I/O or sleep"),
    LaneState.GIL_WAIT: _look("░", "dark_orange", "waits for GIL"),
    LaneState.CORE_WAIT: _look("▒", "orange3", "waits for core"),
    LaneState.READY: _look("-", "light_goldenrod2", "ready, loop busy"),
    LaneState.BLOCKED: _look("=", "magenta", "blocked"),
    LaneState.LOOP_BLOCKED: _look("#", "bold bright_red", "blocks the loop"),
    LaneState.PICKLING: _look("≈", "medium_purple1", "pickling"),
    LaneState.CLEANUP: _look("f", "bold black on yellow", "finally block"),
    LaneState.DONE: _look(" ", "bold green", "done", mark="✓"),
    LaneState.FAILED: _look(" ", "bold bright_white on red3", "failed", mark="✗"),
    LaneState.CANCELLED: _look(" ", "bold black on magenta", "cancelled", mark="⊘"),
    LaneState.KILLED: _look(" ", "bold bright_white on dark_red", "killed", mark="†"),
    LaneState.HUNG: _look("?", "bold red", "hung forever"),
}

# States whose beginning must survive any zoom level: each gets a mark that overrides the
# sampled cell of its column (see cells.sample_cells); DONE is marked only while sparse.
MARKED: frozenset[LaneState] = frozenset(
    {
        LaneState.CLEANUP,
        LaneState.DONE,
        LaneState.FAILED,
        LaneState.CANCELLED,
        LaneState.KILLED,
        LaneState.HUNG,
    }
)

# When several marks fall in one column, the most alarming one is drawn.
MARK_RANK: dict[LaneState, int] = {
    LaneState.DONE: 1,
    LaneState.CLEANUP: 2,
    LaneState.CANCELLED: 3,
    LaneState.HUNG: 4,
    LaneState.FAILED: 5,
    LaneState.KILLED: 6,
}

GIL_HELD = Style.parse("bold yellow")
GIL_FREE = Style.parse("grey42")
GIL_FREE_GLYPH = "·"

FUTURE_LOOKS: dict[FutureState, tuple[str, Style]] = {
    FutureState.PENDING: ("○", Style.parse("grey70")),
    FutureState.RUNNING: ("◐", Style.parse("green3")),
    FutureState.DONE: ("✓", Style.parse("bold green")),
    FutureState.FAILED: ("✗", Style.parse("bold red")),
    FutureState.CANCELLED: ("⊘", Style.parse("bold magenta")),
}

LABEL = Style.parse("bold")
DIM = Style.parse("grey62")
SELECTED = Style.parse("bold reverse")
RULER = Style.parse("grey62")
PLAYHEAD = Style.parse("bold bright_cyan")


def holder_glyph(holder: str) -> str:
    """One character naming a GIL holder: the last digit of ``thread-12``, ``m`` for main."""
    tail = holder.rsplit("-", 1)[-1]
    return tail[-1] if tail[-1:].isdigit() else (holder[:1] or "?")


def cell_glyph(state: LaneState) -> str:
    """The glyph a legend shows for a state: its fill, or its mark where the fill is blank."""
    look = LOOKS[state]
    return look.mark if look.fill == " " else look.fill


_SHOWN_HOLDERS = 3  # digits of more holders than this collapse into one legend entry


def legend(states: Iterable[LaneState] | None = None, holders: Iterable[str] | None = None) -> Text:
    """The glyph and name of each state given (all by default), then the GIL row's glyphs.

    ``holders`` are the GIL holders drawn (None: explain the GIL row in general; empty: no GIL
    row). Each letter is listed with the lane it stands for; digits, the last digit of a
    thread's number, are listed one by one while few and collapse into one entry beyond.
    """
    wanted = set(LOOKS if states is None else states)
    parts = [
        Text.assemble((cell_glyph(state), look.style), " ", look.words)
        for state, look in LOOKS.items()
        if state in wanted
    ]
    parts.extend(_gil_legend(holders))
    return Text("  ").join(parts)


def _gil_legend(holders: Iterable[str] | None) -> list[Text]:
    if holders is None:
        return [
            Text.assemble(("m", GIL_HELD), " GIL held by main"),
            Text.assemble(("1", GIL_HELD), " GIL held by thread-1 (last digit)"),
            Text.assemble((GIL_FREE_GLYPH, GIL_FREE), " GIL free"),
        ]
    names: dict[str, list[str]] = {}
    for holder in holders:
        shown = names.setdefault(holder_glyph(holder), [])
        if holder not in shown:
            shown.append(holder)
    if not names:
        return []
    digits = sorted(glyph for glyph in names if glyph.isdigit())
    parts = [
        Text.assemble((glyph, GIL_HELD), " GIL held by " + ", ".join(held))
        for glyph, held in sorted(names.items(), key=lambda item: (item[0].isdigit(), item[0]))
        if not glyph.isdigit() or len(digits) <= _SHOWN_HOLDERS
    ]
    if len(digits) > _SHOWN_HOLDERS:
        parts.append(
            Text.assemble(
                (f"{digits[0]}-{digits[-1]}", GIL_HELD), " GIL held by a thread (its last digit)"
            )
        )
    parts.append(Text.assemble((GIL_FREE_GLYPH, GIL_FREE), " GIL free"))
    return parts
