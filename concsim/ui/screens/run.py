"""The run screen: lanes, status, event log, futures and notes over one session.

Playback belongs to the view: a wall-clock timer only *requests* virtual-time advances of
``speed * wall dt``; tests leave the app paused and drive virtual time themselves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Key, Resize

from concsim.events import Event
from concsim.ui.heap import Heap
from concsim.ui.history import replayable
from concsim.ui.jobs import INLINE, JobKind
from concsim.ui.keymap import RUN_BINDINGS
from concsim.ui.panels import FINISHED, PAUSED, PLAYING, STALLED, tasks_noun
from concsim.ui.screens.actions import SessionActions
from concsim.ui.screens.branching import BranchKeys
from concsim.ui.screens.code import CodeKeys
from concsim.ui.screens.footing import PAUSE, PLAY, Footing
from concsim.ui.screens.logview import LogKeys
from concsim.ui.screens.marks import MarkKeys
from concsim.ui.screens.moves import PlayheadKeys
from concsim.ui.session import Session, elapsed_by_variant
from concsim.ui.turns import FRAME_TURN, KEY_TURN
from concsim.ui.widgets.branchbar import BranchBar
from concsim.ui.widgets.code import CodeView
from concsim.ui.widgets.eventlog import EventLog
from concsim.ui.widgets.faultlist import FaultList
from concsim.ui.widgets.footer import KeysFooter
from concsim.ui.widgets.lanes import LanesView
from concsim.ui.widgets.panels import FuturesPanel, Legend, NotesPanel, StatusBar, VariantsBar

# From this many columns the notes sit beside the lanes, shown unless n hid them; below,
# n shows them in place of the log, futures and faults, under lanes kept at full width.
_SIDE = 120
_FRAME = 1 / 30
_TICK_WORK = 0.01  # wall seconds a playback frame may spend on the engine and the views
_TICK_MOST = 0.02  # ... at most, however late it comes (a key pressed meanwhile waits)
_TICK_CATCHING_UP = 0.03  # ... at most, a frame catching up
_CATCH_UP = 0.25  # wall seconds of virtual time a frame may make up for at most
_PANELS = 0.05  # wall seconds between two redraws of the log or the futures while playing
AUTO_SECONDS = 5.0  # wall seconds a run plays in at the speed chosen for it
AHEAD = 1.0  # wall seconds after the first frame: what a first key would build is built


def auto_speed(length: float) -> float:
    """The power of two nearest to ``length / AUTO_SECONDS``, from 1/64 to 64."""
    exponent = round(math.log2(max(length, 1e-9) / AUTO_SECONDS))
    return float(2.0 ** max(-6, min(6, exponent)))


def frame_work(dt: float, owed: bool) -> float:
    """Wall seconds a playback frame ``dt`` after the last may spend on the engine and the
    views: ``_TICK_WORK`` a frame at 30 frames a second, more for a frame that comes later
    (a busy machine draws fewer frames: each feeds what the wall time it covers needs, up
    to ``_TICK_MOST``), twice that for a frame catching up (``owed``), up to
    ``_TICK_CATCHING_UP``."""
    work = min(_TICK_MOST, _TICK_WORK * max(1.0, dt / _FRAME))
    return min(_TICK_CATCHING_UP, 2 * work) if owed else work


class RunScreen(Footing, CodeKeys, LogKeys, BranchKeys, MarkKeys, PlayheadKeys, SessionActions):
    """One scenario playing: press keys to step, rewind, and inject faults."""

    BINDINGS: ClassVar[list[BindingType]] = [*RUN_BINDINGS]

    def __init__(
        self,
        session: Session,
        *,
        speed: float | None = 1.0,
        paused: bool = False,
        clock: Callable[[], float],
        from_browser: bool = False,
        replay_dir: Path | None = None,
        prefetch: bool = False,
    ) -> None:
        super().__init__()
        self.prefetch = prefetch
        self.session = session
        # None: a speed that plays the run in about ``AUTO_SECONDS``, chosen once its length
        # is known (a 120 ms race would be over in half a second at any one fixed speed).
        self.auto_speed = speed is None
        self.speed = 0.25 if speed is None else speed
        self.start_paused = paused
        self.clock = clock
        # What a playback frame's work is counted in: the UI thread's own CPU time on the
        # real clock (on a loaded machine a frame waits for a core as long again as it
        # works, and a wall-clock budget would give that wait away as virtual time not
        # played); a clock of the caller's (tests) counts both.
        self.work_clock = time.thread_time if clock is time.monotonic else clock
        self.from_browser = from_browser
        self.replay_dir = replay_dir or Path.cwd()
        self.notes_choice: bool | None = None  # None: decided by the terminal's width
        self.elapsed: dict[str | None, float | None] = {}
        self._last_wall = clock()
        self._owed: dict[tuple[int, int], float] = {}  # virtual time the last frame fell short
        self._skipped = False  # the last playback frame fell short and drew nothing
        self._generation = -1
        self._engine: object = None  # the engine of the history shown
        self._panels_at = clock()
        self._log_turn = False  # which panel the next playback frame that draws one draws
        self.heap = Heap()
        self._legend_due = False
        self.answering = 0  # keys whose frame is not drawn yet: playback frames wait
        self._answer_by = 0.0

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield VariantsBar(id="variants")
        with Horizontal(id="body"):
            with Vertical(id="stage"):
                yield BranchBar(id="branch")
                yield LanesView(id="lanes")
                yield Legend(id="legend")
                with Horizontal(id="bottom"):
                    yield EventLog(id="log")
                    yield FuturesPanel(id="futures")
                    yield FaultList(id="faults")
            yield CodeView(id="code")
            yield NotesPanel(self.session.scenario, self.session.variant, id="notes")
        play = next(binding for binding in RUN_BINDINGS if binding.id == PLAY)
        yield KeysFooter(compact=True, steady={play.action: (play.description, PAUSE)})

    def say(self, message: str, **options: Any) -> None:
        """A notification in plain text: engine reasons and paths may hold brackets."""
        self.notify(message, markup=False, **options)

    def on_mount(self) -> None:
        self.query_one("#log").border_title = "events"
        self.query_one("#faults").border_title = "faults · del removes"
        self.query_one("#code").border_title = "code · click a line"
        self._measure_variants()
        if self.prefetch and self.expected is None:
            # Too long to measure here: a worker makes the history from now on, so that
            # playback (even at once, even at x1) moves the playhead over events made.
            self.look_ahead(big=True)
        self.update_view([])
        self.query_one(LanesView).focus()
        self.set_interval(_FRAME, self.tick)
        # Counted from the first frame drawn: on a busy machine that frame comes late.
        self.call_after_refresh(self.set_timer, AHEAD, self._ahead_of_keys)
        self.playing = not self.start_paused and not self.session.finished

    def _ahead_of_keys(self) -> None:
        """Once the first frame is drawn and the screen is still: the help laid out (on a
        worker) and every variant's notes built (hidden), so that the first ``?`` and the
        first ``v`` show what is built rather than build it."""
        from concsim.ui.screens.help import prepare_help  # not on the way to the first frame

        if not self.app.is_screen_installed("help-run"):
            prepare_help(self.app, RUN_BINDINGS, "run")
        self.query_one(NotesPanel).build_ahead()

    def choose_speed(self) -> None:
        """Once, when the run's length is first known: the speed that plays it in about
        ``AUTO_SECONDS`` (unless a speed was given, or chosen with ``[`` / ``]``)."""
        expected = self.expected
        if self.auto_speed and expected:
            self.auto_speed = False
            self.speed = auto_speed(expected)

    def _measure_variants(self, *, key: bool = False) -> None:
        """Each variant's length for the variants bar: here if that is quick, else on a
        worker thread (the bar shows … until it is done). For a ``key`` (``N``) on a run
        past ``INLINE`` events, on the worker at once: building a big scenario's engines
        alone takes tens of milliseconds a variant, more than a key may take."""
        session = self.session
        if key and session.seen > INLINE:
            self.elapsed = dict.fromkeys((None, *session.scenario.variant_names))
            self.measure_variants()
            return
        share = INLINE // (1 + len(session.scenario.variant_names))
        self.elapsed = elapsed_by_variant(session.scenario, session.seed, session.estimator, share)
        self.choose_speed()
        if None in self.elapsed.values():
            self.measure_variants()

    # --- keeping the widgets in step with the session ------------------------------------

    @property
    def lanes(self) -> LanesView:
        return self.query_one(LanesView)

    @property
    def horizon(self) -> float:
        session = self.session
        if session.elapsed is not None:
            return session.elapsed
        expected = self.expected or 0.0
        return max(expected, session.now)

    @property
    def expected(self) -> float | None:
        """The current variant's length with no injections, if measured."""
        return self.elapsed.get(self.session.variant)

    @property
    def mode(self) -> str:
        if self.session.finished:
            return FINISHED
        if self.session.stalled:
            return STALLED
        return PLAYING if self.playing else PAUSED

    def update_view(self, new: Sequence[Event], *, frame: bool = False) -> None:
        """Redraw from the session; a new generation (rewind, seed, variant) rebuilds all.
        ``frame``: called by a playback frame (the only caller that redraws the log and the
        futures while the run plays)."""
        session = self.session
        rebuilt = session.generation != self._generation
        if rebuilt and self._generation >= 0:
            if session.sim is not self._engine:
                self.heap.dropped()  # a run over another engine: the old one left cycles
            self.forget_marks()
        self._engine = session.sim
        self._generation = session.generation
        if rebuilt and self.ahead is not None and self.ahead.run is not session.run:
            self.stop_looking_ahead()  # its run is history
        self.follow_branches()
        lanes = self.lanes
        self.playhead_moved()
        lanes.show(session.timeline, session.now, self.horizon, session.run.made)
        lanes.styles.height = lanes.line_count + 1  # capped by max-height
        self.query_one(StatusBar).show(
            scenario=session.scenario.name,
            variant=session.variant,
            now=session.now,
            speed=self.speed,
            seed=session.seed,
            mode=self.mode,
            busy=self.job.progress if self.job is not None else None,
        )
        bar = self.query_one(VariantsBar)
        bar.set_class(not session.scenario.variants, "-none")
        bar.show(session.variant, self.elapsed, "v")
        # The legend names what the lanes show: now, in the same layout as the rest, and
        # again once the lanes have taken their new size (rows may have appeared).
        self.query_one(Legend).show(lanes.drawn())
        if not self._legend_due:
            self._legend_due = True
            self.call_after_refresh(self._show_legend)
        self.query_one(FaultList).show(session.injections)
        log = self.query_one(EventLog)
        if rebuilt:
            self.show_log()
        # While a run plays, the lanes and the clock move every frame; the text panels,
        # which cost more to draw than the rest together, follow a few times a second, in
        # playback frames only: a key pressed meanwhile (a speed, a lane, a zoom) is
        # answered with a frame that draws what it changed, not the log's backlog.
        # Those frames draw one of the two panels each, in turn, so that no frame draws
        # both: a key pressed during a frame waits for less.
        wall = self.clock()
        futures = self.query_one(FuturesPanel)
        noun = tasks_noun(session.scenario.variant(session.variant).program)
        both = not self.playing or rebuilt
        if both or (frame and (not new or wall - self._panels_at >= _PANELS)):
            self._panels_at = wall
            log_behind = log.known != session.seen
            if both:
                futures.show(session.ledger, noun)
            elif futures.behind(session.ledger, noun) and not (self._log_turn and log_behind):
                futures.show(session.ledger, noun)
                self._log_turn, log_behind = True, False
            else:
                self._log_turn = False
            if log_behind:
                log.feed(session.seen)
        if new or rebuilt:
            self.heap.settle()
        self.show_code()

    def repaint(self) -> None:
        """Draw everything again in the palette's new colours (the theme changed)."""
        self.lanes.forget_strips()
        self.query_one(Legend).forget()
        self.query_one(FuturesPanel).forget()
        self.query_one(EventLog).forget()
        self.update_view([])

    def on_lanes_view_resized(self, message: LanesView.Resized) -> None:
        self.query_one(Legend).show(self.lanes.drawn())

    def _show_legend(self) -> None:
        self._legend_due = False
        self.query_one(Legend).show(self.lanes.drawn())

    def on_lanes_view_selected(self, message: LanesView.Selected) -> None:
        if self.filter_log and self.chain is None:
            self.show_log()

    def on_key(self, event: Key) -> None:
        self.turns.claim(KEY_TURN)  # workers stand aside while the key is answered
        # Playback frames stand aside too, until the key's own frame is drawn: a frame of
        # a big run feeding the views in between would delay it by as much.
        self.answering += 1
        self._answer_by = self.clock() + KEY_TURN  # at the latest: a frame never waits longer
        self.call_after_refresh(self._answered)

    def _answered(self) -> None:
        self.answering = max(0, self.answering - 1)

    def on_resize(self, event: Resize) -> None:
        beside = event.size.width >= _SIDE
        self.narrow = not beside
        self.set_class(self.narrow, "-narrow")  # a resize restyles all anyway
        self.notes_on = beside if self.notes_choice is None else self.notes_choice
        self.place()
        self._title_notes()
        self.lay_out_footer(event.size.width)

    def _title_notes(self) -> None:
        title = "notes · n closes" if self.narrow else None
        notes = self.query_one(NotesPanel)
        if notes.border_title != title:
            notes.border_title = title  # set again, it would draw the panel again

    # --- playback ----------------------------------------------------------------------

    def tick(self) -> None:
        if self.answering and self.playing and self.clock() < self._answer_by:
            return  # the wall time since the last frame is played by the next one
        wall = self.clock()
        dt, self._last_wall = wall - self._last_wall, wall
        if self._hunt is not None and not self.playing:
            self.hunt()
        if not self.playing or self.job is not None:
            return
        if self.session.finished:
            self.playing = False
            return
        if self.session.stalled:
            # Virtual time would pass forever with nothing to show; stop and say why.
            self.playing = False
            self.say(
                "Nothing can happen by itself any more: the program is deadlocked or hung. "
                "Inject a fault (i is Ctrl-C), press . to end it as hung, or r to rewind.",
                title="stalled",
                severity="warning",
                timeout=8,
            )
            return
        # A stalled frame (a slow terminal, a suspended process) must not leap ahead, and
        # a frame spends at most _TICK_WORK on the engine and the views; what it could not
        # reach is owed to the next frames (up to _CATCH_UP of wall time), so that a busy
        # run keeps the speed by drawing fewer frames, not by losing virtual time.
        session = self.session
        owed = self._owed.pop((session.generation, session.seen), 0.0)
        target = session.now + self.speed * min(dt, _CATCH_UP) + owed
        # A frame catching up may take twice the time: one of two such frames draws nothing.
        work = frame_work(dt, bool(owed))
        deadline = (wall if self.work_clock is self.clock else self.work_clock()) + work
        self.turns.claim(max(FRAME_TURN, work + _TICK_WORK / 2))
        budget = lambda: self.work_clock() > deadline  # noqa: E731
        ahead = self.ahead if self.look_ahead() else None
        if ahead is not None and (session.made(target) or not ahead.done.is_set()):
            # A worker runs the engine ahead: only the playhead moves, over events made
            # (should the engine lag behind, the playback waits for it).
            new = session.show_made(target, budget)
        elif self.ahead is not None and self.ahead.error is not None:
            self.playing = False
            self.say(f"The simulation failed: {self.ahead.error}", severity="error")
            return
        else:
            new = session.advance_to(target, budget)
        short = self.playing and not session.finished and session.now < target
        if short:
            # Owed only if nothing else moves the playhead first (a key, a job).
            owed = min(target - session.now, self.speed * _CATCH_UP)
            self._owed = {(session.generation, session.seen): owed}
        if short and new and not self._skipped:
            # Behind: this frame's time goes to catching up, the next one draws (every
            # other frame at least is drawn, so the screen still moves).
            self._skipped = True
            return
        self._skipped = False
        self.update_view(new, frame=True)

    def advance_to(self, t: float) -> None:
        """Run virtual time forward to ``t`` (tests call this instead of waiting)."""
        self.update_view(self.session.advance_to(t))

    @property
    def is_playing(self) -> bool:
        return self.playing

    def watch_playing(self, playing: bool) -> None:
        self.refresh_bindings()  # the footer's play key: Play, or Pause while playing
        self._last_wall = self.clock()
        self._owed = {}
        self.lanes.pannable = not playing  # paused: the mouse wheel over the bars pans
        if playing:
            self.lanes.viewport.follow()
        self.update_view([])

    def action_toggle_play(self) -> None:
        if self.busy():
            return
        if self.session.finished:
            self.say("The run has finished: r rewinds, , steps back.", timeout=3)
            return
        self.playing = not self.playing

    def action_to_end(self) -> None:
        self.playing = False
        if not self.busy():
            self.run_to_end()

    def action_rewind(self) -> None:
        self.playing = False
        self.cancel_job()
        session = self.session
        faults = len(session.injections)
        note = None
        if faults:
            they = (
                "1 injected fault stays and lands"
                if faults == 1
                else f"{faults} injected faults stay and land"
            )
            note = (
                f"Rewound to 0; the {they} again as it plays (delete removes the highlighted one)."
            )
        again = replayable(session.sim) and not session.taking_back
        self.resimulate(JobKind.REWIND, session.again, 0.0, note, builds=not again)

    def action_select(self, delta: int) -> None:
        self.lanes.move(delta)

    def action_speed(self, factor: float) -> None:
        self.auto_speed = False
        self.speed = min(64.0, max(1 / 64, self.speed * factor))
        self._owed = {}  # owed at the old speed
        self.update_view([])

    def action_zoom(self, how: str) -> None:
        lanes = self.lanes
        viewport, width = lanes.viewport, lanes.columns.bar
        # Paused, the zoom keeps the middle of the window where it is, not the playhead.
        if how == "in":
            viewport.zoom_in(width, self.session.now, self.horizon, stay=not self.playing)
        elif how == "out":
            viewport.zoom_out(width, self.session.now, self.horizon, stay=not self.playing)
        else:
            viewport.zoom_fit()
        self.update_view([])

    def action_toggle_notes(self) -> None:
        # Beside the lanes the notes and the code take turns: n brings the notes back.
        self.notes_choice = self.notes_on = not self.notes_on or self.code_on
        if self.notes_choice:
            self.code_on = False
        self.place()
        self._title_notes()

    def action_notes_page(self, pages: int) -> None:
        """PgDn / PgUp: the notes a page on or back (their "Try this" is often below)."""
        notes = self.query_one(NotesPanel)
        if not notes.display or notes.size.height <= 0:
            self.say("The notes are not shown: n shows them.", timeout=2)
            return
        if pages > 0:
            notes.scroll_page_down(animate=False)
        else:
            notes.scroll_page_up(animate=False)

    def action_help(self) -> None:
        from concsim.ui.screens.help import show_help  # laid out ahead (_ahead_of_keys)

        show_help(self.app, RUN_BINDINGS, "run")

    def action_back(self) -> None:
        if self.from_browser:
            self.playing = False
            self.dismiss()
            return
        self.say(
            "This run was opened by name, so there is no browser to go back to: "
            "q quits, and concsim with no arguments opens the browser.",
            timeout=4,
        )
