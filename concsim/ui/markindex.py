"""The marks of one history by their place in the event stream, built once as events arrive.

A mark is an event that added a moment to the story (``concsim.ui.story``) or a result that
main received (a tick on main's row). Which events those are is only known once the story
has folded them in, and the story is a fold of the history: the marks after the first
``n`` events are a function of ``n``. So one index serves every run over one engine
(``concsim.ui.made.Made``), whoever folded the events first: ``>`` and ``<`` find the next
and the previous mark by bisection, however long the history, instead of walking its events.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left
from collections.abc import Sequence


class MarkIndex:
    """The stream indices of the events that added a mark, in order, for the first
    ``known`` events of one history; added to from the view's thread and from workers
    feeding a run off screen, so under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.indices = array("q")
        self.known = 0

    def __len__(self) -> int:
        return len(self.indices)

    def take(self, start: int, end: int, moments: Sequence[int], results: Sequence[int]) -> None:
        """A run folded events ``start`` to ``end``: its story added moments told by the
        events at ``moments``, and main received results at ``results`` (both ascending);
        the marks among them that are new to the index go in."""
        with self.lock:
            known = self.known
            if not start <= known < end:
                return  # folded already (a run shown again), or a gap: it waits its turn
            found = {index for index in moments if index >= known}
            found.update(index for index in results if index >= known)
            self.indices.extend(sorted(found))
            self.known = end

    def after(self, index: int) -> int | None:
        """The first mark at or after ``index`` among the events indexed, if any."""
        with self.lock:
            k = bisect_left(self.indices, index)
            return self.indices[k] if k < len(self.indices) else None

    def before(self, index: int) -> int | None:
        """The latest mark before ``index`` (the index must hold every event before it:
        ``covers``), if any."""
        with self.lock:
            k = bisect_left(self.indices, index)
            return self.indices[k - 1] if k else None

    def covers(self, index: int) -> bool:
        """Whether every event before ``index`` has been indexed."""
        return self.known >= index
