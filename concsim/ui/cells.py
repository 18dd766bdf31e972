"""Which cell each column of a row shows, with a memo of the columns that can no longer change.

A column shows the row's state at one sample instant inside it (one bisect), except that the
start of a final state or of a ``finally`` block is a mark that wins its column at any zoom.
Columns that ended before ``now`` never change (the past is append-only), so each row keeps
them per zoom level and a frame during playback only samples the columns the playhead has
reached since.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import compress, islice, repeat
from operator import eq, lt, ne, sub, truediv

from concsim import palette
from concsim.events import LaneState
from concsim.palette import Cue
from concsim.ui.aside import SETTLED, Placed, show_hidden, span
from concsim.ui.timeline import BLANK, CODE, CUE_CODE, Track
from concsim.ui.timeline import MARK as MARK  # re-exported: the code drawing reads

GIL_BASE = 2000  # GIL cells: GIL_BASE + index of the holder in ``track.holders``
_GIL_HELD = 2
_MEMO_ZOOMS = 8  # zoom levels remembered per row
_MEMO_SCREENS = 16  # screen widths of final columns a row remembers per zoom (up to twice)


@dataclass(frozen=True, slots=True)
class Window:
    """The visible slice of virtual time: ``width`` columns of ``dt`` seconds from ``t0``."""

    t0: float
    dt: float
    width: int

    @property
    def t1(self) -> float:
        return self.t0 + self.dt * self.width

    def column(self, t: float) -> int:
        return math.floor((t - self.t0) / self.dt + 1e-9)


def drawn_columns(window: Window, now: float) -> int:
    """How many columns have begun by ``now``; the rest of the row is the future, blank."""
    if now < window.t0:
        return 0
    return max(0, min(window.width, window.column(now) + 1))


def lane_cells(track: Track, window: Window, now: float) -> list[int]:
    """The cell of each of the window's columns (BLANK where the future begins)."""
    count = drawn_columns(window, now)
    pad = [BLANK] * (window.width - count)
    first = window.t0 / window.dt
    col0 = round(first)
    if count == 0 or abs(first - col0) > 1e-6:
        # A window off the column grid (only while panning) is drawn without the memo.
        cells = sample_cells(track, window.t0, window.dt, count, now)
        if track.mark_times:
            cells = show_hidden(cells, track, window.t0, window.dt)
        return cells + pad
    dt = window.dt
    memo = track.memo.get(dt)
    known: list[int] = []
    if memo is not None and memo[0] <= col0 < memo[0] + len(memo[1]):
        known = memo[1][col0 - memo[0] : col0 - memo[0] + count]
    fresh = sample_cells(track, (col0 + len(known)) * dt, dt, count - len(known), now)
    cells = known + fresh if known else fresh
    final = min(count, math.floor(now / dt + 1e-9) - col0)
    if final > len(known):
        if memo is not None and known and memo[0] + len(memo[1]) == col0 + len(known):
            start, kept, placed = memo
            kept += fresh[: final - len(known)]  # in place: playback adds a column at a time
        else:
            start, kept, placed = col0, cells[:final], Placed(col0, col0)
        limit = _MEMO_SCREENS * window.width
        if len(kept) > 2 * limit:  # trimmed now and then, not on every frame
            start, kept = start + len(kept) - limit, kept[-limit:]
            placed.trim(start)
        if len(track.memo) >= _MEMO_ZOOMS and dt not in track.memo:
            track.memo.clear()
        memo = track.memo[dt] = (start, kept, placed)
    if track.mark_times:
        # Marks moved aside are placed once a column and its neighbours are final (a
        # neighbour may gain a mark until then); a frame places those near its edges.
        cells = show_hidden(cells, track, col0 * dt, dt, memo)
    return cells + pad if pad else cells


def carry_memo(old: Track, new: Track, now: float) -> None:
    """Give ``new``, the same row of the same history fed to ``now`` (a step back, a jump),
    the columns ``old`` keeps that are final at ``now``: the past is the same whoever folded
    it. ``old`` gives its memo up (its timeline is no longer drawn)."""
    if new.memo or not old.memo:
        return
    for dt, (start, kept, placed) in old.memo.items():
        final = math.floor(now / dt + 1e-9) - start
        if final > 0:
            del kept[final:]
            placed.cut(start + final - SETTLED)
            new.memo[dt] = (start, kept, placed)
    old.memo = {}


def sample_cells(track: Track, t0: float, dt: float, count: int, now: float) -> list[int]:
    """Cells of ``count`` columns from ``t0``, each the state at its column's sample instant."""
    if count <= 0:
        return []
    starts, codes = track.starts, track.codes
    samples = sample_instants(t0, dt, count, now)
    log = track.log
    shared = log.rows_at(samples) if log is not None and log.is_ordered else None
    if shared is not None:
        # A busy frame: every row is sampled at these instants, so the log finds all rows'
        # codes at once and this row's cells are a copy of its share.
        cells = list(shared[track.slot])
    elif (hi := bisect_right(starts, samples[-1])) - (lo := bisect_right(starts, samples[0])) > (
        count // 8
    ):
        # A busy row on its own: one bisect per column, all inside C.
        cells = list(map(codes.__getitem__, map(partial(bisect_right, starts), samples)))
    else:
        # Few changes in view: walk them, filling whole runs of columns at once.
        cells = []
        col = 0
        for k in range(lo, hi):
            # The first column sampled at or after starts[k] shows codes[k + 1].
            edge = math.floor((starts[k] - t0) / dt)
            if edge < count and samples[edge] < starts[k]:
                edge += 1
            edge = max(col, min(edge, count))
            cells += [codes[k]] * (edge - col)
            col = edge
        cells += [codes[hi]] * (count - col)
    if track.is_gil:
        return [GIL_BASE + code - _GIL_HELD if code >= _GIL_HELD else code for code in cells]
    if track.done_times:
        _overlay_done(cells, track.done_times, _DONE, t0, dt)
    if track.result_times:
        _overlay_done(cells, track.result_times, _RESULT, t0, dt)
    if track.mark_times:
        _overlay_marks(cells, track, t0, dt)
    return cells


