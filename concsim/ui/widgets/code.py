"""The code view: the program ``concsim code`` writes, each lane's current line marked.

Drawn with the line API: a frame draws only the lines on screen, each from a cache keyed by
the lanes on it, so its cost follows the view's height, not the program's length or the
run's. The lanes' lines come from a fold of the events up to the playhead (``codemap``),
moved by ``follow`` whenever the run screen moves the playhead, and only while shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from textual.cache import LRUCache
from textual.events import Click
from textual.geometry import Region, Size
from textual.markup import parse_style
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style as VisualStyle

from concsim.ui.codedraw import Here, draw_code_line, gutter_width

if TYPE_CHECKING:
    from concsim.codegen import Program
    from concsim.ui.codecursor import CodeCursor
    from concsim.ui.codemap import Whereabouts
    from concsim.ui.session import Session

SLICE = 20_000
"""Events the fold reads per turn of the event loop (a few tens of milliseconds at most)."""


class CodeView(ScrollView, can_focus=False):
    """The current variant's program, one line per row, the lanes at the playhead on it.

    It never takes the focus: the keys (arrows, home, end) stay with the lanes, and the view
    follows the playhead by itself; the mouse wheel scrolls it."""

    DEFAULT_CSS = """
    CodeView { overflow-x: hidden; scrollbar-size-vertical: 1; }
    """

    class LinePicked(Message):
        """A line was clicked: the lanes on it at the playhead (maybe none)."""

        def __init__(self, line: int, lanes: list[str]) -> None:
            self.line = line
            self.lanes = lanes
            super().__init__()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.program: Program | None = None
        self.problem: str | None = None  # why there is no program to show
        self._key: tuple[int, str | None] | None = None  # (scenario, variant) shown
        self.cursor: CodeCursor | None = None
        self.fold: Whereabouts | None = None
        self.by_line: dict[int, tuple[Here, ...]] = {}
        self.selected: str | None = None
        self.picked: int | None = None  # the line last clicked
        self.drawn = 0  # lines drawn anew (what the cache saves)
        self._source: list[str] = []
        self._code: dict[str, list[list[Segment]]] = {}  # highlighted lines, by theme
        self._cache: LRUCache[tuple[Any, ...], Strip] = LRUCache(512)
        self._shown: tuple[int, int] | None = None  # (events list, count) last followed
        self._reveal: int | None = None  # a line to bring into view once there is a size
        self.behind = False  # the fold has not reached the playhead yet
        self._moves = -1  # the fold's count of moves last drawn

    # --- what to show ------------------------------------------------------------------

    def follow(self, session: Session, selected: str | None) -> None:
        """Mark the lanes' lines at the session's playhead; the selected lane's line is
        scrolled into view when it moves. Costs nothing while the view is hidden."""
        if not self.display or not self.is_attached:
            return
        key = (id(session.scenario), session.variant)
        if key != self._key:
            self._load(session, key)
        if self.cursor is None:
            return
        events, seen = session.events, session.seen
        shown = (id(events), seen)
        if shown != self._shown or selected != self.selected or self.behind:
            self._shown = shown
            before = self.line_of(self.selected)
            cursor = self.cursor
            fold = cursor.at(events, seen, limit=SLICE)
            self.behind = cursor.fed < seen
            if self.behind:
                # A long history, just opened or jumped over: read it a slice a turn, keys
                # answered between, and mark no lane until the playhead is reached.
                self.fold, self.by_line = None, {}
                self.border_subtitle = f"reading the run {100 * cursor.fed // seen}%"
                self.call_later(self.follow, session, selected)
                self.refresh()
                return
            if self.border_subtitle is not None:
                self.border_subtitle = None  # (setting it costs a redraw of the screen's styles)
            changed = fold is not self.fold or fold.moves != self._moves
            self.fold, self._moves = fold, fold.moves
            moved = selected != self.selected
            self.selected = selected
            if not (changed or moved):
                return  # every lane on the line it was on: nothing to draw
            redraw = self._place_lanes()
            line = self.line_of(selected)
            if line is not None and (moved or line != before):
                self.call_after_refresh(self.reveal, line)  # once the layout knows the size
            if moved:
                self.refresh()
            else:
                self._refresh_lines(redraw)

    def line_of(self, lane: str | None) -> int | None:
        if lane is None or self.fold is None:
            return None
        where = self.fold.lanes.get(lane)
        return where.line if where is not None else None

    def lanes_on(self, line: int) -> list[str]:
        return [] if self.fold is None else self.fold.on_line(line)

    def since(self, lane: str) -> float | None:
        """When ``lane`` came to the line it is on."""
        where = None if self.fold is None else self.fold.lanes.get(lane)
        return None if where is None or where.line is None else where.since

    def reveal(self, line: int) -> None:
        """Scroll so that ``line`` is in view, a third of the way down if it was not (once
        the view has a size, if it has none yet)."""
        height = self.scrollable_content_region.height
        self._reveal = line if height <= 0 else None
        top = round(self.scroll_y)
        if height > 0 and not top <= line - 1 < top + height:
            self.scroll_to(y=max(0, line - 1 - height // 3), animate=False)

    def _load(self, session: Session, key: tuple[int, str | None]) -> None:
        self._key = key
        self._code.clear()
        self._cache.clear()
        self._shown = None
        self.fold = None
        self.picked = None
        # The code generator, the fold and the highlighter are imported when the view is
        # first shown: the run screen opens with it hidden, and they cost its start.
        from concsim.codegen import program
        from concsim.ui.codecursor import CodeCursor
        from concsim.ui.codemap import SiteIndex

        try:
            self.program = program(session.scenario, session.variant)
        except Exception as error:  # a program that cannot be written is said, not raised
            self.program, self.cursor = None, None
            self.problem = f"No program for this scenario: {error}"
            self._source = [self.problem]
        else:
            self.problem = None
            self.cursor = CodeCursor(SiteIndex(self.program))
            self._source = self.program.source.splitlines()
        self.virtual_size = Size(self.size.width, len(self._source))

    def _place_lanes(self) -> set[int]:
        """Group the lanes by line; returns the lines whose lanes changed."""
        fold = self.fold
        by_line: dict[int, list[Here]] = {}
        if fold is not None:
            for hue, (lane, where) in enumerate(fold.lanes.items()):
                if where.line is not None:
                    here = Here(lane, hue, lane == self.selected)
                    by_line.setdefault(where.line, []).append(here)
        old, self.by_line = self.by_line, {line: tuple(here) for line, here in by_line.items()}
        return {
            line
            for line in old.keys() | self.by_line.keys()
            if old.get(line) != self.by_line.get(line)
        }

    def _refresh_lines(self, lines: set[int]) -> None:
        """Redraw these lines where they are on screen (a whole refresh costs far more)."""
        top, height = round(self.scroll_y), self.scrollable_content_region.height
        width = self.scrollable_content_region.width
        for line in lines:
            if top <= line - 1 < top + height:
                self.refresh(Region(0, line - 1 - top, width, 1))

    # --- drawing -----------------------------------------------------------------------

    def _highlighted(self) -> list[list[Segment]]:
        """Each line of the program highlighted in the app's theme (made once per theme)."""
        theme = self.app.theme
        lines = self._code.get(theme)
        if lines is None:
            if self.program is None:
                lines = [[Segment(text)] for text in self._source]
            else:
                lines = self._highlight(self.program.source)
            self._code[theme] = lines
        return lines

    def _highlight(self, source: str) -> list[list[Segment]]:
        variables = self.app.theme_variables
        base = self.visual_style
        cache: dict[str, VisualStyle] = {}

        def style_of(style: str | VisualStyle) -> VisualStyle:
            if isinstance(style, VisualStyle):
                return style
            found = cache.get(style)
            if found is None:
                found = cache[style] = parse_style(style, variables)
            return found

        from textual.highlight import highlight  # pygments: only once the view is shown

        content = highlight(source, language="python")
        return [
            [
                Segment(text, (base + style).rich_style)
                for text, style in line.render(base, end="", parse_style=style_of)
            ]
            for line in content.split("\n", allow_blank=True)
        ]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        number = y + round(self.scroll_y) + 1
        if number > len(self._source) or width <= 0:
            return Strip.blank(width, self.rich_style)
        here = self.by_line.get(number, ())
        picked = number == self.picked
        key = (number, here, picked, width, self.app.theme)
        strip = self._cache.get(key)
        if strip is None:
            self.drawn += 1
            lines = self._highlighted()
            code = lines[number - 1] if number - 1 < len(lines) else []
            digits = gutter_width(len(self._source)) - 3
            segments = draw_code_line(number, code, here, width, digits, picked=picked)
            strip = Strip(segments, width).apply_style(self.rich_style)
            self._cache[key] = strip
        return strip

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._source))
        if self._reveal is not None:
            self.call_after_refresh(self.reveal, self._reveal)

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        line = offset.y + round(self.scroll_y) + 1
        if line > len(self._source):
            return
        self.picked = line
        self.refresh()
        self.post_message(self.LinePicked(line, self.lanes_on(line)))
