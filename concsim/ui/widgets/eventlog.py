"""The event log: each event's one-sentence why, newest at the bottom, filterable by lane."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from textual.events import Resize
from textual.widgets import RichLog

from concsim.events import Event
from concsim.ui.panels import event_line

Keep = Callable[[Event], bool]
_BACKLOG = 300  # events written when the log is rebuilt (rewind, filter change)


class EventLog(RichLog):
    """A RichLog fed incrementally; rebuilt from the history only when the view changes."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(wrap=True, max_lines=1000, markup=False, min_width=20, id=id)
        self.keep: Keep | None = None

    def on_resize(self, event: Resize) -> None:
        super().on_resize(event)
        # The newest line stays in view when the log changes size (new lanes push it down,
        # notes narrow it): RichLog keeps the old offset, which then shows older lines.
        self.scroll_end(animate=False, x_axis=False)

    def rebuild(self, events: Sequence[Event], keep: Keep | None) -> None:
        self.keep = keep
        self.clear()
        picked: list[Event] = []
        for event in reversed(events):
            if keep is None or keep(event):
                picked.append(event)
                if len(picked) >= _BACKLOG:
                    break
        self.append(reversed(picked), filtered=True)

    def append(self, events: Iterable[Event], *, filtered: bool = False) -> None:
        for event in events:
            if filtered or self.keep is None or self.keep(event):
                self.write(event_line(event), scroll_end=True)
