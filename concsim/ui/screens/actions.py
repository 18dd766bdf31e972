"""The run screen's actions on the session itself: faults in and out, variant, seed, save.

The base of ``RunScreen``, kept apart so that module stays about the view; it relies on the
screen's ``session``, ``lanes``, ``say`` and ``update_view``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.reactive import reactive
from textual.screen import Screen

from concsim.durations import format_time
from concsim.events import FaultInjected, FaultRefused
from concsim.limits import MAX_SEED
from concsim.ui.faults import fault_target
from concsim.ui.history import Run
from concsim.ui.jobs import INLINE, Job, JobKind
from concsim.ui.saving import save_session, save_svg, trace_writer
from concsim.ui.screens.work import Background
from concsim.ui.session import is_refused
from concsim.ui.widgets.faultlist import FaultList
from concsim.ui.widgets.panels import NotesPanel

if TYPE_CHECKING:
    from concsim.engine.threads.ties import Decision
    from concsim.events import Event
    from concsim.ui.session import Session
    from concsim.ui.widgets.lanes import LanesView


class SessionActions(Background, Screen[None]):
    """Inject (f t c k h i), remove a fault (delete), be the scheduler (x), variant (v V),
    new seed (N), save (s), export a trace (T). Re-simulations of a big run go through
    ``Background``'s jobs."""

    playing: reactive[bool] = reactive(False, init=False)

    if TYPE_CHECKING:  # what RunScreen provides
        session: Session
        replay_dir: Path

        @property
        def lanes(self) -> LanesView: ...
        def say(self, message: str, **options: Any) -> None: ...
        def update_view(self, new: Sequence[Event]) -> None: ...
        def _measure_variants(self, *, key: bool = False) -> None: ...

    def action_fault(self, fault: str) -> None:
        session = self.session
        if self.busy():
            return
        if session.finished:
            self.say(
                f"The run has finished, so {fault} has nothing to act on: "
                "step back with , or rewind with r first.",
                severity="warning",
            )
            return
        target, refusal = fault_target(self.lanes.selected_track, fault)
        if target is None:
            self.say(refusal or "Nothing to inject into.", severity="warning")
            return
        self.stop_looking_ahead()
        if session.run.ahead() and session.seen > INLINE:
            # The engine ran past now: run the history again up to now on a worker.
            make = partial(session.fresh, session.injections)
            then = partial(self._inject, fault, target)
            self._start(Job(JobKind.FAULT, None, session.now, make=make, then=then))
            return
        self._inject(fault, target)

    def _inject(self, fault: str, target: str, into: Run | None = None) -> None:
        session = self.session
        try:
            new = session.inject(fault, target, into=into, redo=self._take_back)
        except Exception as error:  # an engine error must not take the app down with it
            self.log.error(f"inject {fault} {target}: {error!r}")
            self.say(f"{fault} on {target} failed: {error}", severity="error")
            return
        refusals = [event for event in new if isinstance(event, FaultRefused)]
        for refused in refusals:
            self.say(
                refused.reason,
                title=f"{fault} on {target}: no effect",
                severity="warning",
                timeout=6,
            )
        if not is_refused(new, fault, target):
            injected = [event for event in new if isinstance(event, FaultInjected)]
            self.say(injected[0].why if injected else f"{fault} on {target} is queued.", timeout=3)
        self.update_view(new)

    def _take_back(self, kept: tuple[Any, ...], now: float) -> None:
        """A fault the session's engine refused: the history made again without it, up to
        ``now``; a big run's on a worker (the refusal is said at once, meanwhile)."""
        self.resimulate(JobKind.REFUSED, partial(self.session.fresh, kept), now)

    def action_remove_fault(self) -> None:
        session, faults = self.session, self.query_one(FaultList)
        index = faults.chosen
        if index is None:
            self.say("No injected fault to remove.", timeout=2)
            return
        gone, now = session.injections[index], session.now
        kept = session.injections[:index] + session.injections[index + 1 :]
        self.playing = False
        self.cancel_job()
        note = (
            f"Removed {gone.fault} on {gone.target} at {format_time(gone.at)}: "
            f"re-simulated to {format_time(now)} without it."
        )
        self.resimulate(JobKind.BACK, partial(session.fresh, kept), now, note)

    def action_schedule(self) -> None:
        """The evil scheduler: list the threads waiting at the next decision point; the
        one picked goes first, recorded in the session (and its replay file). The point is
        found by running the history again from the start: past ``INLINE`` events shown,
        on a worker (the choice opens when it is found, if the run has not moved)."""
        from concsim.ui.decisions import next_decision

        session = self.session
        if self.busy():
            return
        if session.estimator is not session.factory:
            self.say("Choices are the simulator's; this run is live on CPython.")
            return
        self.stop_looking_ahead()
        if session.seen <= INLINE:
            self._offer(next_decision(session))
            return
        self.playing = False
        self.say("Looking for the next decision point…", timeout=2)
        where = (session.generation, session.seen)
        turns = self.turns

        def probe() -> None:
            found = next_decision(session, turns.give_way)
            self.app.call_from_thread(self._offer, found, where)

        self.run_worker(probe, thread=True, group="schedule", exclusive=True)

    def _offer(
        self,
        found: tuple[Decision, Sequence[Event]] | None,
        where: tuple[int, int] | None = None,
    ) -> None:
        """The choice screen for the decision ``found`` (looked for at ``where``)."""
        from concsim.ui.decisions import choices
        from concsim.ui.screens.choose import ChoiceScreen

        session = self.session
        if where is not None and not self.is_current:
            return  # the run's screen was left meanwhile
        if where is not None and where != (session.generation, session.seen):
            self.say("The run moved on while the next decision point was looked for: x again.")
            return
        if found is None:
            self.say(
                "No decision point ahead: from here on no two threads wait for the GIL or a "
                "lock at once (asyncio's ready queue is FIFO: CPython never reorders it).",
                timeout=5,
            )
            return
        decision, events = found

        def chosen(lane: str | None) -> None:
            if lane is not None:
                self._choose(decision, lane)

        self.app.push_screen(ChoiceScreen(decision, choices(decision, events)), chosen)

    def _choose(self, decision: Decision, lane: str) -> None:
        """Make ``lane`` go first at ``decision``; the choices after it are forgotten (they
        were made in another future), and the run is made again up to the decision."""
        session = self.session
        kept = {n: who for n, who in session.choices.items() if n < decision.number}
        session.choices = {**kept, decision.number: lane}
        self.playing = False
        self.cancel_job()
        at = decision.at / 1_000_000
        mine = decision._replace(chosen=decision.waiting.index(lane))
        note = f"{format_time(at)}: {lane} {mine.took}."
        make = partial(session.fresh, session.injections)
        self.resimulate(JobKind.CHOICE, make, max(at, session.now), note)

    def action_variant(self, delta: int) -> None:
        names: list[str | None] = [None, *self.session.scenario.variant_names]
        if len(names) == 1:
            self.say("This scenario has no variants.", timeout=2)
            return
        index = (names.index(self.session.variant) + delta) % len(names)
        skipped: list[str] = []
        while (reason := self.session.cannot_run(names[index])) and len(skipped) < len(names):
            skipped.append(reason)
            index = (index + delta) % len(names)
        if skipped:
            self.say(skipped[0], timeout=4)
        if names[index] == self.session.variant:
            return
        self.playing = False
        self.cancel_job()
        faults = len(self.session.injections)
        self.session.variant = names[index]
        # The notes change in the frame after the key's: the key is answered with the
        # status (and the run made again), then the notes it names are drawn.
        self.call_after_refresh(self.query_one(NotesPanel).show_variant, names[index])
        self.session.forget_schedule()
        note = f"Variant {names[index] or 'as written'}" + (
            f"; {faults} injected fault{'s' * (faults != 1)} cleared." if faults else "."
        )
        self.resimulate(JobKind.VARIANT, partial(self.session.fresh, ()), 0.0, note)

    def action_new_seed(self) -> None:
        self.open_seed((self.session.seed + 1) % (MAX_SEED + 1))  # seeds wrap to 0

    def open_seed(self, seed: int, *, keep_faults: bool = False) -> None:
        """Restart the run with ``seed`` (its injected faults too, if ``keep_faults``)."""
        self.playing = False
        self.cancel_job()
        session = self.session
        session.seed = seed
        session.forget_schedule()
        self._measure_variants(key=True)
        kept = session.injections if keep_faults else ()
        note = f"Restarted with seed {seed}" + ("." if keep_faults else "; injections cleared.")
        self.resimulate(JobKind.SEED, partial(session.fresh, kept), 0.0, note)

    def action_explore(self) -> None:
        """Run many seeds of this scenario (with the faults injected so far) as a histogram;
        the bar chosen opens its first seed here."""
        from concsim.ui.screens.explore import ExploreScreen

        session = self.session
        if session.estimator is not session.factory:
            self.say("Exploring simulates many seeds; this run is live on CPython.")
            return

        def chosen(seed: int | None) -> None:
            if seed is not None:
                self.open_seed(seed, keep_faults=True)

        screen = ExploreScreen(session.scenario, session.variant, session.injections, session.seed)
        self.app.push_screen(screen, chosen)

    def action_save(self) -> None:
        try:
            path = save_session(self.session, self.replay_dir)
        except OSError as error:
            self.say(f"Could not save the replay: {error}", severity="error")
            return
        self.say(f"Saved {path}; concsim run --replay {path} plays it again.", timeout=6)

    def action_screenshot(self) -> None:
        """Save an SVG of the screen as it is now, to a path the notification names."""
        try:
            path = save_svg(self.session, self.app.export_screenshot(), self.replay_dir)
        except OSError as error:
            self.say(f"Could not save the screenshot: {error}", severity="error")
            return
        self.say(f"Saved a screenshot to {path}.", timeout=5)

    def action_export_trace(self) -> None:
        """Write the run as it stands as a Chrome trace (see docs/traces.md); a big run's
        on a worker thread (100,000 events take about a second)."""
        session = self.session
        write, now = trace_writer(session, self.replay_dir), session.now
        if session.seen <= INLINE:
            self._trace_written(write, now)
            return
        self.say(f"Writing the trace up to {format_time(now)}…", timeout=2)
        self.run_worker(partial(self._trace_written, write, now, thread=True), thread=True)

    def _trace_written(self, write: Callable[[], Path], now: float, thread: bool = False) -> None:
        say = partial(self.app.call_from_thread, self.say) if thread else self.say
        try:
            path = write()
        except OSError as error:
            say(f"Could not write the trace: {error}", severity="error")
            return
        say(f"Wrote {path} (up to {format_time(now)}); open it at ui.perfetto.dev.", timeout=5)
