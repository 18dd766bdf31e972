"""Every row's interval starts in one time-ordered log, for sampling all rows at once."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Sequence
from itertools import repeat

BLANK = 0  # the code of "nothing yet", as in concsim.ui.timeline

_CHECKPOINT = 32  # changes between two copies of every row's code in the change log


class ChangeLog:
    """Every row's interval starts in one time-ordered log, for sampling all rows at once.

    Each row alone answers "code at t" with one bisect, but a cold frame asks that of every
    row at every column, and 100 rows x 200 columns of bisects over a long run cost ~10 ms
    (most of it cache misses in large arrays). All rows share a column's sample instant, so
    one bisect in this log per column, then at most ``_CHECKPOINT`` changes replayed onto the
    nearest copy of all rows' codes, gives every row's code at that instant; a row's cells are
    then one C-level lookup per column.
    """

    def __init__(self) -> None:
        self.times: array[float] = array("d")
        self.slots: array[int] = array("I")  # which row changed (Track.slot)
        self.codes: array[int] = array("H")  # the row's code from then on
        self.current: array[int] = array("H")  # every row's latest code, by slot
        # checkpoints[c] holds every row's code after the first c * _CHECKPOINT changes.
        self.checkpoints: list[array[int]] = []
        # Holds while changes arrive in time order, as the engine emits them; a log fed out of
        # order cannot be bisected, and the rows then answer one by one.
        self.is_ordered = True
        self._frame: tuple[tuple[float, ...], int, list[tuple[int, ...]] | None] | None = None

    def copy(self) -> ChangeLog:
        """A copy to record on its own (the checkpoints are never changed once made)."""
        log = ChangeLog()
        log.times, log.slots, log.codes = self.times[:], self.slots[:], self.codes[:]
        log.current = self.current[:]
        log.checkpoints = self.checkpoints.copy()
        log.is_ordered = self.is_ordered
        return log

    def add_slot(self) -> int:
        self.current.append(BLANK)
        return len(self.current) - 1

    def record(self, t: float, slot: int, code: int) -> None:
        times = self.times
        if times and t < times[-1]:
            self.is_ordered = False
        if len(times) % _CHECKPOINT == 0:
            self.checkpoints.append(array("H", self.current))
        times.append(t)
        self.slots.append(slot)
        self.codes.append(code)
        self.current[slot] = code

    def forget(self) -> None:
        """Drop the frame kept by ``rows_at`` (the next frame samples afresh)."""
        self._frame = None

    def rows_at(self, samples: tuple[float, ...]) -> list[tuple[int, ...]] | None:
        """Every row's codes at the ascending ``samples``, indexed by slot; None if few rows
        change between the samples (each row then walks its own changes more cheaply).

        The first row of a frame pays for sampling; the frame's other rows ask with the same
        samples and share the answer.
        """
        frame = self._frame
        if frame is not None and frame[1] == len(self.times) and frame[0] == samples:
            return frame[2]
        times = self.times
        changes = bisect_right(times, samples[-1]) - bisect_right(times, samples[0])
        busy = changes * 8 > len(samples) * len(self.current)
        rows = list(zip(*self.states_at(samples), strict=True)) if busy else None
        self._frame = (samples, len(times), rows)
        return rows

    def states_at(self, samples: Sequence[float]) -> list[list[int]]:
        """Every row's code at each of the ascending ``samples``, one list per sample (lists,
        not arrays: an array converts every code it stores or hands out; measured faster)."""
        times, slots, codes = self.times, self.slots, self.codes
        width = len(self.current)
        states: list[list[int]] = []
        prev: list[int] | None = None
        done = 0  # changes already in ``prev``
        for sample in samples:
            upto = bisect_right(times, sample)
            base = upto // _CHECKPOINT * _CHECKPOINT
            if prev is not None and done >= base:
                state = prev.copy()  # the previous column is nearer than a checkpoint
            elif upto == len(times):
                state, done = self.current.tolist(), upto
            else:
                state, done = self.checkpoints[upto // _CHECKPOINT].tolist(), base
            if len(state) < width:
                state.extend(repeat(BLANK, width - len(state)))  # rows made since the copy
            for slot, code in zip(slots[done:upto], codes[done:upto], strict=True):
                state[slot] = code
            states.append(state)
            prev, done = state, upto
        return states
