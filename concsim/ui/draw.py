"""Pure drawing of the lanes view: one row of Rich segments per lane, and a time ruler.

Nothing here knows about Textual; widgets wrap these segments in strips. A row costs one
bisect per visible column plus one per mark in view, never a walk over the run's history.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import getitem, sub
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style

from concsim import palette
from concsim.durations import format_time
from concsim.events import LaneState
from concsim.palette import holder_glyph
from concsim.ui.cells import GIL_BASE, MARK, Window, lane_cells, run_starts
from concsim.ui.layers import Layer, lay, story_layers
from concsim.ui.legend import CYCLE, Key, keys_of, label_key
from concsim.ui.timeline import BLANK, CUE_BASE, CUES, GIL_FREE, STATES, Track

if TYPE_CHECKING:
    from concsim.ui.story import Story


def _run(cell: int, length: int) -> Segment:
    if cell == BLANK:
        return Segment(" " * length)
    if cell >= MARK + CUE_BASE:
        look = palette.CUE_LOOKS[CUES[cell - MARK - CUE_BASE]]
        return Segment(look.mark * length, look.style)
    if cell >= MARK:
        look = palette.LOOKS[STATES[cell - MARK - 1]]
        return Segment(look.mark * length, look.style)
    look = palette.LOOKS[STATES[cell - 1]]
    if look.fill == " ":
        return Segment(" " * length)  # after a final mark the lane is empty, not coloured
    return Segment(look.fill * length, look.style)


class _Runs(dict[int, list[Segment]]):
    """For each cell, its segment of every run length, made when the cell is first drawn.

    Segments are immutable, so every frame shares them; a cold frame of a busy run has ~150
    runs a row, and two list lookups each (done inside C) cost a third of a cached call.
    """

    def __init__(self) -> None:
        super().__init__()
        self.longest = 0

    def __missing__(self, cell: int) -> list[Segment]:
        row = self[cell] = [_run(cell, length) for length in range(self.longest + 1)]
        return row

    def fit(self, width: int) -> None:
        """Make room for runs of up to ``width`` cells."""
        if width > self.longest:
            self.clear()
            self.longest = max(width, 2 * self.longest)


_RUNS = _Runs()


def forget_styles() -> None:
    """Drop the segments made with the palette's previous colours (the theme changed)."""
    _RUNS.clear()
    _gil_run.cache_clear()


@lru_cache(maxsize=4096)
def _gil_run(cell: int, length: int, tag: str) -> Segment:
    if cell == BLANK:
        return Segment(" " * length)
    if cell == GIL_FREE:
        return Segment(palette.GIL_FREE_GLYPH * length, palette.GIL_FREE)
    return Segment(tag * length, palette.GIL_HELD)


def bar_segments(
    track: Track, window: Window, now: float, drawn: set[Key] | None = None
) -> list[Segment]:
    """The time bar of one row, as few segments as there are runs of equal cells; what the
    cells show is added to ``drawn`` (the legend's entries)."""
    cells = lane_cells(track, window, now)
    edges = run_starts(cells)
    if drawn is not None:
        drawn |= keys_of(cells, track)
    firsts, lengths = map(cells.__getitem__, edges[:-1]), map(sub, edges[1:], edges)
    if track.is_gil:
        tags = [holder_glyph(holder) for holder in track.holders]
        return [
            _gil_run(cell, length, tags[cell - GIL_BASE] if cell >= GIL_BASE else "")
            for cell, length in zip(firsts, lengths, strict=False)
        ]
    _RUNS.fit(len(cells))
    return list(map(getitem, map(_RUNS.__getitem__, firsts), lengths))


def lane_label(
    track: Track, waits: str | None = None, room: int | None = None
) -> tuple[str, Style, str]:
    """What the lane is doing now: the state's glyph and style, then the step or state name,
    or what it waits for (``waits``, from the story) while it waits. With ``room`` (the
    characters the status column has), a step too long to follow its task's name is shown
    alone: the words a lesson points to (``pause 0.5 s (stop: not set)``) matter more than
    the task, which the tasks panel names."""
    if track.is_gil:
        holder = track.gil_holder
        if holder is None:
            return palette.GIL_FREE_GLYPH, palette.GIL_FREE, "free"
        return holder_glyph(holder), palette.GIL_HELD, f"held by {holder}"
    if track.state is None:
        return " ", Style.null(), ""
    look = palette.LOOKS[track.state]
    final = track.state.is_final
    doing = track.step if track.step and not final else look.words
    if track.state is LaneState.KILLED and track.signal:
        doing = f"{look.words} by {track.signal}"  # terminate() or kill(): -15 or -9
    if waits:
        # What it waits for says more than its task's name; the glyph says it waits.
        return (look.mark if final else look.fill), look.style, waits
    if track.task and track.task != track.name:
        told = f"{track.task} {doing}" if final else f"{track.task}: {doing}"
        doing = told if room is None or len(told) <= room or final else doing
    return (look.mark if final else look.fill), look.style, doing


def row_name(track: Track, width: int) -> str:
    """The row's title, indented: a thread or coroutine under its process or loop, a task
    made by a task one more step under the task that made it."""
    indent = "  " if track.is_gil or track.kind in ("thread", "coroutine") else ""
    if track.kind == "process" or track.row_id == "main":
        indent = ""
    return _fit(indent + "  " * track.depth + (track.title or track.name), width)


