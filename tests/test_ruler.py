"""The time ruler: labels at round times, whole and apart, at every zoom and width."""

from __future__ import annotations

import itertools
import re

import pytest

from concsim.durations import format_time
from concsim.ui.cells import Window
from concsim.ui.draw import Columns, draw_ruler, tick_step

LABEL = re.compile(r"\|([^ |▼]+)")


def bar_text(window: Window, now: float) -> str:
    columns = Columns(8, window.width, 0)
    text = "".join(segment.text for segment in draw_ruler(window, now, columns))
    return text[columns.name :]


@pytest.mark.parametrize(
    ("width", "dt"),
    list(
        itertools.product([12, 25, 40, 77, 101, 160], [1e-6, 3e-6, 2.5e-5, 1e-3, 0.012, 0.5, 7.0])
    ),
)
def test_ruler_labels_never_collide(width: int, dt: float) -> None:
    """At each width and zoom, from several starts and playheads: every label is a whole
    round time at its tick's column, one space at least from the next, and ▼ stands alone
    at the playhead's column."""
    step = tick_step(dt, spacing=10)
    for first, head in itertools.product([0, 3, 997], [0, 1, width // 2, width - 1, width + 5]):
        window = Window(first * dt, dt, width)
        now = window.t0 + head * dt
        text = bar_text(window, now)
        assert len(text) == width
        ticks = {window.column(k * step): k * step for k in range(int(window.t1 / step) + 2)}
        ends = []
        for match in LABEL.finditer(text):
            col = match.start()
            # the label is the whole time of the tick drawn at its column
            assert col in ticks and match.group(1) == format_time(ticks[col])
            ends.append((col, match.end()))
        for (_, end), (start, _) in itertools.pairwise(ends):
            assert start >= end + 1
        if 0 <= head < width:
            assert text[head] == "▼" and text.count("▼") == 1
            assert all(not start - 1 <= head <= end for start, end in ends)
        else:
            assert "▼" not in text
