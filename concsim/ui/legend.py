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


class _Keys(dict[int, "Key | None"]):
    """The legend entry of each lane cell, found once (a GIL cell's depends on its row)."""

    def __missing__(self, cell: int) -> Key | None:
        key = self[cell] = cell_key(cell, _NO_GIL)
        return key


_NO_GIL = Track("", "thread", "", "")
_KEYS = _Keys()


def legend_of(drawn: Iterable[Key]) -> Text:
    """The legend of exactly what was drawn: each state, moment, band and GIL holder shown."""
    keys = set(drawn)
    holders = sorted(k[4:] for k in keys if isinstance(k, str) and k.startswith("gil:") and k[4:])
    text = palette.legend(
        [state for state in LaneState if state in keys],
        holders,
        cues=[cue for cue in Cue if cue in keys],
        phases=[phase for phase in Phase if phase in keys],
        locks=LOCKS in keys,
        cycle=CYCLE in keys,
    )
    if not holders and "gil:" in keys:
        free = palette.gil_free_entry()
        text = Text("  ").join([text, free]) if text else free
    return text


def keys_of(cells: list[int], track: Track) -> set[Key]:
    """The legend entries of a row's cells."""
    found: set[Key | None] = (
        {cell_key(cell, track) for cell in set(cells)}
        if track.is_gil
        else set(map(_KEYS.__getitem__, set(cells)))
    )
    return {key for key in found if key is not None}  # blank cells explain nothing
