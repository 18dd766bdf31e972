"""The event log's keys, mixed into ``RunScreen``: ``e`` keeps the selected lane's events,
``E`` cycles what kind of events it shows (the story, with the routine folded into one
line per stretch, by default; ``concsim.ui.logrows``), and a lit why chain shows its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from concsim.events import Event
from concsim.ui.logrows import LogKind
from concsim.ui.widgets.eventlog import EventLog

if TYPE_CHECKING:
    from concsim.ui.screens.marks import MarkKeys

    _Base = MarkKeys
else:
    _Base = object


class LogKeys(_Base):
    """What the event log shows."""

    filter_log = False
    log_kind = LogKind.STORY

    def show_log(self) -> None:
        """Show the log through its filter now: a why chain's events, or the selected lane's
        of the kind chosen with ``E`` (the story, folded, by default)."""
        log = self.query_one(EventLog)
        track = self.lanes.selected_track
        kind = self.log_kind
        if self.chain is not None:
            log.border_title = f"why · w again for the {kind.value}"
        else:
            whose = f"events of {track.row_id}" if self.filter_log and track else "events"
            log.border_title = f"{whose} · {kind.value} · E {kind.next().value}"
        fold = self.chain is None and kind.folds
        log.rebuild(self.session.events, self.session.seen, self._log_filter(), fold=fold)

    def _log_filter(self) -> Callable[[Event], bool] | None:
        if self.chain is not None:
            return self.chain_filter()
        kind = self.log_kind.keeps()
        track = self.lanes.selected_track
        if not self.filter_log or track is None:
            return kind
        timeline, row_id = self.session.timeline, track.row_id
        if kind is None:
            return lambda event: timeline.involves(event, row_id)
        return lambda event: kind(event) and timeline.involves(event, row_id)

    def action_filter_log(self) -> None:
        self.filter_log = not self.filter_log
        self.chain = None
        self.lanes.light({})
        self.show_log()

    def action_log_kind(self) -> None:
        self.log_kind = self.log_kind.next()
        self.chain = None
        self.lanes.light({})
        self.show_log()
