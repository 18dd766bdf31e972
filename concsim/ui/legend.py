"""What a legend must explain: the entry of each cell drawn, and the legend of a set of them.

Rows say what they drew (``draw_lane(..., drawn=...)``) and the legend is made from exactly
that, so it can never name a glyph that is not on screen nor miss one that is.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text

from concsim import palette
from concsim.events import LaneState, Phase
from concsim.palette import Cue
from concsim.ui.cells import GIL_BASE, MARK
from concsim.ui.timeline import BLANK, CUE_BASE, CUES, GIL_FREE, STATES, Track

LOCKS = "lock"  # the legend key of a lock span
SEMAPHORES = "semaphore"  # the legend key of a semaphore place held
CYCLE = "cycle"  # the legend key of a deadlock cycle's connector
Key = LaneState | Cue | Phase | str  # what a legend explains: GIL holders are "gil:<name>"


def cell_key(cell: int, track: Track) -> Key | None:
    """What a legend must explain for a cell drawn on this row (None: a blank cell)."""
    if cell == BLANK:
        return None
    if track.is_gil:
        if cell == GIL_FREE:
            return "gil:"
        return f"gil:{track.holders[cell - GIL_BASE]}" if cell >= GIL_BASE else None
    if cell >= MARK + CUE_BASE:
        return CUES[cell - MARK - CUE_BASE]
    if cell >= MARK:
        return STATES[cell - MARK - 1]
    state = STATES[cell - 1]
    return None if palette.LOOKS[state].fill == " " else state


def label_key(track: Track) -> Key | None:
    """What a legend must explain for the glyph of the row's status label at the playhead
    (``lane_label``): the lane's state, or the GIL's holder (None: nothing drawn)."""
    if track.is_gil:
        holder = track.gil_holder
        return "gil:" if holder is None else f"gil:{holder}"
    return track.state


class _Keys(dict[int, "Key | None"]):
    """The legend entry of each lane cell, found once (a GIL cell's depends on its row)."""

    def __missing__(self, cell: int) -> Key | None:
        key = self[cell] = cell_key(cell, _NO_GIL)
        return key


_NO_GIL = Track("", "thread", "", "")
_KEYS = _Keys()


def legend_of(drawn: Iterable[Key], width: int | None = None) -> Text:
    """The legend of exactly what was drawn: each state, moment, band and GIL holder shown;
    with a ``width``, in lines no wider, an entry never split between two."""
    return pack(legend_entries_of(drawn), width)


def legend_entries_of(drawn: Iterable[Key]) -> list[Text]:
    """One entry per state, moment, band, lock span, cycle and GIL holder drawn."""
    keys = set(drawn)
    holders = sorted(k[4:] for k in keys if isinstance(k, str) and k.startswith("gil:") and k[4:])
    entries = palette.legend_entries(
        [state for state in LaneState if state in keys],
        holders,
        cues=[cue for cue in Cue if cue in keys],
        phases=[phase for phase in Phase if phase in keys],
        locks=LOCKS in keys,
        cycle=CYCLE in keys,
        semaphores=SEMAPHORES in keys,
    )
    if not holders and "gil:" in keys:
        entries.append(palette.gil_free_entry())
    return entries


def pack(entries: list[Text], width: int | None) -> Text:
    """The entries two spaces apart, a new line wherever the next would not fit in
    ``width`` (None: one line): ``┐┘ deadlock: each waits for the next's lock`` stays one
    piece, its glyphs never left at the end of a line without their words."""
    if width is None or width <= 0:
        return Text("  ").join(entries)
    lines: list[list[Text]] = [[]]
    used = 0
    for entry in entries:
        size = entry.cell_len
        if lines[-1] and used + 2 + size > width:
            lines.append([])
            used = 0
        used += size + (2 if lines[-1] else 0)
        lines[-1].append(entry)
    return Text("\n").join(Text("  ").join(line) for line in lines)


def keys_of(cells: list[int], track: Track) -> set[Key]:
    """The legend entries of a row's cells."""
    found: set[Key | None] = (
        {cell_key(cell, track) for cell in set(cells)}
        if track.is_gil
        else set(map(_KEYS.__getitem__, set(cells)))
    )
    return {key for key in found if key is not None}  # blank cells explain nothing
