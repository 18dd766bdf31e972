"""Moments hidden under a higher-ranked mark of their column, drawn in a free column beside it.

Where each mark ends up depends only on the cells and marks within a few columns of it, so
a row keeps, per zoom level, its final columns with their marks already placed (``Placed``,
kept beside the cell memo of ``ui/cells.py``), and a frame places anew only the columns near
its edges: the window's first columns, and the last ones, where the playhead is.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice

from concsim import palette
from concsim.palette import Cue
from concsim.ui.timeline import CODE, CUE_CODE, MARK, Track

_MOVED = frozenset(CUE_CODE[cue] for cue in Cue if cue is not Cue.RESULT)
"""The marks that move aside rather than vanish under another: the story's moments."""
_TOLD_BY = {CUE_CODE[cue]: CODE[state] for cue, state in palette.TOLD_BY.items()}
_REACH = 2  # columns a hidden moment may move to be seen
SETTLED = 2 * _REACH
"""Columns from an edge of the columns placed together beyond which a column's picture no
longer depends on where that edge is: a moment moves at most _REACH columns, and whether
it may pass a column depends on the moments of columns at most _REACH further on."""


def span(times: Sequence[float], t0: float, dt: float, count: int) -> tuple[int, int]:
    """The indices of ``times`` that fall in ``count`` columns from ``t0``, by
    ``Window.column``'s rule (``floor(t / dt + 1e-9)``): a slice of a row drawn from a
    later column (``t0 = 35 * 0.02``, 0.7000000000000001) still holds a tick at 0.7."""
    slack = 1e-9 * dt
    return bisect_left(times, t0 - slack), bisect_left(times, t0 + count * dt - slack)


@dataclass(slots=True)
class Placed:
    """A row's final columns at one zoom level with their hidden moments moved aside:
    ``cells[i]`` is absolute column ``start + i``, placed as in a window whose first column
    is ``edge`` (columns fewer than SETTLED past it are right only for such a window)."""

    edge: int
    start: int
    cells: list[int] = field(default_factory=list)
    scanned: int = 0  # the row's marks looked at for a moment that can move
    movable: bool = False  # whether any of them can

    def can_move(self, codes: Sequence[int]) -> bool:
        """Whether the row has a moment that can move at all (most rows never have)."""
        if len(codes) > self.scanned and not self.movable:
            self.movable = not _MOVED.isdisjoint(islice(codes, self.scanned, None))
            self.scanned = len(codes)
        return self.movable

    def trim(self, start: int) -> None:
        """Forget the columns before ``start`` (the cell memo dropped them)."""
        if start > self.start:
            del self.cells[: start - self.start]
            self.start = start

    def cut(self, end: int) -> None:
        """Forget the columns from ``end`` on (their neighbours are no longer final)."""
        del self.cells[max(0, end - self.start) :]

    def extend(self, track: Track, dt: float, start: int, kept: list[int]) -> None:
        """Place the final columns ``kept`` (from absolute column ``start``) has gained
        since, up to SETTLED columns from its end (those may still gain a neighbour)."""
        end = self.start + len(self.cells)
        goal = start + len(kept) - SETTLED
        if goal <= end:
            return
        lo = max(self.edge, end - SETTLED)
        if lo < start:  # the raw cells to place from are gone: start again from ``start``
            self.edge = self.start = lo = start
            self.cells.clear()
            end = start
        row = kept[lo - start :]
        hi = lo + len(row)
        origin = self.edge
        first = bisect_left(track.mark_times, (lo - 1) * dt)
        last = bisect_left(track.mark_times, (hi + 1) * dt)
        marks = _marks(track, origin * dt, dt, first, last, lo - origin, hi - origin, None)
        move_aside(row, [(col + origin - lo, code) for col, code in marks])
        self.cells += row[end - lo : goal - lo]


def _marks(
    track: Track,
    t0: float,
    dt: float,
    first: int,
    last: int,
    lo: int,
    hi: int,
    clip: int | None,
) -> list[tuple[int, int]]:
    """(column, code) of the marks ``first:last`` whose column from ``t0`` is in
    ``[lo, hi)``, in the order they came; with ``clip``, a column is first clamped into
    ``[0, clip)`` (a window's marks just outside it by rounding are drawn at its edge)."""
    origin = t0 - 1e-9 * dt  # Window.column's rule, as in cells._overlay_marks
    times, codes = track.mark_times, track.mark_codes
    found = []
    for k in range(first, last):
        col = math.floor((times[k] - origin) / dt)
        if clip is not None:
            col = min(clip - 1, max(0, col))
        if lo <= col < hi:
            found.append((col, codes[k]))
    return found