_DONE = MARK + CODE[LaneState.DONE]
_RESULT = MARK + CUE_CODE[Cue.RESULT]


_CROWD = 3  # a tick needs this many columns clear of other ticks before it to be drawn


def _overlay_done(
    cells: list[int], times: Sequence[float], tick: int, t0: float, dt: float
) -> None:
    """Tick the columns where a task finished (or main received a result), unless ticks
    crowd each other.

    Each tick is judged on its own (is there another completion in the few columns before
    it?), never on how many columns this call happens to draw, so a row drawn column by
    column during playback looks the same as one drawn whole.
    """
    count = len(cells)
    first, last = span(times, t0, dt, count)
    if last - first > _CROWD * count:
        return  # so crowded that no tick could stand clear: the cost stays with the columns
    for k in range(first, last):
        col = max(0, math.floor((times[k] - t0) / dt + 1e-9))
        if k and times[k - 1] >= t0 + (col - _CROWD) * dt:
            continue  # a tick every few columns says nothing and hides the work
        cells[min(count - 1, col)] = tick


_GOLDEN = (5**0.5 - 1) / 2


@lru_cache(maxsize=256)
def column_offsets(first: int, count: int) -> tuple[float, ...]:
    """Where in each column (in columns from ``t0``) its sample instant lies.

    Every row of a column is sampled at the same instant, so a column is a true snapshot
    (one GIL holder, one running thread). The instant wanders within the column along a
    golden-ratio sequence of the absolute column number: a fixed middle would alias with
    periodic behaviour (four threads switching every 5 ms sampled every 20 ms would show the
    same thread running forever), while a wandering one shows them taking turns. Keyed by
    the absolute column, so a column keeps its instant when the view scrolls.
    """
    return tuple(k + 0.15 + 0.7 * (((first + k) * _GOLDEN) % 1.0) for k in range(count))


@lru_cache(maxsize=64)
def sample_instants(t0: float, dt: float, count: int, now: float) -> tuple[float, ...]:
    """The sample instant of each of ``count`` columns from ``t0``; none lies after ``now``.

    Every row of a frame asks for the same instants, so they are made once per frame.
    """
    samples = list(map(t0.__add__, map(dt.__mul__, column_offsets(round(t0 / dt), count))))
    samples[-1] = min(samples[-1], now)
    return tuple(samples)


_MARKS_PER_COLUMN = 8  # marks weighed per column; beyond that the first ones stand


def _overlay_marks(cells: list[int], track: Track, t0: float, dt: float) -> None:
    """Put the most alarming mark that falls in each column over its sampled cell."""
    count = len(cells)
    times, codes = track.mark_times, track.mark_codes
    first, last = span(times, t0, dt, count)
    if first == last:
        return
    if last - first <= count:
        # Few marks: each lands in its column, the most alarming kind last so that it stands
        # (every mark outranks a completion tick). A cold frame of a long run lands thousands,
        # so their columns are computed inside C.
        marks = codes[first:last]
        # Window.column's formula, with its 1e-9 of a column folded into the origin: the
        # very origin ``span`` bisected with, so no offset is negative and no column is
        # below 0 (a float difference of a >= b is never below 0).
        offsets = map(sub, times[first:last], repeat(t0 - 1e-9 * dt))
        cols = list(map(math.floor, map(truediv, offsets, repeat(dt))))
        inside = bisect_right(cols, count - 1)
        cols[inside:] = repeat(count - 1, len(cols) - inside)
        kinds = set(marks)
        if len(kinds) == 1:
            cell = MARK + marks[0]
            for col in cols:
                cells[col] = cell
            return
        for code in sorted(kinds, key=_RANK.__getitem__):
            cell = MARK + code
            for col in compress(cols, map(eq, marks, repeat(code))):
                cells[col] = cell
        return
    # Many: one bisect per column boundary, then a few marks weighed in each column that has
    # any, so the cost stays with the columns however many marks the run has made. With up
    # to _MARKS_PER_COLUMN marks in a column both ways pick the same mark.
    bounds = list(map(partial(bisect_left, times), [t0 + k * dt for k in range(count + 1)]))
    bounds[-1] = last
    rank_of = _RANK.__getitem__
    for col in compress(range(count), map(lt, bounds, bounds[1:])):
        begin = bounds[col]
        best = max(map(rank_of, codes[begin : min(bounds[col + 1], begin + _MARKS_PER_COLUMN)]))
        if cells[col] < MARK or best >= _RANK[cells[col] - MARK]:
            cells[col] = MARK + _CODE_OF_RANK[best]


_RANK = {
    (CODE[kind] if isinstance(kind, LaneState) else CUE_CODE[kind]): rank
    for kind, rank in palette.MARK_RANK.items()
}
_CODE_OF_RANK = {rank: code for code, rank in _RANK.items()}


def run_starts(cells: list[int]) -> list[int]:
    """Where each run of equal cells begins, then ``len(cells)``; found inside C."""
    if not cells:
        return [0]
    return [0, *compress(range(1, len(cells)), map(ne, islice(cells, 1, None), cells)), len(cells)]
