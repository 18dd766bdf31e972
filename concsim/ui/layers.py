"""Styles laid over a row's bar: main's wind-down phases, lock spans, lit why chains.

A layer is a range of the bar's columns and a style laid under each cell's own; it covers
at least one column, so an instant (a phase with nothing to wait for) still shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style

from concsim import palette
from concsim.events import LockKind
from concsim.ui.cells import Window
from concsim.ui.legend import LOCKS, SEMAPHORES, Key
from concsim.ui.timeline import Track

if TYPE_CHECKING:
    from concsim.ui.story import Story

Layer = tuple[int, int, Style]  # columns [start, end) of the bar and the style laid on them


def story_layers(track: Track, story: Story, window: Window, now: float) -> list[tuple[Layer, Key]]:
    """The main program's phases (a band under its cells) and the row's lock spans
    (underlined), as column ranges of the bar, each with the legend entry it needs."""
    layers: list[tuple[Layer, Key]] = []
    count = _drawn(window, now)
    if track.row_id == "main":
        for span, kind in zip(story.phases, story.phase_kinds, strict=True):
            cols = _columns(window, span.t0, now if span.t1 is None else span.t1, count)
            if cols is not None:
                layers.append(((*cols, palette.PHASE_STYLES[kind]), kind))
    for span in story.locks_between(track.row_id, window.t0, window.t1, now):
        cols = _columns(window, span.t0, now if span.t1 is None else span.t1, count)
        if cols is not None:
            key = SEMAPHORES if span.kind is LockKind.SEMAPHORE else LOCKS
            layers.append(((*cols, palette.LOCK_HELD), key))
    return layers


def moment_layers(window: Window, now: float, times: Iterable[tuple[float, float]]) -> list[Layer]:
    """The columns of lit moments and spans (a why chain, the selected mark)."""
    count = _drawn(window, now)
    layers = []
    for t0, t1 in times:
        layer = _columns(window, t0, t1, count)
        if layer is not None:
            layers.append((*layer, palette.LIT))
    return layers


def _drawn(window: Window, now: float) -> int:
    if now < window.t0:
        return 0
    return max(0, min(window.width, window.column(now) + 1))


def _columns(window: Window, t0: float, t1: float, count: int) -> tuple[int, int] | None:
    """The columns from the one holding ``t0`` to the one before ``t1`` (at least one)."""
    start, last = window.column(t0), window.column(t1)
    if t1 > t0 and abs(window.t0 + last * window.dt - t1) < 1e-9 * window.dt:
        last -= 1  # a span that ends on a column's edge does not hold that column
    end = max(start, last) + 1
    start, end = max(0, start), min(count, end)
    return (start, end) if start < end else None


def lay(
    segments: list[Segment], layers: list[Layer], seen: list[bool] | None = None
) -> list[Segment]:
    """Lay styles over column ranges of a bar: a layer's style goes under each cell's own
    (a band shows where a cell has no background), in the order given. ``seen[k]`` tells
    whether layer ``k`` shows anywhere (a band wholly under marks with their own background
    does not). Segments are split only where a layer begins or ends."""
    if not layers:
        return segments
    edges = sorted({edge for start, end, _ in layers for edge in (start, end)})
    shows = [False] * len(layers)
    out: list[Segment] = []
    col = 0
    for segment in segments:
        text, own = segment.text, segment.style
        end = col + len(text)
        cuts = [col, *(edge for edge in edges if col < edge < end), end]
        for a, b in pairwise(cuts):
            style = own
            for k, (start, stop, layer) in enumerate(layers):
                if start <= a < stop:
                    shows[k] = (
                        shows[k] or layer.bgcolor is None or own is None or own.bgcolor is None
                    )
                    style = layer + style if style is not None else layer
            piece = text if (a, b) == (col, end) else text[a - col : b - col]
            out.append(segment if style is own and piece is text else Segment(piece, style))
        col = end
    if seen is not None:
        seen.extend(shows)
    return out
