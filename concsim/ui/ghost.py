"""A ghost lane: the run a branch left, drawn faintly under the branch's own lane.

The two runs share every event before the fork, so the ghost is drawn from the fork's
column on, to the end of its run, on the branch's time axis: where the rows differ, the
branch's choice shows against what would have happened without it.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style

from concsim.ui.cells import Window
from concsim.ui.draw import Columns, bar_segments
from concsim.ui.timeline import Track

GHOST = Style(dim=True, italic=True)
GHOST_GLYPH = "╰"


def draw_ghost(
    track: Track | None, window: Window, end: float, columns: Columns, *, at: float, name: str
) -> list[Segment]:
    """One ghost row exactly ``columns`` wide: ``╰ original`` under the lane's name, then
    the lane as the run ``name`` drew it from ``at`` to ``end`` (blank where that run had no
    such lane), then, in the label column, how that lane ended."""
    label = f"{GHOST_GLYPH} {name}"
    label = label if len(label) < columns.name else label[: max(0, columns.name - 2)] + "…"
    segments = [Segment(label.ljust(columns.name), GHOST)]
    if track is None:
        segments.append(Segment(" " * window.width))
    else:
        first = max(0, min(window.width, window.column(at)))
        bar = bar_segments(track, window, end)
        _, shown = Segment.divide(bar, [first, window.width])
        segments.append(Segment(" " * first))
        segments.extend(Segment.apply_style(shown, post_style=GHOST))
    if columns.label:
        ended = "" if track is None or track.state is None else f" {track.state.value}"
        segments.append(Segment(" " + ended[: columns.label].ljust(columns.label), GHOST))
    return segments
