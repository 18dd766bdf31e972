"""The views' ledger fed by event type, and the collector's work kept off the keys."""

from __future__ import annotations

import gc
from pathlib import Path

from appkit import build, sync

from concsim.engine import Simulation
from concsim.events import FutureState, SharedRead, TaskStarted, TaskSubmitted
from concsim.replay import open_scenario
from concsim.ui.heap import Heap
from concsim.ui.ledger import Ledger


def test_the_ledger_counts_a_change_only_where_something_changed() -> None:
    """race-lost-update: four futures are taken by a worker and settle; reads of shared
    state and lane or GIL changes change nothing (the panel is not redrawn for them)."""
    events = list(Simulation(open_scenario("race-lost-update")).run())
    ledger = Ledger()
    ledger.feed(events)
    changing = [e for e in events if type(e).__name__ in _CHANGING]
    # A task's start changes its row once: a worker took the call (FutureRow.taken).
    submitted = {e.task for e in events if isinstance(e, TaskSubmitted)}
    taken = {e.task for e in events if isinstance(e, TaskStarted) and e.task in submitted}
    assert len(taken) == 4
    assert ledger.version == len(changing) + len(taken)
    assert any(isinstance(e, SharedRead) for e in events)
    assert [row.state for row in ledger.futures.values()] == [FutureState.DONE] * 4
    assert [(row.outcome, row.cleanup) for row in ledger.futures.values()] == [("ok", "none")] * 4


_CHANGING = {
    "TaskSubmitted",
    "FutureChanged",
    "TaskEnded",
    "ResultReceived",
    "SharedWritten",
    "OutputWritten",
    "RunStarted",
}


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_sweep_collects_the_cycles_left_and_freezes_what_stays() -> None:
    gc.unfreeze()
    try:
        left = [_Cycle() for _ in range(100)]
        del left
        kept = [_Cycle() for _ in range(10)]
        Heap().sweep()
        assert not any(type(o) is _Cycle for o in gc.get_objects())  # only frozen ones left
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()


@sync
async def test_the_end_of_a_run_to_the_end_sweeps(tmp_path: Path) -> None:
    """End on a big run (a job on a worker): once the run is on screen, what the job left
    is collected and frozen then, not by the next key."""
    app, _ = build("process-overhead", tmp_path)
    swept: list[bool] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.run_screen
        original = screen.heap.sweep
        screen.heap.sweep = lambda: swept.append(True) or original()  # type: ignore[method-assign,func-returns-value]
        await pilot.press("end")
        await screen.wait_idle()
        await pilot.pause()
        assert screen.session.finished
    assert swept
