"""The garbage collector and a long run: full passes kept away from the keys.

A full collection in CPython 3.11 walks every tracked object at once. A big run keeps
hundreds of thousands alive for good (events, the timeline, the engine's lanes, Textual's
own widgets and styles), and one full pass took 190-240 ms in the middle of playing
``process-overhead``: a frozen screen and an unanswered key. What exists after a frame is
there to stay, so the run screen moves it out of the collector's sight with ``gc.freeze()``
(constant time: it splices the generations' lists) after each frame that added events;
the collector then only walks what is new. Garbage among frozen objects that is freed by
reference counting (events, timelines) still goes at once; only reference cycles (a dropped
engine's lanes and generators, about 0.6 KB a task) wait, until ``dropped`` has been told
of ``_RELEASE_AFTER`` dropped runs and pays one full pass for all of them.
"""

from __future__ import annotations

import gc

_RELEASE_AFTER = 16


class Heap:
    """When to freeze what the run keeps, and when to pay for what it dropped."""

    def __init__(self) -> None:
        self.dropped_runs = 0

    def settle(self) -> None:
        """What exists now is here to stay: the collector need not walk it again."""
        gc.freeze()

    def sweep(self) -> None:
        """Collect what is not frozen, then freeze what stays: called when background work
        has just ended (a run to the end adopted), so that the cycles it left are paid for
        then, not by the next key (a step back after End paid 60-100 ms for them)."""
        gc.collect()
        gc.freeze()

    def dropped(self) -> None:
        """A run was replaced; every few, collect the cycles the dropped ones left frozen."""
        self.dropped_runs += 1
        if self.dropped_runs >= _RELEASE_AFTER:
            self.dropped_runs = 0
            gc.unfreeze()
            gc.collect()
            gc.freeze()
