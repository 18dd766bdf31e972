"""The view's turn on the interpreter: worker threads stand aside while it answers a key.

CPython runs one thread's bytecode at a time (the GIL, Python/ceval_gil.c): a thread that
wants it waits up to the switch interval (``sys.getswitchinterval()``, 5 ms) before the
holder is asked to drop it, and from then on the two take turns. A worker running the engine
flat out would so about halve the speed at which the view answers a key and draws its frame.
Instead the view claims a turn when a key arrives (and for each playback frame), and the
workers look at the claim between two slices of work and sleep through it: ``time.sleep``
releases the GIL, so the view then runs alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

KEY_TURN = 0.06
"""Wall seconds a key claims: time to run its action and draw its frame (under 50 ms)."""
FRAME_TURN = 0.015
"""Wall seconds a playback frame claims: the rest of the frame is the workers'."""
_LONGEST = 0.1  # a worker never sleeps longer than this at once


class Turns:
    """Claims made by the view's thread, honoured by the worker threads."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock  # wall time: the threads really wait on each other
        self.until = 0.0

    def claim(self, seconds: float) -> None:
        """The view's thread wants the interpreter for ``seconds`` from now."""
        self.until = max(self.until, self.clock() + seconds)

    def give_way(self) -> None:
        """In a worker, between two slices of work: sleep through the view's claim."""
        left = self.until - self.clock()
        if left > 0:
            time.sleep(min(left, _LONGEST))
