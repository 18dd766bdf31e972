"""The run screen: lanes, status, event log, futures and notes over one session.

Playback belongs to the view: a wall-clock timer only *requests* virtual-time advances of
``speed * wall dt``; tests leave the app paused and drive virtual time themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import Footer

from concsim.events import Event
from concsim.ui.draw import format_time
from concsim.ui.keymap import RUN_BINDINGS
from concsim.ui.panels import FINISHED, PAUSED, PLAYING, STALLED
from concsim.ui.screens.actions import SessionActions
from concsim.ui.session import Session, elapsed_by_variant
from concsim.ui.widgets.eventlog import EventLog
from concsim.ui.widgets.faultlist import FaultList
from concsim.ui.widgets.lanes import LanesView
from concsim.ui.widgets.panels import FuturesPanel, Legend, NotesPanel, StatusBar, VariantsBar

_WIDE = 140  # from this many columns the notes sit beside the lanes by default
_FRAME = 1 / 30


class RunScreen(SessionActions):
    """One scenario playing: press keys to step, rewind, and inject faults."""

    BINDINGS: ClassVar[list[BindingType]] = [*RUN_BINDINGS]

    def __init__(
        self,
        session: Session,
        *,
        speed: float = 1.0,
        paused: bool = False,
        clock: Callable[[], float],
        from_browser: bool = False,
        replay_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.speed = speed
        self.start_paused = paused
        self.clock = clock
        self.from_browser = from_browser
        self.replay_dir = replay_dir or Path.cwd()
        self.filter_log = False
        self.notes_choice: bool | None = None  # None: decided by the terminal's width
        self.elapsed: dict[str | None, float | None] = {}
        self._last_wall = clock()
        self._generation = -1

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

    def _measure_variants(self) -> None:
        session = self.session
        self.elapsed = elapsed_by_variant(session.scenario, session.seed, session.factory)

    # --- keeping the widgets in step with the session ------------------------------------

    @property
    def lanes(self) -> LanesView:
        return self.query_one(LanesView)

    @property
    def horizon(self) -> float:
        session = self.session
        if session.elapsed is not None:
            return session.elapsed
        expected = self.elapsed.get(session.variant) or 0.0
        return max(expected, session.now)

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
        self._generation = session.generation
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
        )
        bar = self.query_one(VariantsBar)
        bar.set_class(not session.scenario.variants, "-none")
        bar.show(session.variant, self.elapsed, "v")
        gil = any(track.is_gil for track in session.timeline.rows)
        self.query_one(Legend).show(session.timeline.seen, gil)
        self.query_one(FuturesPanel).show(session.ledger)
        self.query_one(FaultList).show(session.injections)
        log = self.query_one(EventLog)
        if rebuilt:
            log.rebuild(session.events, self._log_filter())
        else:
            log.append(new)

    def _log_filter(self) -> Callable[[Event], bool] | None:
        track = self.lanes.selected_track
        if not self.filter_log or track is None:
            return None
        timeline, row_id = self.session.timeline, track.row_id
        return lambda event: timeline.involves(event, row_id)

    def on_lanes_view_selected(self, message: LanesView.Selected) -> None:
        log = self.query_one(EventLog)
        log.border_title = f"events of {message.row_id}" if self.filter_log else "events"
        if self.filter_log:
            log.rebuild(self.session.events, self._log_filter())

    def on_resize(self, event: Resize) -> None:
        wide = event.size.width >= _WIDE
        self.set_class(wide if self.notes_choice is None else self.notes_choice, "-notes")

    # --- playback ----------------------------------------------------------------------

    def tick(self) -> None:
        wall = self.clock()
        dt, self._last_wall = wall - self._last_wall, wall
        if not self.playing:
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
        # A stalled frame (a slow terminal, a suspended process) must not leap ahead.
        self.advance_to(self.session.now + self.speed * min(dt, 0.25))

    def advance_to(self, t: float) -> None:
        """Run virtual time forward to ``t`` (tests call this instead of waiting)."""
        self.update_view(self.session.advance_to(t))

    def watch_playing(self, playing: bool) -> None:
        self._last_wall = self.clock()
        self.update_view([])

    def action_toggle_play(self) -> None:
        if self.session.finished:
            self.say("The run has finished: r rewinds, , steps back.", timeout=3)
            return
        self.playing = not self.playing

    def action_step(self) -> None:
        self.playing = False
        if self.session.finished:
            self.say("The run has finished: r rewinds, , steps back.", timeout=3)
            return
        self.update_view(self.session.step())

    def action_to_end(self) -> None:
        self.playing = False
        self.update_view(self.session.run_to_end())

    def action_step_back(self) -> None:
        self.playing = False
        session = self.session
        if not session.step_back():
            self.say("Already at the start.", timeout=2)
        else:
            faults = len(session.injections)
            self.say(
                f"Back to {format_time(session.now)}: re-simulated from seed {session.seed}"
                + (f" with {faults} injection{'s' * (faults != 1)}." if faults else "."),
                timeout=2,
            )
        self.update_view([])

    def action_rewind(self) -> None:
        self.playing = False
        self.session.rewind()
        faults = len(self.session.injections)
        if faults:
            they = (
                "1 injected fault stays and lands"
                if faults == 1
                else (f"{faults} injected faults stay and land")
            )
            self.say(
                f"Rewound to 0; the {they} again as it plays (x removes the highlighted one).",
                timeout=4,
            )
        self.update_view([])

    def action_select(self, delta: int) -> None:
        self.lanes.move(delta)

    def action_speed(self, factor: float) -> None:
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
        track = self.lanes.selected_track
        if track is not None:
            self.on_lanes_view_selected(LanesView.Selected(track.row_id))

    def action_toggle_notes(self) -> None:
        self.notes_choice = not self.has_class("-notes")
        self.set_class(self.notes_choice, "-notes")

    def action_help(self) -> None:
        from concsim.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(RUN_BINDINGS))

    def action_back(self) -> None:
        if self.from_browser:
            self.playing = False
            self.dismiss()
