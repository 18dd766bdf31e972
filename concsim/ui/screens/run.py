"""The run screen: lanes, status, event log, futures and notes over one session.

Playback belongs to the view: a wall-clock timer only *requests* virtual-time advances of
``speed * wall dt``; tests leave the app paused and drive virtual time themselves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Key, Resize
from textual.widgets import Footer

from concsim.durations import format_time
from concsim.events import Event
from concsim.ui.heap import Heap
from concsim.ui.history import replayable
from concsim.ui.jobs import INLINE, JobKind
from concsim.ui.keymap import RUN_BINDINGS
from concsim.ui.panels import FINISHED, PAUSED, PLAYING, STALLED
from concsim.ui.screens.actions import SessionActions
from concsim.ui.screens.marks import MarkKeys
from concsim.ui.session import Session, elapsed_by_variant
from concsim.ui.turns import FRAME_TURN, KEY_TURN
from concsim.ui.widgets.eventlog import EventLog
from concsim.ui.widgets.faultlist import FaultList
from concsim.ui.widgets.lanes import LanesView
from concsim.ui.widgets.panels import FuturesPanel, Legend, NotesPanel, StatusBar, VariantsBar

# From this many columns the notes sit beside the lanes, shown unless n hid them; below,
# n shows them in place of the log, futures and faults, under lanes kept at full width.
_SIDE = 120
_FRAME = 1 / 30
_TICK_WORK = 0.01  # wall seconds of engine work a playback frame may spend at most
_PANELS = 0.1  # wall seconds between two redraws of the log and futures while playing
AUTO_SECONDS = 5.0  # wall seconds a run plays in at the speed chosen for it


def auto_speed(length: float) -> float:
    """The power of two nearest to ``length / AUTO_SECONDS``, from 1/64 to 64."""
    exponent = round(math.log2(max(length, 1e-9) / AUTO_SECONDS))
    return float(2.0 ** max(-6, min(6, exponent)))


class RunScreen(MarkKeys, SessionActions):
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
    ) -> None:
        super().__init__()
        self.session = session
        # None: a speed that plays the run in about ``AUTO_SECONDS``, chosen once its length
        # is known (a 120 ms race would be over in half a second at any one fixed speed).
        self.auto_speed = speed is None
        self.speed = 0.25 if speed is None else speed
        self.start_paused = paused
        self.clock = clock
        self.from_browser = from_browser
        self.replay_dir = replay_dir or Path.cwd()
        self.filter_log = False
        self.notes_choice: bool | None = None  # None: decided by the terminal's width
        self.elapsed: dict[str | None, float | None] = {}
        self._last_wall = clock()
        self._generation = -1
        self._panels_at = clock()
        self.heap = Heap()
        self._legend_due = False

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield VariantsBar(id="variants")
        with Horizontal(id="body"):
            with Vertical(id="stage"):
                yield LanesView(id="lanes")
                yield Legend(id="legend")
                with Horizontal(id="bottom"):
                    yield EventLog(id="log")
                    yield FuturesPanel(id="futures")
                    yield FaultList(id="faults")
            yield NotesPanel(self.session.scenario, id="notes")
        yield Footer(compact=True)

    def say(self, message: str, **options: Any) -> None:
        """A notification in plain text: engine reasons and paths may hold brackets."""
        self.notify(message, markup=False, **options)

    def on_mount(self) -> None:
        self.query_one("#log").border_title = "events"
        self.query_one("#futures").border_title = "futures"
        self.query_one("#faults").border_title = "faults · x removes"
        self._measure_variants()
        self.update_view([])
        self.query_one(LanesView).focus()
        self.set_interval(_FRAME, self.tick)
        self.playing = not self.start_paused and not self.session.finished

    def choose_speed(self) -> None:
        """Once, when the run's length is first known: the speed that plays it in about
        ``AUTO_SECONDS`` (unless a speed was given, or chosen with ``[`` / ``]``)."""
        expected = self.expected
        if self.auto_speed and expected:
            self.auto_speed = False
            self.speed = auto_speed(expected)

    def _measure_variants(self) -> None:
        """Each variant's length for the variants bar: here if that is quick, else on a
        worker thread (the bar shows … until it is done)."""
        session = self.session
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

    def update_view(self, new: Sequence[Event]) -> None:
        """Redraw from the session; a new generation (rewind, seed, variant) rebuilds all."""
        session = self.session
        rebuilt = session.generation != self._generation
        if rebuilt and self._generation >= 0:
            self.heap.dropped()
            self.forget_marks()
        self._generation = session.generation
        if rebuilt and self.ahead is not None and self.ahead.run is not session.run:
            self.stop_looking_ahead()  # its run is history
        lanes = self.lanes
        lanes.show(session.timeline, session.now, self.horizon)
        lanes.styles.height = len(session.timeline.rows) + 1  # capped by max-height
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
        # which cost more to draw than the rest together, follow a few times a second.
        wall = self.clock()
        if not (self.playing and new) or wall - self._panels_at >= _PANELS or rebuilt:
            self._panels_at = wall
            self.query_one(FuturesPanel).show(session.ledger)
            if log.known != session.seen:
                log.feed(session.seen)
        if new or rebuilt:
            self.heap.settle()

    def repaint(self) -> None:
        """Draw everything again in the palette's new colours (the theme changed)."""
        self.lanes.forget_strips()
        self.query_one(Legend).forget()
        self.query_one(FuturesPanel).forget()
        self.query_one(EventLog).forget()
        self.update_view([])

    def _show_legend(self) -> None:
        self._legend_due = False
        self.query_one(Legend).show(self.lanes.drawn())

    def show_log(self) -> None:
        """Show the log through its filter now: a why chain's events, or the selected lane's."""
        log = self.query_one(EventLog)
        track = self.lanes.selected_track
        if self.chain is not None:
            log.border_title = "why · w again for every event"
        elif self.filter_log and track is not None:
            log.border_title = f"events of {track.row_id}"
        else:
            log.border_title = "events"
        log.rebuild(self.session.events, self.session.seen, self._log_filter())

    def _log_filter(self) -> Callable[[Event], bool] | None:
        if self.chain is not None:
            return self.chain_filter()
        track = self.lanes.selected_track
        if not self.filter_log or track is None:
            return None
        timeline, row_id = self.session.timeline, track.row_id
        return lambda event: timeline.involves(event, row_id)

    def on_lanes_view_selected(self, message: LanesView.Selected) -> None:
        if self.filter_log and self.chain is None:
            self.show_log()

    def on_key(self, event: Key) -> None:
        self.turns.claim(KEY_TURN)  # workers stand aside while the key is answered

    def on_resize(self, event: Resize) -> None:
        beside = event.size.width >= _SIDE
        self.set_class(not beside, "-narrow")
        self.set_class(beside if self.notes_choice is None else self.notes_choice, "-notes")
        self._title_notes()

    def _title_notes(self) -> None:
        narrow = self.has_class("-narrow")
        self.query_one(NotesPanel).border_title = "notes · n closes" if narrow else None
        # 80 columns hold every key the footer shows, or ^p palette (also under ?, Help).
        footer = self.query_one(Footer)
        if footer.show_command_palette == narrow:
            footer.show_command_palette = not narrow
            footer.refresh(recompose=True)  # the footer lays out its keys when composed

    # --- playback ----------------------------------------------------------------------

    def tick(self) -> None:
        wall = self.clock()
        dt, self._last_wall = wall - self._last_wall, wall
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
        # a frame spends at most _TICK_WORK on the engine: a run too busy to simulate at
        # this speed plays slower rather than leave keys unanswered.
        deadline = wall + _TICK_WORK
        self.turns.claim(FRAME_TURN)
        target = self.session.now + self.speed * min(dt, 0.25)
        budget = lambda: self.clock() > deadline  # noqa: E731
        session = self.session
        ahead = self.ahead if self.look_ahead() else None
        if ahead is not None and (session.made(target) or not ahead.done.is_set()):
            # A worker runs the engine ahead: only the playhead moves, over events made
            # (should the engine lag behind, the playback waits for it).
            self.update_view(session.show_made(target, budget))
        elif self.ahead is not None and self.ahead.error is not None:
            self.playing = False
            self.say(f"The simulation failed: {self.ahead.error}", severity="error")
        else:
            self.update_view(session.advance_to(target, budget))

    def advance_to(self, t: float) -> None:
        """Run virtual time forward to ``t`` (tests call this instead of waiting)."""
        self.update_view(self.session.advance_to(t))

    def watch_playing(self, playing: bool) -> None:
        self._last_wall = self.clock()
        self.update_view([])

    def action_toggle_play(self) -> None:
        if self.busy():
            return
        if self.session.finished:
            self.say("The run has finished: r rewinds, , steps back.", timeout=3)
            return
        self.playing = not self.playing

    def action_step(self) -> None:
        self.playing = False
        if self.busy():
            return
        self.stop_looking_ahead()
        if self.session.finished:
            self.say("The run has finished: r rewinds, , steps back.", timeout=3)
            return
        self.update_view(self.session.step())

    def action_to_end(self) -> None:
        self.playing = False
        if not self.busy():
            self.run_to_end()

    def action_step_back(self) -> None:
        self.playing = False
        session = self.session
        job = self.job
        if job is not None and job.kind is JobKind.END:
            self.cancel_job()  # the user changed their mind: back from what is shown
            job = None
        target = session.step_back_target(job.target if job is not None else None)
        if target is None:
            self.say("Already at the start.", timeout=2)
            return
        self.cancel_job()
        faults = len(session.injections)
        note = f"Back to {format_time(target)}: re-simulated from seed {session.seed}" + (
            f" with {faults} injection{'s' * (faults != 1)}." if faults else "."
        )
        again = replayable(session.sim)
        if again:
            note = f"Back to {format_time(target)}: the same history, shown again."
        self.resimulate(JobKind.BACK, session.again, target, note, builds=not again)

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
            note = f"Rewound to 0; the {they} again as it plays (x removes the highlighted one)."
        again = replayable(session.sim)
        self.resimulate(JobKind.REWIND, session.again, 0.0, note, builds=not again)

    def action_select(self, delta: int) -> None:
        self.lanes.move(delta)

    def action_speed(self, factor: float) -> None:
        self.auto_speed = False
        self.speed = min(64.0, max(1 / 64, self.speed * factor))
        self.update_view([])

    def action_zoom(self, how: str) -> None:
        lanes = self.lanes
        viewport, width = lanes.viewport, lanes.columns.bar
        if how == "in":
            viewport.zoom_in(width, self.session.now, self.horizon)
        elif how == "out":
            viewport.zoom_out(width, self.session.now, self.horizon)
        else:
            viewport.zoom_fit()
        self.update_view([])

    def action_filter_log(self) -> None:
        self.filter_log = not self.filter_log
        self.chain = None
        self.lanes.light({})
        self.show_log()

    def action_toggle_notes(self) -> None:
        self.notes_choice = not self.has_class("-notes")
        self.set_class(self.notes_choice, "-notes")
        self._title_notes()

    def action_help(self) -> None:
        from concsim.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(RUN_BINDINGS))

    def action_back(self) -> None:
        if self.from_browser:
            self.playing = False
            self.dismiss()
