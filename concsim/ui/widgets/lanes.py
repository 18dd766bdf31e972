"""The lanes view: one line per lane, drawn with the line API from cached strips."""

from __future__ import annotations

from typing import Any

from textual.cache import LRUCache
from textual.events import Click, MouseScrollDown, MouseScrollLeft, MouseScrollRight, MouseScrollUp
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from concsim import palette
from concsim.ui.cells import Window, carry_memo, drawn_columns
from concsim.ui.draw import Columns, draw_lane, draw_ruler, longest_title
from concsim.ui.ghost import draw_ghost
from concsim.ui.layers import moment_layers
from concsim.ui.legend import Key
from concsim.ui.timeline import Timeline, Track
from concsim.ui.viewport import Viewport


class Ghost:
    """The run a branch left, to draw faintly under the branch's lanes: its timeline to the
    end, the branch's name for it, and where the branch was forked."""

    def __init__(self, timeline: Timeline, end: float, at: float, name: str) -> None:
        self.timeline, self.end, self.at, self.name = timeline, end, at, name


class LanesView(ScrollView, can_focus=True):
    """Row 0 is the time ruler and stays put; the lanes scroll under it."""

    DEFAULT_CSS = """
    LanesView { overflow-x: hidden; scrollbar-size-vertical: 1; }
    """

    selected: reactive[int] = reactive(0, init=False)

    class Selected(Message):
        """A lane was chosen (arrow keys or a click)."""

        def __init__(self, row_id: str) -> None:
            self.row_id = row_id
            super().__init__()

    class Seek(Message):
        """The ruler was clicked: the playhead to ``t``."""

        def __init__(self, t: float) -> None:
            self.t = t
            super().__init__()

    class Resized(Message):
        """The view took a new size: other rows are on screen (the legend names them)."""

    class Pan(Message):
        """The mouse wheel turned over the bars while the time may be panned (paused)."""

        def __init__(self, columns: int) -> None:
            self.columns = columns
            super().__init__()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeline = Timeline()
        self.history: object | None = None  # what the timeline folds (see ``show``)
        self.viewport = Viewport()
        self.now = 0.0
        self.horizon = 1.0
        self.selected_id = "main"  # selection follows the row, not its index, as rows appear
        # Lit columns by row: the selected moment and a why chain (set by the run screen).
        self.lit: dict[str, list[tuple[float, float]]] = {}
        self.lit_version = 0
        self._cache: LRUCache[tuple[Any, ...], tuple[Strip, frozenset[Key]]] = LRUCache(1024)
        self.pannable = True  # paused: the wheel over the bars pans the time (set by the screen)
        self.ghost: Ghost | None = None
        # What each line under the ruler draws: a row of the timeline (its index), or a
        # ghost row (the ghost's track of that lane, or None) under it while branched.
        self.lines: list[tuple[int, bool]] = []
        self._line_of: dict[int, int] = {}  # a row's line
        self._layout: tuple[list[Track] | None, int, bool] = (None, -1, True)
        self._links: tuple[tuple[int, int], dict[str, str]] = ((-1, -1), {})

    @property
    def line_count(self) -> int:
        """Lines under the ruler: one per row, two per row with a ghost."""
        return len(self.lines)

    def haunt(self, ghost: Ghost | None) -> None:
        """Draw ``ghost`` under the lanes (None: no more)."""
        if ghost is not self.ghost:
            self.ghost = ghost
            self._cache.clear()  # its rows are cached by the ghost's id, which may be reused
            self.show(self.timeline, self.now, self.horizon)

    # --- what to draw ------------------------------------------------------------------

    def show(
        self, timeline: Timeline, now: float, horizon: float, history: object | None = None
    ) -> None:
        """Draw this timeline up to ``now``; ``horizon`` is the expected length of the run.
        Timelines of one ``history`` (the same events, fed to another point: a step back, a
        jump) share what is drawn: a row's strip by its version, its final columns."""
        if timeline is not self.timeline:
            if history is None or history is not self.history:
                self._cache.clear()
            else:
                for row_id, row in timeline.tracks.items():
                    old = self.timeline.tracks.get(row_id)
                    if old is not None:
                        carry_memo(old, row, now)
            self.timeline, self.history = timeline, history
            self.light({})
        self.now = now
        ghost = self.ghost
        self.horizon = horizon if ghost is None else max(horizon, ghost.end)
        rows = timeline.rows
        seen, count, ghostless = self._layout
        if rows is not seen or len(rows) != count or (ghost is None) != ghostless:
            # Rows appeared (the timeline's list is rebuilt), or a ghost came or went.
            self._layout = (rows, len(rows), ghost is None)
            self.lines = []
            for index, row in enumerate(rows):
                self.lines.append((index, False))
                if ghost is not None and not row.is_gil:  # a ghost of each lane, not the GIL's
                    self.lines.append((index, True))
            self._line_of = {
                index: line for line, (index, ghostly) in enumerate(self.lines) if not ghostly
            }
        self.virtual_size = Size(self.size.width, len(self.lines) + 1)
        track = self.selected_track
        if track is None or track.row_id != self.selected_id:
            # A row appeared above (a GIL row is made by the first GIL event) or the history
            # was rebuilt: keep the same lane selected, quietly.
            index = next((i for i, t in enumerate(rows) if t.row_id == self.selected_id), 0)
            self.set_reactive(LanesView.selected, min(index, max(0, len(rows) - 1)))
        self.refresh()

    @property
    def columns(self) -> Columns:
        longest = longest_title(self.timeline.rows)
        return Columns.for_width(self.scrollable_content_region.width, longest)

    @property
    def window(self) -> Window:
        return self.viewport.window(self.columns.bar, self.now, self.horizon)

    @property
    def selected_track(self) -> Track | None:
        rows = self.timeline.rows
        return rows[self.selected] if 0 <= self.selected < len(rows) else None

    def select_row(self, row_id: str) -> bool:
        for index, track in enumerate(self.timeline.rows):
            if track.row_id == row_id:
                self.selected = index
                self.selected_id = row_id
                return True
        return False

    def move(self, delta: int) -> None:
        """Select the lane ``delta`` lanes away: ↑/↓ pass over GIL rows, which no fault key
        acts on (a click still selects one, to ask why it is held)."""
        rows = self.timeline.rows
        lanes = [index for index, track in enumerate(rows) if not track.is_gil]
        if not lanes:
            return
        here = next((k for k, index in enumerate(lanes) if index >= self.selected), len(lanes))
        if here < len(lanes) and lanes[here] != self.selected and delta > 0:
            delta -= 1  # on a GIL row: the next lane down is the first step
        self.selected = lanes[max(0, min(len(lanes) - 1, here + delta))]

    def watch_selected(self, old: int, new: int) -> None:
        track = self.selected_track
        height = self.scrollable_content_region.height - 1  # the ruler takes one line
        top = round(self.scroll_y)
        line = self._line_of.get(new, new)
        if height > 0 and line < top:
            self.scroll_to(y=line, animate=False)
        elif height > 0 and line >= top + height:
            self.scroll_to(y=line - height + 1, animate=False)
        self.refresh()
        if track is not None:
            self.selected_id = track.row_id
            self.post_message(self.Selected(track.row_id))

    def light(self, lit: dict[str, list[tuple[float, float]]]) -> None:
        """Light these spans of time on these rows (an empty dict puts the lights out)."""
        if lit != self.lit:
            self.lit = lit
            self.lit_version += 1
            self.refresh()

    def forget_strips(self) -> None:
        """Draw every row anew (the palette's colours changed)."""
        self._cache.clear()
        self.refresh()

    # --- drawing -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = self.columns
        window = self.viewport.window(columns.bar, self.now, self.horizon)
        if y == 0:
            return Strip(draw_ruler(window, self.now, columns), width).apply_style(self.rich_style)
        line = y - 1 + round(self.scroll_y)
        if line >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        index, ghostly = self.lines[line]
        if ghostly:
            return self._ghost_row(index, window, columns, width)
        return self._row(index, window, columns, width)[0]

    def _ghost_row(self, index: int, window: Window, columns: Columns, width: int) -> Strip:
        ghost = self.ghost
        assert ghost is not None, "ghost rows exist only while there is a ghost"
        track = ghost.timeline.tracks.get(self.timeline.rows[index].row_id)
        key = ("ghost", id(ghost), index, window, columns)
        found = self._cache.get(key)
        if found is None:
            segments = draw_ghost(track, window, ghost.end, columns, at=ghost.at, name=ghost.name)
            found = (Strip(segments, width).apply_style(self.rich_style), frozenset())
            self._cache[key] = found
        return found[0]

    def _row(
        self, index: int, window: Window, columns: Columns, width: int
    ) -> tuple[Strip, frozenset[Key]]:
        """Row ``index`` drawn, with what it shows (the legend's entries)."""
        timeline = self.timeline
        track = timeline.rows[index]
        selected = index == self.selected
        waits = None if track.is_gil else timeline.story.waits(timeline, track)
        link = self.cycle_links().get(track.row_id)
        lit = self.lit.get(track.row_id)
        # A row's picture changes only when its track, the window, the playhead's column, the
        # lights or what it waits for do; while paused or scrolling every line is cached.
        key = (
            track.row_id,
            track.version,
            window,
            drawn_columns(window, self.now),
            selected,
            columns,
            waits,
            link,
            self.lit_version if lit else 0,
        )
        found = self._cache.get(key)
        if found is None:
            drawn: set[Key] = set()
            layers = moment_layers(window, self.now, lit) if lit else None
            segments = draw_lane(
                track,
                window,
                self.now,
                columns,
                selected=selected,
                story=timeline.story,
                lit=layers,
                waits=waits,
                link=link,
                drawn=drawn,
            )
            # Under every cell the widget's own colours: a cell with none would show the
            # terminal's default background, dark under a light theme.
            strip = Strip(segments, width).apply_style(self.rich_style)
            found = (strip, frozenset(drawn))
            self._cache[key] = found
        return found

    def cycle_links(self) -> dict[str, str]:
        """Each row's piece of the deadlock cycle at the playhead: its ends, the rows of the
        cycle and the rows it passes between them (empty: no cycle)."""
        timeline = self.timeline
        key = (id(timeline), timeline.count)
        if self._links[0] != key:
            rows = [track.row_id for track in timeline.rows]
            cycle = timeline.story.deadlock(rows)
            links: dict[str, str] = {}
            if cycle:
                joined = {link.lane for link in cycle}
                places = [k for k, row in enumerate(rows) if row in joined]
                top, bottom = places[0], places[-1]
                first, member, passed, last = palette.CYCLE_GLYPHS
                for k in range(top, bottom + 1):
                    inner = member if rows[k] in joined else passed
                    links[rows[k]] = first if k == top else last if k == bottom else inner
                if top == bottom:
                    links[rows[top]] = member  # a lane waiting for a lock it holds itself
            self._links = (key, links)
        return self._links[1]

    def drawn(self) -> set[Key]:
        """What the rows on screen show, drawn now if not cached: the legend's entries."""
        width = self.scrollable_content_region.width
        height = self.scrollable_content_region.height - 1  # under the ruler
        if width <= 0 or height <= 0:
            return set()
        columns = self.columns
        window = self.viewport.window(columns.bar, self.now, self.horizon)
        top = round(self.scroll_y)
        shown: set[Key] = set()
        for index, ghostly in self.lines[top : top + height]:
            if not ghostly:
                shown |= self._row(index, window, columns, width)[1]
        return shown

    def time_at(self, x: int) -> float | None:
        """The time at the start of the bar's column under content column ``x``."""
        columns = self.columns
        col = x - columns.name
        if not 0 <= col < columns.bar:
            return None
        window = self.window
        return max(0.0, window.t0 + col * window.dt)

    def on_resize(self) -> None:
        self.post_message(self.Resized())

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            t = self.time_at(offset.x)
            if t is not None:
                self.post_message(self.Seek(t))
            return
        line = offset.y - 1 + round(self.scroll_y)
        if line < len(self.lines):
            self.selected = self.lines[line][0]  # a ghost row selects the lane above it
            self.focus()

    def _over_bars(self, event: MouseScrollDown | MouseScrollUp) -> bool:
        offset = event.get_content_offset(self)
        return offset is not None and self.time_at(offset.x) is not None

    def _on_mouse_scroll_down(self, event: MouseScrollDown) -> None:
        if self.pannable and self._over_bars(event):
            event.prevent_default()
            event.stop()
            self.post_message(self.Pan(_WHEEL))

    def _on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        if self.pannable and self._over_bars(event):
            event.prevent_default()
            event.stop()
            self.post_message(self.Pan(-_WHEEL))

    def _on_mouse_scroll_right(self, event: MouseScrollRight) -> None:
        event.prevent_default()
        event.stop()
        self.post_message(self.Pan(_WHEEL))

    def _on_mouse_scroll_left(self, event: MouseScrollLeft) -> None:
        event.prevent_default()
        event.stop()
        self.post_message(self.Pan(-_WHEEL))


_WHEEL = 4  # columns a turn of the mouse wheel pans
