"""Which target a fault key aims at, given the selected row, before the engine has its say."""

from __future__ import annotations

from concsim.events import LaneState
from concsim.ui.timeline import Track


def fault_target(track: Track | None, fault: str) -> tuple[str | None, str | None]:
    """``(target, None)`` to inject, or ``(None, why not)`` when the row cannot take it.

    Only what the view alone can tell is refused here (no lane, the GIL row); whether a
    fault applies to a lane is the engine's call, and its FaultRefused says why in CPython's
    terms.
    """
    if fault == "interrupt":
        return "main", None  # Ctrl-C always lands in the main thread
    if track is None:
        return None, "No lane is selected: pick one with ↑/↓ or a click."
    if track.is_gil:
        return None, f"The GIL row of {track.process} is not a lane: select a worker with ↑/↓."
    if fault == "kill" or track.row_id == "main" or track.kind == "coroutine":
        return track.row_id, None
    busy = track.state is not None and track.state is not LaneState.IDLE
    if track.task and busy and not track.state.is_final:  # type: ignore[union-attr]
        return track.task, None  # the task the worker is running now
    return track.row_id, None
