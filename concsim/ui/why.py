"""Why chains: from one moment of a run, the causes that led to it; from a first cause, all
that followed from it.

A chain is read from the story (``concsim.ui.story``): each moment's recorded cause back to
the first. A moment that something caused (main's ``result()`` re-raising job-2's error)
answers "why?" with those causes alone, never with what came after it. A first cause (job-2's
raise, a fault) has none: its chain is the story it starts, the moments that followed from
it, then, once that reaches the main program, the phases main went through after it (leaving
a ``with`` block, ``asyncio.run``'s teardown, interpreter exit), the tasks each phase waited
for, and how main ended. Each link names the event that tells it, so the event log shows the
same chain as sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from concsim.events import Event, ExecutorShutdown
from concsim.ui.story import MAIN, Story
from concsim.ui.timeline import Timeline


@dataclass(frozen=True, slots=True)
class Link:
    """One step of a chain: a row, the time it spans there, the event that tells it."""

    row: str
    t0: float
    t1: float
    index: int


def why_chain(story: Story, timeline: Timeline, events: Sequence[Event], number: int) -> list[Link]:
    """The chain of moment ``number`` of ``story``, in the order it happened: its causes
    back to the first; for a first cause, everything that followed from it."""
    moments = story.moments
    members: set[int] = set()
    k: int | None = number
    while k is not None and k not in members:
        members.add(k)
        k = moments[k].cause
    first = moments[number].cause is None
    if first:
        # Everything that followed from it: the siblings a TaskGroup cancelled belong to the
        # story of the raise that made it cancel.
        for later in range(number + 1, len(moments)):
            cause = moments[later].cause
            if cause is not None and cause in members and later not in members:
                members.add(later)
    links = [Link(moments[k].row, moments[k].t, moments[k].t, moments[k].index) for k in members]
    for k in members:
        read = story.read_before.get(k, -1)
        if read >= 0:  # a lost update: the stale read it wrote back is one of its causes
            links.append(Link(moments[k].row, events[read].t, events[read].t, read))
    on_main = [moments[k].t for k in members if moments[k].row == MAIN]
    if first and on_main:
        links += _wind_down(story, timeline, events, min(on_main))
    return sorted(set(links), key=lambda link: link.index)


def _wind_down(story: Story, timeline: Timeline, events: Sequence[Event], t: float) -> list[Link]:
    """What main went through from ``t``: each phase, the tasks it waited for, main's end."""
    links = []
    for span in story.phases:
        if span.t0 < t:
            continue
        end = timeline.now if span.t1 is None else span.t1
        links.append(Link(MAIN, span.t0, end, _telling(events, span.index)))
        for task in span.waits_for:
            ended = story.ends.get(task)
            if ended is not None and events[ended].t >= span.t0:
                track = timeline.row_for(task)
                row = track.row_id if track is not None else MAIN
                links.append(Link(row, events[ended].t, events[ended].t, ended))
    if story.main_end is not None:
        links.append(Link(MAIN, events[story.main_end].t, events[story.main_end].t, story.main_end))
    return links


def _telling(events: Sequence[Event], index: int) -> int:
    """The event that best tells a phase began: the shutdown() call just before main's
    state changed, if there is one at the same instant, else the state change itself."""
    t = events[index].t
    k = index - 1
    while k >= 0 and events[k].t == t and index - k <= 8:
        if isinstance(events[k], ExecutorShutdown):
            return k
        k -= 1
    return index


def lit_rows(links: Sequence[Link]) -> dict[str, list[tuple[float, float]]]:
    """The spans to light on each row."""
    lit: dict[str, list[tuple[float, float]]] = {}
    for link in links:
        lit.setdefault(link.row, []).append((link.t0, link.t1))
    return lit