def show_hidden(
    cells: list[int],
    track: Track,
    t0: float,
    dt: float,
    memo: tuple[int, list[int], Placed] | None = None,
) -> list[int]:
    """The window's cells (from ``t0``) with each hidden moment moved aside, as
    ``move_aside`` places them over the whole window; the columns placed in the row's
    ``memo`` of this zoom (a window on the column grid only), away from the window's edges,
    are taken from it."""
    if memo is not None and not memo[2].can_move(track.mark_codes):
        return cells  # the row has no moment that can move: most rows, at once
    count = len(cells)
    col0 = round(t0 / dt)
    first, last = span(track.mark_times, t0, dt, count)
    if last - first < 2 or last - first > count:
        # One mark has nothing to share its column with; a row crowded with marks (more
        # than columns) has no free column to spare.
        return cells
    if memo is None:
        placed = None
        if _MOVED.isdisjoint(islice(track.mark_codes, first, last)):
            return cells
        lo = hi = 0
    else:
        start, kept, placed = memo
        placed.extend(track, dt, start, kept)
        # The window's columns [lo, hi) are placed already, far enough from both its edges
        # and from the edge the placement was made with (unless the two are one).
        cut = placed.start if placed.edge == col0 else max(placed.edge, col0) + SETTLED
        lo = max(0, placed.start - col0, cut - col0)
        hi = min(placed.start + len(placed.cells) - col0, count - SETTLED)
    if hi <= lo or placed is None:
        return _placed_part(cells, track, t0, dt, (first, last), 0, count)
    out = _placed_part(cells, track, t0, dt, (first, last), 0, lo + SETTLED)[:lo] if lo else []
    out += placed.cells[lo + col0 - placed.start : hi + col0 - placed.start]
    begin = max(0, hi - SETTLED)
    out += _placed_part(cells, track, t0, dt, (first, last), begin, count)[hi - begin :]
    return out


def _placed_part(
    cells: list[int],
    track: Track,
    t0: float,
    dt: float,
    window: tuple[int, int],
    lo: int,
    hi: int,
) -> list[int]:
    """The window's columns ``[lo, hi)`` placed on their own, cut at both ends: right
    from SETTLED columns in (or from either end that is the window's own)."""
    part = cells[lo:hi]
    first = max(window[0], bisect_left(track.mark_times, t0 + (lo - 1) * dt))
    last = min(window[1], bisect_left(track.mark_times, t0 + (hi + 1) * dt))
    marks = _marks(track, t0, dt, first, last, lo, hi, len(cells))
    if marks:
        move_aside(part, [(col - lo, code) for col, code in marks])
    return part


def move_aside(cells: list[int], marks: Sequence[tuple[int, int]]) -> None:
    """Draw each moment hidden under a higher-ranked mark of its column in the nearest
    column of the row with no mark, up to two away, on the side of the order they came in
    (a cancel requested before its delivery, to its left; a raise a fault caused, to its
    right), unless the mark drawn already tells it (a raise that ends its task, under its
    ✗). Its time stays its own: ``m`` and ``>`` select it there. A moment whose side has no
    free column yet (the playhead's column) shows once the playhead moves on; one never
    passes over the mark of another column. ``marks`` are the (column, code) of the marks
    in ``cells``, in the order they came; ``cells`` are the whole row as far as this call
    knows (a moment never moves past either end)."""
    winner: dict[int, int] = {}  # column: the place of its drawn mark among the marks
    for k, (col, code) in enumerate(marks):
        if code == cells[col] - MARK:
            winner.setdefault(col, k)
    hidden: dict[tuple[int, int, int], None] = {}
    for k, (col, code) in enumerate(marks):
        shown = cells[col] - MARK
        if code in _MOVED and shown != code and _TOLD_BY.get(code) != shown:
            hidden[col, code, -1 if k < winner.get(col, k) else 1] = None
    # The nearest column goes to the moment nearest in order: the left side from the last.
    # None passes over a mark of another column, which would tell the order wrong.
    order = [h for h in reversed(hidden) if h[2] < 0] + [h for h in hidden if h[2] > 0]
    moved: set[int] = set()
    count = len(cells)
    for col, code, side in order:
        for place in range(col + side, col + side * (_REACH + 1), side):
            if not 0 <= place < count or (cells[place] >= MARK and place not in moved):
                break
            if cells[place] < MARK:
                cells[place] = MARK + code
                moved.add(place)
                break
