"""The code view's fold kept at the playhead: fed forward as it moves on, restored from a
copy kept every few thousand events when it moves back, so a step back never refolds a long
run from its first event."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from concsim.events import Event
from concsim.ui.codemap import SiteIndex, Whereabouts

SPACING = 4096
"""Events between two kept copies: the most a move back feeds (a few milliseconds)."""


class CodeCursor:
    """``Whereabouts`` after the first ``count`` events of one event list.

    Runs over one engine share its event list (a step back shows the same history again), so
    the copies are kept by list and checked against the event they end with: another list, or
    another event there, starts over from the first event.
    """

    def __init__(self, sites: SiteIndex) -> None:
        self.sites = sites
        self.events: Sequence[Event] | None = None
        self.fold = Whereabouts(sites)
        self.fed = 0
        self.refolded = 0  # events fed since the start (what the copies save)
        self._fed_last: Event | None = None  # the last event fed: is the history the same?
        self._counts: list[int] = []
        self._copies: list[tuple[Event, Whereabouts]] = []

    def at(self, events: Sequence[Event], count: int, limit: int | None = None) -> Whereabouts:
        """The lanes' lines after the first ``count`` of ``events``; with a ``limit``, at
        most that many events are fed (short of ``count``, ``fed`` says where it stands)."""
        if events is not self.events:
            self._start(events)
        elif count < self.fed or (self.fed and events[self.fed - 1] is not self._fed_last):
            self._back(events, count)
        self._forward(events, count if limit is None else min(count, self.fed + limit))
        return self.fold

    def _start(self, events: Sequence[Event]) -> None:
        self.events = events
        self.fold = Whereabouts(self.sites)
        self.fed = 0
        self._fed_last = None
        self._counts.clear()
        self._copies.clear()

    def _back(self, events: Sequence[Event], count: int) -> None:
        k = bisect_right(self._counts, count)
        while k > 0:
            kept, (last, copy) = self._counts[k - 1], self._copies[k - 1]
            if kept <= len(events) and events[kept - 1] is last:
                self.fold, self.fed, self._fed_last = copy.copy(), kept, last
                return
            del self._counts[k - 1 :], self._copies[k - 1 :]  # another history from here
            k -= 1
        self._start(events)

    def _forward(self, events: Sequence[Event], count: int) -> None:
        count = min(count, len(events))
        while self.fed < count:
            stop = min(count, (self.fed // SPACING + 1) * SPACING)
            self.fold.feed(events[self.fed : stop])
            self.refolded += stop - self.fed
            self.fed = stop
            self._fed_last = events[stop - 1]
            if stop % SPACING == 0 and (not self._counts or self._counts[-1] < stop):
                self._counts.append(stop)
                self._copies.append((events[stop - 1], self.fold.copy()))
