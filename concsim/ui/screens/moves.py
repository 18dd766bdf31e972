"""The run screen's keys for moving in time: one event on or back, the next or previous mark,
a time typed or clicked on the ruler, and panning the lanes while paused.

A base of ``RunScreen`` beside ``MarkKeys`` and ``SessionActions``; it relies on the screen's
``session``, ``lanes``, ``say``, ``update_view`` and its jobs (``Background``). Every move of
the playhead, whatever made it (a key, playback, a job done), ends in ``playhead_moved``:
the one place a view that follows the playhead hooks in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from concsim.durations import format_time
from concsim.events import Event
from concsim.ui.history import replayable, time_budget
from concsim.ui.jobs import JobKind
from concsim.ui.screens.work import Background
from concsim.ui.seeking import Found, far, known_next, next_mark, previous_mark
from concsim.ui.widgets.lanes import LanesView

if TYPE_CHECKING:
    from textual.screen import Screen

    from concsim.ui.session import Session
    from concsim.ui.why import Link

    _Base = Screen[None]
else:
    _Base = object

MARK_SECONDS = 0.01
"""Wall time ``>`` spends looking for the next mark at once; if it is further on, the
search goes on a frame at a time (``hunt``), so keys are still answered meanwhile."""
HUNT_SECONDS = 0.01
"""Wall time each frame spends on a search that goes on."""
PAN_SHARE = 4  # shift+←/→ pans a quarter of the bar


class PlayheadKeys(Background, _Base):
    """. , step one event; > < the next / previous mark; g a time; shift+←/→ pan."""

    _playhead: tuple[int, int, float] | None = None  # generation, events shown, now
    _hunt: tuple[object, int] | None = None
    """A search for the next mark that goes on: the run searched and the events it showed.
    Anything else that moves the playhead (a key, playback) ends it."""

    if TYPE_CHECKING:  # what RunScreen and MarkKeys provide
        session: Session
        playing: bool
        clock: Callable[[], float]
        mark: int | None
        chain: list[Link] | None

        @property
        def lanes(self) -> LanesView: ...
        @property
        def horizon(self) -> float: ...
        def say(self, message: str, **options: Any) -> None: ...
        def update_view(self, new: Sequence[Event]) -> None: ...
        def _light_chain(self, number: int) -> None: ...

    # --- the one path of a moving playhead --------------------------------------------------

    def playhead_moved(self) -> None:
        """Called on every redraw; acts when the playhead has moved (or the history was
        rebuilt) since the last call. Views that follow the playhead hook in here."""
        session = self.session
        where = (session.generation, session.seen, session.now)
        if where == self._playhead:
            return
        self._playhead = where
        lanes = self.lanes
        lanes.viewport.keep_in_view(lanes.columns.bar, session.now, self.horizon)

    # --- one event --------------------------------------------------------------------------

    def action_step(self) -> None:
        self.playing = False
        if self.busy():
            return
        self.stop_looking_ahead()
        if self.session.finished:
            self.say("The run has finished: r rewinds, , steps back.", timeout=3)
            return
        self.update_view(self.session.step())

    def action_step_back(self) -> None:
        self.playing = False
        session = self.session
        job = self.job
        if job is not None and job.kind is JobKind.END:
            self.cancel_job()  # the user changed their mind: back from what is shown
            job = None
        if not replayable(session.sim):
            self._step_back_live(job.target if job is not None else None)
            return
        if not session.seen:
            self.say("Already at the start.", timeout=2)
            return
        self.cancel_job()
        self.stop_looking_ahead()
        session.step_back()
        self.update_view([])

    def _step_back_live(self, latest: float | None) -> None:
        """A live run cannot show its history again: it is run again to the instant before."""
        session = self.session
        target = session.step_back_target(latest)
        if target is None:
            self.say("Already at the start.", timeout=2)
            return
        self.cancel_job()
        faults = len(session.injections)
        note = f"Back to {format_time(target)}: re-simulated from seed {session.seed}" + (
            f" with {faults} injection{'s' * (faults != 1)}." if faults else "."
        )
        self.resimulate(JobKind.BACK, session.again, target, note)

    # --- marks ------------------------------------------------------------------------------

    def action_jump(self, delta: int) -> None:
        """> the playhead on to the next mark on any lane; < back to the previous one. The
        mark landed on is selected (m / M go on from it, w explains it)."""
        self.playing = False
        if self.busy():
            return
        self.stop_looking_ahead()
        session = self.session
        if delta > 0:
            if session.finished:
                self.say("The run has finished: < goes back to the previous mark.", timeout=3)
                return
            known = known_next(session.run)
            if known is not None and far(session.run, known):
                session.show_event(known + 1)  # from the nearest checkpoint
                found = Found(known)
            else:
                found = next_mark(session.run, time_budget(MARK_SECONDS, self.clock))
            self.update_view([])
            if found.index is None:
                if found.further:
                    self._hunt = (session.run, session.run.seen)
                    self.say("Looking for the next mark… (any move stops)", timeout=2)
                    return
                self.say(found.why[:1].upper() + found.why[1:] + ".", timeout=3)
                return
            index = found.index
        else:
            if not replayable(session.sim):
                self.say("A live run cannot go back to a mark: r runs it again.", timeout=3)
                return
            back = previous_mark(session.run)
            if back is None:
                self.say("No mark before this one.", timeout=2)
                return
            index = back
            session.show_event(index + 1)
            self.update_view([])
        self._landed(index)

    def hunt(self) -> None:
        """A frame of a search for the next mark that ``>`` started (called by ``tick``)."""
        session = self.session
        hunt, self._hunt = self._hunt, None
        if hunt is None or hunt != (session.run, session.run.seen) or self.job is not None:
            return  # something else moved the playhead: the search is over
        found = next_mark(session.run, time_budget(HUNT_SECONDS, self.clock))
        self.update_view([])
        if found.index is not None:
            self._landed(found.index)
        elif found.further:
            self._hunt = (session.run, session.run.seen)
        else:
            self.say(found.why[:1].upper() + found.why[1:] + ".", timeout=3)

    def _landed(self, index: int) -> None:
        """Select the mark told by event ``index`` and say what it was."""
        session = self.session
        story, event = session.timeline.story, session.events[index]
        number = story.moment_at(index)
        if number is None:  # a result main received: a tick on main's row
            self.lanes.select_row("main")
            self.say(f"{format_time(event.t)}: {event.why}", timeout=6)
            return
        moment = story.moments[number]
        self.lanes.select_row(moment.row)
        self.mark = number
        if self.chain is None:
            self.lanes.light({moment.row: [(moment.t, moment.t)]})
        else:
            self._light_chain(number)
        self.say(f"{format_time(moment.t)}: {event.why} (w: why)", timeout=6)

    # --- seeking ----------------------------------------------------------------------------

    def action_seek(self) -> None:
        """g: type a time; the playhead goes there."""
        from concsim.ui.screens.seek import SeekScreen

        session = self.session
        self.playing = False
        self.app.push_screen(SeekScreen(session.now, session.elapsed), self._seek_typed)

    def _seek_typed(self, t: float | None) -> None:
        if t is not None:
            self.seek_to(t)

    def on_lanes_view_seek(self, message: LanesView.Seek) -> None:
        self.seek_to(message.t)

    def seek_to(self, t: float) -> None:
        """The playhead to ``t``: back at once (from a checkpoint), or on (past what a key
        may do here, in a job)."""
        self.playing = False
        session = self.session
        job = self.job
        if job is not None and job.kind is JobKind.END:
            self.cancel_job()
        if self.busy():
            return
        self.stop_looking_ahead()
        if t < session.now:
            if not replayable(session.sim):
                self.say("A live run cannot go back in time: r runs it again.", timeout=3)
                return
            session.seek(t)
            self.update_view([])
            return
        if session.finished:
            self.say(f"The run ended at {format_time(session.now)}.", timeout=3)
            return
        if not replayable(session.sim):
            self.update_view(session.advance_to(t))
            return
        run = session.run
        note = f"At {format_time(t)}."
        self.resimulate(
            JobKind.SEEK, partial(run.replay_to, session.seen, session.now), t, note, builds=False
        )

    # --- panning ----------------------------------------------------------------------------

    def action_pan(self, direction: int) -> None:
        """shift+← / shift+→: the lanes a quarter of their width earlier or later."""
        self.pan(direction * max(1, self.lanes.columns.bar // PAN_SHARE))

    def on_lanes_view_pan(self, message: LanesView.Pan) -> None:
        self.pan(message.columns)

    def pan(self, columns: int) -> None:
        if self.playing:
            self.say("The lanes follow the playhead while playing: space pauses, then pan.")
            return
        lanes = self.lanes
        if not lanes.viewport.pan(lanes.columns.bar, self.session.now, self.horizon, columns):
            self.say("The whole run is in view: + zooms in, then shift+←/→ pans.", timeout=3)
            return
        self.update_view([])
