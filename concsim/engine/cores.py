"""The machine's CPU cores, and code running on them: Python code (holding the GIL) and
native code (without it), with the machine's timing jitter."""

from __future__ import annotations

import random
from collections import deque

from concsim.events import LaneState
from concsim.scenario.model import Scenario

from .runtime import PREEMPTED, Actor, Lane
from .threads.gil import GilModel
from .waits import CORE_WAIT, CpuRun, NativeRun


class Cores(GilModel):
    """A fixed number of cores: a lane runs code only on a free one, else it waits in turn."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        super().__init__(scenario, seed)
        self.rng = random.Random(seed)
        self.cores_free = self.machine.cores
        self.core_waiters: deque[tuple[Lane, int]] = deque()

    # --- cores --------------------------------------------------------------------------

    def _ensure_core(self, lane: Lane) -> Actor:
        if self.cores_free > 0 and not self.core_waiters:
            self.cores_free -= 1
            return
        self.core_waiters.append((lane, lane.epoch))
        self.set_state(lane, LaneState.CORE_WAIT, lane.step)
        try:
            yield CORE_WAIT
        finally:
            self.core_waiters = deque(w for w in self.core_waiters if w[0] is not lane)

    def _release_core(self) -> None:
        if self.core_waiters:
            lane, epoch = self.core_waiters.popleft()
            self.clock.soon(self.wake, lane, epoch)  # the core passes straight to it
        else:
            self.cores_free += 1

    # --- running code -------------------------------------------------------------------

    def cpu(self, lane: Lane, duration: int, label: str) -> Actor:
        """Pure-Python work: holds the GIL and a core; a waiting thread preempts it."""
        remaining = duration
        while True:
            yield from self.ensure_gil(lane)
            yield from self._ensure_core(lane)
            self.set_state(lane, LaneState.RUNNING, label)
            started = self.clock.now
            try:
                signal = yield CpuRun(started + remaining)
            finally:
                remaining -= self.clock.now - started
                self._release_core()
            if signal is PREEMPTED and remaining > 0:
                self.release_gil(lane, "the switch interval expired")
                continue
            return

    def native(self, lane: Lane, duration: int, label: str) -> Actor:
        """C code that released the GIL: needs a core, not the GIL."""
        self.release_gil(lane, "native code released it")
        yield from self._ensure_core(lane)
        self.set_state(lane, LaneState.NATIVE, label)
        try:
            yield NativeRun(self.clock.now + duration)
        finally:
            self._release_core()

    def jittered(self, duration: int) -> int:
        jitter = self.machine.jitter
        if not jitter or not duration:
            return duration
        return round(duration * (1 + self.rng.uniform(-jitter, jitter)))
