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
from concsim.ui.timeline import BLANK, CODE, CUE_CODE, Track

MARK = 1000  # cells at or above MARK draw the mark of lane code ``cell - MARK``
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
            _show_hidden(cells, track, window.t0, window.dt)
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
            start, kept = memo
            kept += fresh[: final - len(known)]  # in place: playback adds a column at a time
        else:
            start, kept = col0, cells[:final]
        limit = _MEMO_SCREENS * window.width
        if len(kept) > 2 * limit:  # trimmed now and then, not on every frame
            start, kept = start + len(kept) - limit, kept[-limit:]
        if len(track.memo) >= _MEMO_ZOOMS and dt not in track.memo:
            track.memo.clear()
        track.memo[dt] = (start, kept)
    if track.mark_times:
        # Not final: a neighbour of a column may gain a mark later (kept out of the memo).
        cells = cells[:]
        _show_hidden(cells, track, col0 * dt, dt)
    return cells + pad if pad else cells


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


def _span(times: Sequence[float], t0: float, dt: float, count: int) -> tuple[int, int]:
    """The indices of ``times`` that fall in ``count`` columns from ``t0``, by
    ``Window.column``'s rule (``floor(t / dt + 1e-9)``): a slice of a row drawn from a
    later column (``t0 = 35 * 0.02``, 0.7000000000000001) still holds a tick at 0.7."""
    slack = 1e-9 * dt
    return bisect_left(times, t0 - slack), bisect_left(times, t0 + count * dt - slack)


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
    first, last = _span(times, t0, dt, count)
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
    first, last = _span(times, t0, dt, count)
    if first == last:
        return
    if last - first <= count:
        # Few marks: each lands in its column, the most alarming kind last so that it stands
        # (every mark outranks a completion tick). A cold frame of a long run lands thousands,
        # so their columns are computed inside C.
        marks = codes[first:last]
        # Window.column's formula, with its 1e-9 of a column folded into the origin.
        offsets = map(sub, times[first:last], repeat(t0 - 1e-9 * dt))
        cols = [max(0, col) for col in map(math.floor, map(truediv, offsets, repeat(dt)))]
        inside = bisect_right(cols, count - 1)
        cols[inside:] = repeat(count - 1, len(cols) - inside)
        kinds = sorted(set(marks), key=_RANK.__getitem__)
        for code in kinds:
            where = cols if len(kinds) == 1 else compress(cols, map(eq, marks, repeat(code)))
            cell = MARK + code
            for col in where:
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

_MOVED = frozenset(CUE_CODE[cue] for cue in Cue if cue is not Cue.RESULT)
"""The marks that move aside rather than vanish under another: the story's moments."""
_TOLD_BY = {CUE_CODE[cue]: CODE[state] for cue, state in palette.TOLD_BY.items()}
_REACH = 2  # columns a hidden moment may move to be seen


def _show_hidden(cells: list[int], track: Track, t0: float, dt: float) -> None:
    """Draw each moment hidden under a higher-ranked mark of its column in the nearest
    column of the row with no mark, up to two away, on the side of the order they came in
    (a cancel requested before its delivery, to its left; a raise a fault caused, to its
    right), unless the mark drawn already tells it (a raise that ends its task, under its
    ✗). Its time stays its own: ``m`` and ``>`` select it there. A moment whose side has no
    free column yet (the playhead's column) shows once the playhead moves on; one never
    passes over the mark of another column, nor takes a column on a row crowded with marks
    (more than columns)."""
    times, codes = track.mark_times, track.mark_codes
    count = len(cells)
    first, last = _span(times, t0, dt, count)
    if last - first < 2 or last - first > count:
        return
    origin = t0 - 1e-9 * dt  # Window.column's rule, as in _overlay_marks
    cols = [
        min(count - 1, max(0, math.floor((times[k] - origin) / dt))) for k in range(first, last)
    ]
    winner: dict[int, int] = {}  # column: the place of its drawn mark among the marks
    for k, col in enumerate(cols):
        if codes[first + k] == cells[col] - MARK:
            winner.setdefault(col, k)
    hidden: dict[tuple[int, int, int], None] = {}
    for k, col in enumerate(cols):
        code, shown = codes[first + k], cells[col] - MARK
        if code in _MOVED and shown != code and _TOLD_BY.get(code) != shown:
            hidden[col, code, -1 if k < winner.get(col, k) else 1] = None
    # The nearest column goes to the moment nearest in order: the left side from the last.
    # None passes over a mark of another column, which would tell the order wrong.
    order = [h for h in reversed(hidden) if h[2] < 0] + [h for h in hidden if h[2] > 0]
    moved: set[int] = set()
    for col, code, side in order:
        for place in range(col + side, col + side * (_REACH + 1), side):
            if not 0 <= place < count or (cells[place] >= MARK and place not in moved):
                break
            if cells[place] < MARK:
                cells[place] = MARK + code
                moved.add(place)
                break


def run_starts(cells: list[int]) -> list[int]:
    """Where each run of equal cells begins, then ``len(cells)``; found inside C."""
    if not cells:
        return [0]
    return [0, *compress(range(1, len(cells)), map(ne, islice(cells, 1, None), cells)), len(cells)]
