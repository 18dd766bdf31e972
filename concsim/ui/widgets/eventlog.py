"""The event log: each event's one-sentence why, newest at the bottom, filterable by lane.

Drawn with the line API over the session's own event list: a frame wraps only the events
on screen (each once per width, from a cache), so its cost follows the log's height, not
the run's length. One scroll step is one event; at the bottom the log follows the newest
event, wrapped upwards from it, and scrolled up it shows events from the one at the top.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from concsim.durations import format_time
from concsim.events import Event
from concsim.ui.logrows import Rows, Stretch
from concsim.ui.panels import event_line

Keep = Callable[[Event], bool]
_TIME = 8  # cells of the time column; a wrapped sentence continues under its first word
_SCAN = 2_000  # events a filter looks at per frame drawn (about 10 ms)
_FOLD_SCAN = 16_000  # events folded per frame with no filter (routine rows: about 8 ms)
_WHOLE = 4_000  # a log this long or shorter is looked at whole by the key (about 20 ms)
_FIRST = 1_000  # in a longer log, those looked at by the key itself: a screen's worth, mostly


class EventLog(ScrollView, can_focus=True):
    """The events seen so far (or those a filter keeps), one or more lines each."""

    DEFAULT_CSS = """
    EventLog { overflow-x: hidden; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.events: Sequence[Event] = ()
        self.known = 0  # the first ``known`` events are the log's to show
        self.keep: Keep | None = None
        self.rows: Rows | None = None  # with a filter or folding: the rows shown
        self.scanned = 0  # with a filter: events below this index are still to look at
        self.wrapped = 0  # events turned into lines so far (the cost the cache saves)
        self.follow = True  # at the bottom, showing the newest event as it comes
        self._scrolling = False  # the log itself is moving its scroll (not the reader)
        self._token = 0  # which rebuild a pending scan belongs to
        self._wraps: LRUCache[tuple[Any, ...], list[Strip]] = LRUCache(2048)
        self._frame: tuple[tuple[Any, ...], list[Strip]] | None = None

    # --- what to show ------------------------------------------------------------------

    def rebuild(
        self, events: Sequence[Event], count: int, keep: Keep | None, *, fold: bool = False
    ) -> None:
        """Show the first ``count`` of ``events`` (a new history, or a new filter), those
        ``keep`` keeps; with ``fold``, the routine between two events told is one line
        (``concsim.ui.logrows``). The same list again (the history shown back to an earlier
        event) keeps the events' wrapped lines: an event's place in it never changes."""
        rows = self.rows
        if (
            events is self.events
            and rows is not None
            and not self.is_scanning
            and keep is self.keep
            and fold == rows.fold
            and count <= self.known
        ):
            # The same history shown back to an earlier event (a step back): the rows it
            # already has, cut at that event, never a scan of the whole run again.
            rows.truncate(events, count, keep)
            self.known = count
            self._resize(follow=True)
            return
        if events is not self.events:
            self._wraps.clear()
        self.events, self.known, self.keep = events, count, keep
        self._token += 1
        self.rows = None if keep is None and not fold else Rows(fold=fold)
        self.scanned = count
        self._resize(follow=True)
        if self.rows is not None:
            self._scan(self._token, _FIRST if count > _WHOLE else _WHOLE)

    def feed(self, count: int) -> None:
        """The first ``count`` events are now the log's to show (appended to the same list)."""
        if self.rows is not None:
            self.rows.feed(self.events, self.known, count, self.keep)
        self.known = max(self.known, count)
        self._resize()

    @property
    def entries(self) -> Sequence[int]:
        """The rows shown, ascending: event indices, and ``~k`` for a folded stretch."""
        return range(self.known) if self.rows is None else self.rows

    @property
    def is_scanning(self) -> bool:
        return self.rows is not None and self.scanned > 0

    def _scan(self, token: int, size: int | None = None) -> None:
        """Look at the next ``size`` events below those already scanned, newest first; the
        rest waits for the next frame to be drawn, so that the key that asked for the scan
        is answered with a frame after one slice, whatever the run's length, and keys are
        answered meanwhile."""
        rows = self.rows
        if token != self._token or rows is None:
            return
        if size is None:
            size = _SCAN if self.keep is not None else _FOLD_SCAN
        before, stop = len(rows.back), max(0, self.scanned - size)
        rows.scan_back(self.events, self.scanned, stop, self.keep)
        back = rows.back
        self.scanned = stop
        if len(back) > before and not self.follow:
            # Lines arrived above a reader who scrolled up: keep the same lines in view.
            self._resize()
            self._scroll(self.scroll_y + len(back) - before)
        self._resize()
        if stop > 0:
            self.call_after_refresh(self._scan, token)

    def _resize(self, *, follow: bool = False) -> None:
        self.follow = self.follow or follow
        size = Size(self.scrollable_content_region.width, len(self.entries))
        shown = self.virtual_size
        height = self.scrollable_content_region.height
        if (
            self.show_vertical_scrollbar
            and size.width == shown.width
            and min(size.height, shown.height) > height
        ):
            # More lines (or a few less) under a bar shown before and after: only its thumb
            # moves. A new layout of the whole screen per frame of a playing run, or per
            # step back, would cost more than the frame.
            self.set_reactive(EventLog.virtual_size, size)
            self.vertical_scrollbar.window_virtual_size = size.height
        else:
            self.virtual_size = size
        if self.follow:
            self._scroll(self.max_scroll_y)
        self.refresh()

    def _scroll(self, y: float) -> None:
        self._scrolling = True
        try:
            # Set directly: scroll_to() refuses until a layout pass has shown the scrollbar.
            self.scroll_target_y = self.scroll_y = y
        finally:
            self._scrolling = False

    def _scroll_update(self, virtual_size: Size) -> None:
        # Textual's layout pass shows the scrollbar here, but a thumb moved while the bar
        # was hidden would stay where it was: place it now, in the same pass.
        super()._scroll_update(virtual_size)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if not self._scrolling:
            # The reader scrolled: up leaves the newest events, down to the bottom follows.
            self.follow = round(new) >= self.max_scroll_y

    def on_resize(self) -> None:
        self._resize()

    def forget(self) -> None:
        """Wrap every line anew (the palette's colours changed)."""
        self._wraps.clear()
        self._frame = None
        self.refresh()

    # --- drawing -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        lines = self._lines(width, self.scrollable_content_region.height)
        return lines[y] if y < len(lines) else Strip.blank(width, self.rich_style)

    def _lines(self, width: int, height: int) -> list[Strip]:
        """The lines on screen: wrapped up from the newest event at the bottom, else down
        from the event at the top of the scroll."""
        entries = self.entries
        top = round(self.scroll_y)
        at_end = self.follow or top >= self.max_scroll_y
        version = 0 if self.rows is None else self.rows.version  # a stretch grows in place
        key = (self._token, len(entries), version, top, width, height, at_end)
        if self._frame is not None and self._frame[0] == key:
            return self._frame[1]
        lines: list[Strip] = []
        style = self.rich_style  # the theme's, under every line: looked up once a frame
        if at_end:
            k = len(entries) - 1
            while k >= 0 and len(lines) < height:
                lines[:0] = self._wrap(entries[k], width, style)
                k -= 1
            lines = lines[-height:] if height > 0 else []
        else:
            k = top
            while k < len(entries) and len(lines) < height:
                lines.extend(self._wrap(entries[k], width, style))
                k += 1
            lines = lines[:height]
        self._frame = (key, lines)
        return lines

    def _wrap(self, row: int, width: int, style: Style) -> list[Strip]:
        """One row's lines at ``width``: an event's time, then its sentence wrapped under
        itself; a stretch's line, or the few events it holds one after the other."""
        stretch = None if self.rows is None else self.rows.stretch(row)
        if stretch is None:
            return self._wrapped(row, width, style)
        if stretch.few is not None:
            return [strip for index in stretch.few for strip in self._wrapped(index, width, style)]
        return self._wrapped(row, width, style, stretch)

    def _wrapped(
        self, row: int, width: int, style: Style, stretch: Stretch | None = None
    ) -> list[Strip]:
        # A stretch's number is its place in this view's rows only (a rebuild numbers anew):
        # its lines are known by its events and the filter that kept them.
        key: tuple[Any, ...] = (
            (row, width) if stretch is None else (stretch.first, stretch.last, width, self.keep)
        )
        strips = self._wraps.get(key)
        if strips is None:
            self.wrapped += 1
            console = self.app.console
            line = event_line(self.events[row]) if stretch is None else self._folded(stretch)
            head, body = line.divide([_TIME])
            room = max(1, width - _TIME)
            # Most sentences fit on their line: no wrapping to pay for.
            plain = body.plain
            fits = body.cell_len <= room and "\n" not in plain and "\t" not in plain
            strips = []
            for n, part in enumerate([body] if fits else body.wrap(console, room)):
                lead = head if n == 0 else Text(" " * _TIME)
                segments = [*lead.render(console), *part.render(console)]
                strip = Strip(segments).adjust_cell_length(width)
                strips.append(strip.apply_style(style))  # the theme's, under all
            self._wraps[key] = strips
        return strips

    def _folded(self, stretch: Stretch) -> Text:
        """``  100ms ⋯ the GIL changed hands 12 times, 20 lane state changes, to 1.2s``."""
        events = self.events
        t0, t1 = format_time(events[stretch.first].t), format_time(events[stretch.last].t)
        until = f", to {t1}" if t1 != t0 else ""
        return Text.assemble(
            (f"{t0:>7} ", "grey62"), (f"⋯ {stretch.words()}{until}", "grey58 italic")
        )
