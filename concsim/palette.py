"""How each lane state looks: a glyph and a colour, distinct on both so it reads without colour.

The one palette of concsim: the app's lanes, the text timeline (`concsim run --headless`),
the trace export's slice names and every legend read it, so a glyph means one thing
everywhere and a legend can never disagree with the cells drawn beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from rich.style import Style
from rich.text import Text

from concsim.events import FutureState, LaneState, Phase
from concsim.ink import DEFAULT_VARIABLES, Ink, Inks, Role


@dataclass(frozen=True, slots=True)
class Look:
    """The cell drawn for a state while it lasts (``fill``) and where it begins (``mark``)."""

    fill: str
    mark: str
    ink: Ink  # its colours, by theme role
    words: str  # the legend's name for the state
    style: Style = field(default_factory=Style.null)  # the ink in the theme in use (use_theme)


def _look(fill: str, ink: Ink, words: str, mark: str | None = None) -> Look:
    return Look(fill, fill if mark is None else mark, ink, words)


S, E, W, A = Role.SUCCESS, Role.ERROR, Role.WARNING, Role.ACCENT
P, C, F, M = Role.PRIMARY, Role.SECONDARY, Role.FOREGROUND, Role.MUTED


# Final states are drawn once, as a mark where the lane entered them, and then leave the lane
# blank: a row of ticks after a finished task would read as more work. A hung lane is the
# exception, it keeps its pattern because "waits forever" is exactly what it is doing; its
# mark is the same glyph, so the legend's one glyph stands for both.
LOOKS: dict[LaneState, Look] = {
    LaneState.IDLE: _look("·", Ink(M), "idle"),
    LaneState.QUEUED: _look(":", Ink(M, bold=True), "queued"),
    LaneState.STARTING: _look("»", Ink(W, bold=True), "starting"),
    LaneState.RUNNING: _look("█", Ink(S), "running Python"),
    LaneState.NATIVE: _look("▓", Ink(C), "native, no GIL"),
    LaneState.IO: _look("~", Ink(P), "I/O or sleep"),
    LaneState.GIL_WAIT: _look("░", Ink(W), "waits for GIL"),
    LaneState.CORE_WAIT: _look("▒", Ink(A), "waits for core"),
    LaneState.READY: _look("-", Ink(F), "ready, loop busy"),
    LaneState.BLOCKED: _look("=", Ink(A, bold=True), "blocked"),
    LaneState.LOOP_BLOCKED: _look("#", Ink(E, bold=True), "blocks the loop"),
    LaneState.PICKLING: _look("≈", Ink(C, bold=True), "pickling"),
    LaneState.CLEANUP: _look("f", Ink(bg=W, bold=True), "finally block"),
    LaneState.DONE: _look(" ", Ink(S, bold=True), "done", mark="✓"),
    LaneState.FAILED: _look(" ", Ink(bg=E, bold=True), "failed", mark="✗"),
    LaneState.CANCELLED: _look(" ", Ink(bg=C, bold=True), "cancelled", mark="⊘"),
    # Returned at a stop check: its future is done, but the task did not finish its work.
    LaneState.STOPPED: _look(" ", Ink(bg=S, bold=True), "stopped early", mark="∎"),
    LaneState.KILLED: _look(" ", Ink(bg=E), "killed", mark="†"),
    LaneState.HUNG: _look("?", Ink(E), "hung forever"),
}

# States whose beginning must survive any zoom level: each gets a mark that overrides the
# sampled cell of its column (see cells.sample_cells); DONE is marked only while sparse.
MARKED: frozenset[LaneState] = frozenset(
    {
        LaneState.CLEANUP,
        LaneState.DONE,
        LaneState.FAILED,
        LaneState.CANCELLED,
        LaneState.STOPPED,
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
    WOKEN = "woken"  # a notify() of a condition woke the lane's wait
    TIMED_OUT = "timed_out"  # the lane's wait with a timeout gave up (join(0.5), wait(1.0))
    UNSENT = "unsent"  # a worker process's task returned, but its result could not be pickled


CUE_LOOKS: dict[Cue, Look] = {
    Cue.RAISED: _look("!", Ink(E, bold=True), "raised"),
    Cue.RERAISED: _look("↯", Ink(bg=E, bold=True), "re-raised by its reader"),
    Cue.FAULT: _look("⚑", Ink(W, bold=True), "fault landed"),
    Cue.CANCEL_ASKED: _look("⊖", Ink(C), "cancel requested"),
    Cue.CANCEL_DELIVERED: _look("⊗", Ink(C, bold=True), "cancel delivered"),
    Cue.LOST_UPDATE: _look("≠", Ink(bg=W, bold=True), "lost update"),
    Cue.RESULT: _look("◆", Ink(S, bold=True), "result received"),
    Cue.WOKEN: _look("↑", Ink(P, bold=True), "woken by notify"),
    Cue.TIMED_OUT: _look("◷", Ink(W, bold=True), "wait timed out"),
    Cue.UNSENT: _look("↛", Ink(E, bold=True), "returned, result not sent"),
}

# When marks of states and moments share a column, the highest rank is drawn: what went wrong
# outranks what went right, and a moment outranks the state it leads to only when it says more
# (a re-raise is why main failed; a raise that ends its task is already told by ✗).
MARK_RANK: dict[LaneState | Cue, int] = {
    LaneState.DONE: 1,
    Cue.RESULT: 2,
    Cue.WOKEN: 3,
    LaneState.CLEANUP: 4,
    Cue.TIMED_OUT: 5,
    LaneState.STOPPED: 6,
    Cue.CANCEL_ASKED: 7,
    LaneState.CANCELLED: 8,
    Cue.CANCEL_DELIVERED: 9,
    Cue.LOST_UPDATE: 10,
    LaneState.HUNG: 11,
    Cue.RAISED: 12,
    Cue.UNSENT: 13,
    LaneState.FAILED: 14,
    Cue.RERAISED: 15,
    Cue.FAULT: 16,
    LaneState.KILLED: 17,
}

# A moment hidden under a higher-ranked mark moves to a free column beside it (see
# ui/cells.py), unless the mark drawn is the state it ends in, which tells it already.
TOLD_BY: dict[Cue, LaneState] = {
    Cue.RAISED: LaneState.FAILED,
    Cue.UNSENT: LaneState.FAILED,
    Cue.CANCEL_DELIVERED: LaneState.CANCELLED,
    Cue.FAULT: LaneState.KILLED,
}


PHASE_INKS: dict[Phase, Ink] = {
    Phase.SHUTDOWN: Ink(tint=F),
    Phase.CANCELLING: Ink(tint=C),
    Phase.TEARDOWN: Ink(tint=P),
    Phase.EXIT: Ink(tint=A),
}
PHASE_STYLES: dict[Phase, Style] = {}  # set by use_theme
PHASE_WORDS: dict[Phase, str] = {
    Phase.SHUTDOWN: "leaving with: waits for tasks",
    Phase.CANCELLING: "cancelling children",
    Phase.TEARDOWN: "asyncio.run teardown",
    Phase.EXIT: "interpreter exit",
}

LOCK_WORDS = "lock held (underlined)"
SEMAPHORE_WORDS = "semaphore place held (underlined)"
LOCK_OR_SEMAPHORE_WORDS = "lock or semaphore place held (underlined)"
# A deadlock cycle, drawn beside the bars at the playhead across the rows it joins: the top
# row's end, the rows between, the bottom row's end; each row's label names its lock.
CYCLE_GLYPHS = ("┐", "┤", "│", "┘")  # top, a row of the cycle, a row it passes, bottom
CYCLE_WORDS = "deadlock: each waits for the next's lock"
GIL_FREE_GLYPH = "·"

FUTURE_GLYPHS: dict[FutureState, tuple[str, Ink]] = {
    FutureState.PENDING: ("○", Ink(M)),
    FutureState.RUNNING: ("◐", Ink(S)),
    FutureState.DONE: ("✓", Ink(S, bold=True)),
    FutureState.FAILED: ("✗", Ink(E, bold=True)),
    FutureState.CANCELLED: ("⊘", Ink(C, bold=True)),
}
FUTURE_LOOKS: dict[FutureState, tuple[str, Style]] = {}  # set by use_theme
QUEUED_GLYPH = "◔"
"""A process pool's future marked running that no worker took: the manager thread marks a
call running (``Future.set_running_or_notify_cancel``) as it moves it into the call queue
(``concurrent.futures.process._add_call_item_to_queue``), before any worker process takes
it; the style is ``QUEUED`` (among the INKS)."""

# The other inks of the lanes view, each a module-level style set by use_theme.
INKS: dict[str, Ink] = {
    "LOCK_HELD": Ink(underline=True),
    "CYCLE": Ink(E, bold=True),
    "LIT": Ink(reverse=True),  # the marks of a why chain, and the selected mark
    "GIL_HELD": Ink(W, bold=True),
    "GIL_FREE": Ink(M),
    "LABEL": Ink(bold=True),
    "DIM": Ink(M),
    "SELECTED": Ink(bold=True, reverse=True),
    "RULER": Ink(M),
    "PLAYHEAD": Ink(P, bold=True),
    "QUEUED": Ink(M, bold=True),  # QUEUED_GLYPH: a future marked running, never taken
}
# The words of the panels and the event log, by tone.
TONE_INKS: dict[str, Ink] = {
    "ok": Ink(S, bold=True),
    "error": Ink(E),
    "error!": Ink(E, bold=True),
    "warning": Ink(W),
    "warning!": Ink(W, bold=True),
    "fault!": Ink(C, bold=True),
    "info": Ink(P),
    "info!": Ink(P, bold=True),
    "state": Ink(F),
    "faint": Ink(M),
}
TONES: dict[str, Style] = {}  # set by use_theme
LOCK_HELD = CYCLE = LIT = GIL_HELD = GIL_FREE = Style.null()
LABEL = DIM = SELECTED = RULER = PLAYHEAD = QUEUED = Style.null()


def use_theme(variables: Mapping[str, str]) -> Inks:
    """Colour every look from a theme's variables (``App.get_css_variables()``).

    The palette is one per process, like the terminal it draws on: the app calls this when
    it starts and whenever its theme changes; views read ``palette.LOOKS`` and the other
    styles at draw time, and drop what they cached (see ``concsim.ui.draw.forget_styles``).
    """
    inks = Inks(variables, [ink.tint for ink in PHASE_INKS.values() if ink.tint is not None])
    for looks in (LOOKS, CUE_LOOKS):
        for key, look in looks.items():
            looks[key] = replace(look, style=inks.style(look.ink))  # type: ignore[index]
    PHASE_STYLES.update({phase: inks.style(ink) for phase, ink in PHASE_INKS.items()})
    FUTURE_LOOKS.update({k: (g, inks.style(ink)) for k, (g, ink) in FUTURE_GLYPHS.items()})
    TONES.update({tone: inks.style(ink) for tone, ink in TONE_INKS.items()})
    names = globals()
    for name, ink in INKS.items():
        names[name] = inks.style(ink)
    return inks


use_theme(DEFAULT_VARIABLES)


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
    cycle: bool = False,
    semaphores: bool = False,
) -> Text:
    """The entries of ``legend_entries`` in one line, two spaces apart."""
    return Text("  ").join(legend_entries(states, holders, cues, phases, locks, cycle, semaphores))


def legend_entries(
    states: Iterable[LaneState] | None = None,
    holders: Iterable[str] | None = None,
    cues: Iterable[Cue] = (),
    phases: Iterable[Phase] = (),
    locks: bool = False,
    cycle: bool = False,
    semaphores: bool = False,
) -> list[Text]:
    """The glyph and name of each state given (all by default), the moments, bands and lock
    spans drawn, then the GIL row's glyphs: one entry each.

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
    if locks or semaphores:
        words = LOCK_WORDS if not semaphores else SEMAPHORE_WORDS
        if locks and semaphores:
            words = LOCK_OR_SEMAPHORE_WORDS
        parts.append(Text.assemble(("ab", LOCK_HELD), " ", words))
    if cycle:
        ends = CYCLE_GLYPHS[0] + CYCLE_GLYPHS[-1]
        parts.append(Text.assemble((ends, CYCLE), " ", CYCLE_WORDS))
    parts.extend(_gil_legend(holders))
    return parts


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
        kinds = sorted({holder.split("-", 1)[0] for glyph in digits for holder in names[glyph]})
        who = "a " + " or ".join(kinds) if set(kinds) <= {"thread", "process"} else "a lane"
        parts.append(
            Text.assemble(
                (f"{digits[0]}-{digits[-1]}", GIL_HELD), f" GIL held by {who} (its last digit)"
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
