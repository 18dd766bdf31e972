"""Which slice of virtual time the lanes show: the whole run, or a zoomed slice that follows."""

from __future__ import annotations

import math
from dataclasses import dataclass

from concsim.ui.cells import Window

_STEPS = (1.0, 2.0, 5.0)  # zoom steps
# Column widths for fitting: round enough for exact column edges, fine enough that a fitted
# run fills at least 80% of the bar (1-2-5 alone could leave more than half of it empty).
_FIT_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
_FOLLOW = 0.8  # the playhead's place across the window when following a zoomed-in run


def nice_dt(seconds: float) -> float:
    """The smallest round column width at or above ``seconds`` (1, 1.2, 1.5, 2 ... 8 * 10^k)."""
    seconds = max(seconds, 1e-6)
    power = 10.0 ** math.floor(math.log10(seconds))
    for step in (*_FIT_STEPS, 10.0):
        if step * power >= seconds * (1 - 1e-9):
            return step * power
    return 10 * power


def _neighbour(dt: float, finer: bool) -> float:
    """The next 1-2-5 step below (finer) or above ``dt``."""
    exp = math.floor(math.log10(dt) + 1e-9)
    ladder = [s * 10.0**k for k in range(exp - 1, exp + 2) for s in _STEPS]
    if finer:
        return max(v for v in ladder if v < dt * (1 - 1e-9))
    return min(v for v in ladder if v > dt * (1 + 1e-9))


@dataclass(slots=True)
class Viewport:
    """Fit the whole run (the default) or follow the playhead at a chosen zoom."""

    fit: bool = True
    dt: float = 0.01  # seconds per column while not fitting

    def window(self, width: int, now: float, horizon: float) -> Window:
        width = max(1, width)
        span = max(horizon, now, 1e-6)
        if self.fit or self.dt * width >= span:
            # The run's last instant must land inside the last column, not just past it: a
            # failure or a tick at the very end is often the point of the picture.
            return Window(0.0, nice_dt(span / max(1, width - 1)), width)
        # Following: whole columns only, so the bars scroll by cells and the cell memo holds.
        lead = int(width * _FOLLOW)
        first = max(0, math.floor(now / self.dt + 1e-9) - lead)
        return Window(first * self.dt, self.dt, width)

    def zoom_in(self, width: int, now: float, horizon: float) -> None:
        current = self.window(width, now, horizon).dt
        self.dt = max(1e-6, _neighbour(current, finer=True))
        self.fit = False

    def zoom_out(self, width: int, now: float, horizon: float) -> None:
        current = self.window(width, now, horizon).dt
        self.dt = _neighbour(current, finer=False)
        self.fit = self.dt * width >= max(horizon, now)

    def zoom_fit(self) -> None:
        self.fit = True