def longest_title(tracks: Iterable[Track]) -> int:
    """What the name column would need for every title whole: the longest title with its
    indent, and two columns more (a thread's indent) for those drawn flush left."""
    return max((len(t.title or t.name) + 2 * (t.depth + 1) for t in tracks), default=8)


def _fit(text: str, width: int) -> str:
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.ljust(width)


@dataclass(frozen=True, slots=True)
class Columns:
    """How a row is split: the lane's name, its time bar, its current step."""

    name: int
    bar: int
    label: int

    @classmethod
    def for_width(cls, width: int, longest_name: int = 12) -> Columns:
        # Narrow (the notes open beside an 80-column terminal): names and bars before labels.
        name = max(6, min(longest_name + 1, 18, width * 2 // 5))
        # The status takes three sevenths of what the name leaves (rounded up), up to 40:
        # from 80 columns a step a lesson quotes fits whole without its task's name.
        label = 0 if width < 64 else max(12, min(40, -(-(width - name) * 3 // 7)))
        bar = max(1, width - name - label - (1 if label else 0))
        return cls(name, bar, label)


def draw_lane(
    track: Track,
    window: Window,
    now: float,
    columns: Columns,
    *,
    selected: bool = False,
    story: Story | None = None,
    lit: list[Layer] | None = None,
    waits: str | None = None,
    link: str | None = None,
    drawn: set[Key] | None = None,
) -> list[Segment]:
    """One full row: name, bar, a gap, the current-step label; exactly ``columns`` wide.

    With a ``story``, the row's phases and lock spans are laid over the bar, then ``lit``
    (a why chain); ``link`` is this row's piece of a deadlock cycle, drawn at the playhead's
    column; ``drawn`` collects what the row shows, for the legend."""
    name_style = palette.SELECTED if selected else (palette.DIM if track.is_gil else palette.LABEL)
    segments = [Segment(row_name(track, columns.name - 1), name_style), Segment(" ")]
    bar = bar_segments(track, window, now, drawn)
    told = [] if story is None or track.is_gil else story_layers(track, story, window, now)
    seen: list[bool] = []
    bar = lay(bar, [layer for layer, _ in told] + (lit or []), seen)
    head = window.column(now)
    if link and 0 <= head < columns.bar:
        bar = _put(bar, head, Segment(link, palette.CYCLE))
        if drawn is not None:
            drawn.add(CYCLE)
    segments.extend(bar)
    if drawn is not None:
        drawn.update(key for (_, key), shows in zip(told, seen, strict=False) if shows)
    if columns.label:
        glyph, style, doing = lane_label(track, waits, room=columns.label - 2)
        if drawn is not None and (key := label_key(track)) is not None:
            drawn.add(key)  # the label's glyph is drawn too: a legend must name it
        segments += [
            Segment(" "),
            Segment(glyph, style),
            Segment(_fit(" " + doing, columns.label - 1)),
        ]
    return segments


def _put(segments: list[Segment], column: int, cell: Segment) -> list[Segment]:
    """The row with one column's cell replaced."""
    out: list[Segment] = []
    col = 0
    for segment in segments:
        end = col + len(segment.text)
        if col <= column < end:
            text, style = segment.text, segment.style
            if column > col:
                out.append(Segment(text[: column - col], style))
            out.append(cell)
            if end > column + 1:
                out.append(Segment(text[column - col + 1 :], style))
        else:
            out.append(segment)
        col = end
    return out


def draw_ruler(window: Window, now: float, columns: Columns) -> list[Segment]:
    """The time axis above the bars: tick labels at round times, the playhead marked ▼."""
    cells = [" "] * window.width
    head = window.column(now)
    step = tick_step(window.dt, spacing=10)
    k = math.ceil(window.t0 / step - 1e-9)
    free = 0  # the first column a label may use: one clear of the label before
    while True:
        t = k * step
        col = window.column(t)
        if col >= window.width:
            break
        label = "|" + format_time(t)
        # A label fits if it stays on the ruler, clear of the label before it and of the
        # playhead's ▼; one that does not is left out, its tick with it.
        end = col + len(label)
        if col >= free and end <= window.width and not col - 1 <= head <= end:
            cells[col:end] = label
            free = end + 1
        k += 1
    if 0 <= head < window.width:
        cells[head] = "▼"
    text = "".join(cells)
    segments = [Segment(" " * columns.name, palette.RULER)]
    if 0 <= head < window.width:
        segments += [
            Segment(text[:head], palette.RULER),
            Segment("▼", palette.PLAYHEAD),
            Segment(text[head + 1 :], palette.RULER),
        ]
    else:
        segments.append(Segment(text, palette.RULER))
    if columns.label:
        now_label = " " + f"now {format_time(now)}".ljust(columns.label)
        segments.append(Segment(now_label, palette.LABEL))
    return segments


def tick_step(dt: float, spacing: int) -> float:
    """The smallest of 1, 2, 5 * 10^k seconds that puts ticks at least ``spacing`` columns apart."""
    want = dt * spacing
    power = 10 ** math.floor(math.log10(want)) if want > 0 else 1.0
    for factor in (1, 2, 5, 10):
        if factor * power >= want * (1 - 1e-9):
            return factor * power
    return 10 * power
