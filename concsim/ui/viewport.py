"""Which slice of virtual time the lanes show: the whole run, a zoomed slice that follows the
playhead, or (paused) a zoomed slice that stays where it was put: panned, or zoomed about
its middle."""

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
    """Fit the whole run (the default), follow the playhead at a chosen zoom, or stay at
    ``t0`` (a column's start) at that zoom: panned, or zoomed while paused."""

    fit: bool = True
    dt: float = 0.01  # seconds per column while not fitting
    t0: float | None = None  # where a window that stays put starts; None: it follows

    def window(self, width: int, now: float, horizon: float) -> Window:
        width = max(1, width)
        span = max(horizon, now, 1e-6)
        if self.fit or self.dt * width >= span:
            # The run's last instant must land inside the last column, not just past it: a
            # failure or a tick at the very end is often the point of the picture.
            return Window(0.0, nice_dt(span / max(1, width - 1)), width)
        if self.t0 is not None:
            return Window(self.t0, self.dt, width)
        # Following: whole columns only, so the bars scroll by cells and the cell memo holds.
        lead = int(width * _FOLLOW)
        first = max(0, math.floor(now / self.dt + 1e-9) - lead)
        return Window(first * self.dt, self.dt, width)

    def zoom_in(self, width: int, now: float, horizon: float, *, stay: bool = False) -> None:
        """One step finer; ``stay`` (paused): about the middle of the window, not the
        playhead (or about the playhead, if the middle is in the future, not drawn yet)."""
        current = self.window(width, now, horizon)
        self.dt = max(1e-6, _neighbour(current.dt, finer=True))
        self.fit = False
        self._centre(current, width, now, stay)

    def zoom_out(self, width: int, now: float, horizon: float, *, stay: bool = False) -> None:
        current = self.window(width, now, horizon)
        self.dt = _neighbour(current.dt, finer=False)
        self.fit = self.dt * width >= max(horizon, now)
        self._centre(current, width, now, stay)

    def _centre(self, before: Window, width: int, now: float, stay: bool) -> None:
        if not stay or self.fit:
            self.t0 = None
            return
        middle = min(now, before.t0 + before.dt * before.width / 2)
        self.t0 = max(0, round(middle / self.dt - width / 2)) * self.dt

    def zoom_fit(self) -> None:
        self.fit = True
        self.t0 = None

    def pan(self, width: int, now: float, horizon: float, columns: int) -> bool:
        """Move the window by ``columns`` (later if positive); it then stays there. False
        when the whole run is in view (nothing to pan to)."""
        current = self.window(width, now, horizon)
        if self.fit or self.dt * max(1, width) >= max(horizon, now, 1e-6):
            return False
        first = round(current.t0 / self.dt) + columns
        last = math.ceil(max(horizon, now) / self.dt)  # the run's end stays in view
        self.t0 = max(0, min(first, last - max(1, width) // 2)) * self.dt
        return True

    def follow(self) -> None:
        """Follow the playhead again (playing, or the playhead moved out of view)."""
        self.t0 = None

    def keep_in_view(self, width: int, now: float, horizon: float) -> None:
        """A window that stays put follows again if the playhead has left it."""
        if self.t0 is not None:
            window = self.window(width, now, horizon)
            if not window.t0 <= now < window.t1:
                self.t0 = None
