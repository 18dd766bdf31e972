"""How each lane state looks: a glyph and a colour, distinct on both so it reads without colour.

The one palette of concsim: the app's lanes, the text timeline (`concsim run --headless`),
the trace export's slice names and every legend read it, so a glyph means one thing
everywhere and a legend can never disagree with the cells drawn beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

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


class Cue(StrEnum):
    """A moment of the story drawn on a lane at its exact column, whatever the zoom."""

    RAISED = "raised"  # an exception raised in the lane's task
    RERAISED = "reraised"  # a reader (result(), gather, TaskGroup) re-raised a task's error
    FAULT = "fault"  # an injected fault landed (a key press or --inject)
    CANCEL_ASKED = "cancel_asked"  # cancel() was called on the lane's task
    CANCEL_DELIVERED = "cancel_delivered"  # CancelledError arrived in the lane's task
    LOST_UPDATE = "lost_update"  # a write that erased what others wrote since its read
    RESULT = "result"  # the main program received a task's result


CUE_LOOKS: dict[Cue, Look] = {
    Cue.RAISED: _look("!", "bold bright_red", "raised"),
    Cue.RERAISED: _look("↯", "bold bright_white on red1", "re-raised by its reader"),
    Cue.FAULT: _look("⚑", "bold bright_yellow", "fault landed"),
    Cue.CANCEL_ASKED: _look("⊖", "magenta", "cancel requested"),
    Cue.CANCEL_DELIVERED: _look("⊗", "bold magenta", "cancel delivered"),
    Cue.LOST_UPDATE: _look("≠", "bold bright_white on dark_orange3", "lost update"),
    Cue.RESULT: _look("◆", "bold green3", "result received"),
}

# When marks of states and moments share a column, the highest rank is drawn: what went wrong
# outranks what went right, and a moment outranks the state it leads to only when it says more
# (a re-raise is why main failed; a raise that ends its task is already told by ✗).
MARK_RANK: dict[LaneState | Cue, int] = {
    LaneState.DONE: 1,
    Cue.RESULT: 2,
    LaneState.CLEANUP: 3,
    Cue.CANCEL_ASKED: 4,
    LaneState.CANCELLED: 5,
    Cue.CANCEL_DELIVERED: 6,
    Cue.LOST_UPDATE: 7,
    LaneState.HUNG: 8,
    Cue.RAISED: 9,
    LaneState.FAILED: 10,
    Cue.RERAISED: 11,
    Cue.FAULT: 12,
    LaneState.KILLED: 13,
}


class Phase(StrEnum):
    """A stretch where the main program waits for the program to wind down."""

    SHUTDOWN = "shutdown"  # leaving a with block: executor.shutdown(wait=...), TaskGroup exit
    CANCELLING = "cancelling"  # gather / TaskGroup cancelling its children
    TEARDOWN = "teardown"  # asyncio.run() cancelling the remaining tasks
    EXIT = "exit"  # interpreter exit: threading._shutdown joins non-daemon threads


PHASE_STYLES: dict[Phase, Style] = {
    Phase.SHUTDOWN: Style.parse("on grey30"),
    Phase.CANCELLING: Style.parse("on dark_magenta"),
    Phase.TEARDOWN: Style.parse("on dark_blue"),
    Phase.EXIT: Style.parse("on dark_cyan"),
}
PHASE_WORDS: dict[Phase, str] = {
    Phase.SHUTDOWN: "leaving with: waits for tasks",
    Phase.CANCELLING: "cancelling children",
    Phase.TEARDOWN: "asyncio.run teardown",
    Phase.EXIT: "interpreter exit",
}

LOCK_HELD = Style(underline=True)
LOCK_WORDS = "lock held (underlined)"
LIT = Style.parse("reverse")  # the marks of a why chain, and the selected mark

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


def legend(
    states: Iterable[LaneState] | None = None,
    holders: Iterable[str] | None = None,
    cues: Iterable[Cue] = (),
    phases: Iterable[Phase] = (),
    locks: bool = False,
) -> Text:
    """The glyph and name of each state given (all by default), the moments, bands and lock
    spans drawn, then the GIL row's glyphs.

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
    shown = set(cues)
    parts += [
        Text.assemble((look.mark, look.style), " ", look.words)
        for cue, look in CUE_LOOKS.items()
        if cue in shown
    ]
    bands = set(phases)
    parts += [
        Text.assemble(("  ", style), " ", PHASE_WORDS[phase])
        for phase, style in PHASE_STYLES.items()
        if phase in bands
    ]
    if locks:
        parts.append(Text.assemble(("ab", LOCK_HELD), " ", LOCK_WORDS))
    parts.extend(_gil_legend(holders))
    return Text("  ").join(parts)


def gil_free_entry() -> Text:
    """The legend's entry for a GIL row drawn free all along."""
    return Text.assemble((GIL_FREE_GLYPH, GIL_FREE), " GIL free")


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


# The code view tells lanes apart by colour: each lane, in the order it appeared, takes the
# next of these (mid tones, readable on dark and light themes), its name written beside it.
LANE_HUES: tuple[str, ...] = (
    "dodger_blue1",
    "green3",
    "dark_orange",
    "magenta2",
    "gold3",
    "deep_sky_blue2",
    "orchid",
    "spring_green2",
    "indian_red1",
    "medium_purple1",
)


def lane_style(index: int) -> Style:
    """The colour of the ``index``-th lane to appear (main is the first)."""
    return Style(color=LANE_HUES[index % len(LANE_HUES)], bold=True)
