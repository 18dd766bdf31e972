"""The run screen's background work: short work here and now, long work on a worker thread.

A key that may cost more than a frame (``end``, a step back, a rewind, a new variant or
seed on a big run) first works here within ``inline_budget`` (``INLINE`` events, and on a
run past that many no more than 4 ms); if that is not enough, the same run carries on in a
job (``concsim.ui.jobs``) and the status bar shows its progress. Small scenarios therefore
behave exactly as if everything were synchronous. While a big simulated run plays, a worker
runs its engine ahead of the playhead (``look_ahead``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from concsim.events import Event
from concsim.ui.heap import Heap
from concsim.ui.history import Run, replayable
from concsim.ui.jobs import (
    INLINE,
    REPORT,
    Job,
    JobDone,
    JobKind,
    JobProgressed,
    Lookahead,
    VariantsMeasured,
    drive,
    inline_budget,
    look_ahead,
    measure,
)
from concsim.ui.session import Session
from concsim.ui.turns import Turns

_NO_CLAIMS = Turns()  # an app that claims nothing: workers never wait

if TYPE_CHECKING:
    from textual.screen import Screen

    _Base = Screen[None]
else:
    _Base = object


class Background(_Base):
    """Starts, follows and ends the run screen's jobs; mixed into ``RunScreen``."""

    session: Session
    elapsed: dict[str | None, float | None]
    heap: Heap

    def choose_speed(self) -> None:
        """Set by the run screen: pick a speed once the run's length is known."""

    job: Job | None = None
    ahead: Lookahead | None = None
    _idle: asyncio.Event | None = None
    _pending: frozenset[str] = frozenset()  # "job", "variants": background work under way

    def update_view(self, new: Sequence[Event]) -> None:
        raise NotImplementedError

    @property
    def expected(self) -> float | None:
        raise NotImplementedError

    # --- starting ----------------------------------------------------------------------

    def busy(self) -> bool:
        """True (and say so) if a job is running: keys that need the engine wait for it."""
        if self.job is None:
            return False
        self.notify(
            f"Busy {self.job.progress}; r rewinds, , steps back, v or N start over.",
            timeout=2,
        )
        return True

    def run_to_end(self) -> None:
        session = self.session
        if session.finished:
            return
        run = session.run
        self.stop_looking_ahead()
        big = session.seen > INLINE
        if not big or not replayable(run.sim):
            if run.run_on(inline_budget(run, big)) and run.behind <= REPORT:
                self.update_view(run.sync())
                return
            # The rest of the engine's work, and feeding the views what it made (a slice
            # of whole instants per turn: the lanes never see half an instant), in a job.
            job = Job(JobKind.END, run, None, expected=self.expected, reached=run.now)
            job.private = False
            self._start(job)
            return
        # A big simulated run: the engine to its end, and a run of the same history fed up
        # to there, both on a worker; the screen shows the new run once it is complete.
        with run.lock:
            run.catch_up()  # a stalled run ends as hung where the playhead stands
        again = run.replay_from_start()
        self._start(Job(JobKind.END, again, None, expected=self.expected, reached=run.now))

    def resimulate(
        self,
        kind: JobKind,
        make: Callable[[], Run],
        target: float,
        note: str | None = None,
        *,
        builds: bool = True,
    ) -> None:
        """Make a new run (from ``make``) the session's history once it reaches ``target``.

        A new engine (``builds``) for a run that had more than ``INLINE`` events is not
        even built here: building the engine of a big scenario takes tens of milliseconds by
        itself. A run over the same engine (``Session.again``) only feeds its views, here
        within ``inline_budget``, then in a job.
        """
        if builds and self.session.seen > INLINE:
            self._start(Job(kind, None, target, note=note, make=make))
            return
        run = make()
        done = run.reach(target, inline_budget(run, self.session.seen > INLINE))
        if done:
            self.session.adopt(run)
            if note:
                self.notify(note, timeout=2, markup=False)
            self.update_view([])
        else:
            self._start(Job(kind, run, target, note=note, reached=run.now))

    def measure_variants(self) -> None:
        session = self.session
        work = partial(
            measure, session.scenario, session.seed, session.estimator, self.post_message
        )
        turns = self.turns

        def after_the_key() -> None:
            turns.give_way()  # the key that asked (N) is answered first
            work()

        self._busy_with("variants", True)
        self.run_worker(after_the_key, thread=True, group="variants")

    def look_ahead(self, *, big: bool = False) -> bool:
        """Keep a worker running the session's engine ahead of the playhead, for a big run
        (past ``INLINE`` events, or known to be ``big``) of a pure simulation; True while
        one does."""
        run = self.session.run
        ahead = self.ahead
        if ahead is not None and ahead.run is run:
            return True
        self.stop_looking_ahead()
        if self.job is not None or run.finished or (run.seen <= INLINE and not big):
            return False
        if not replayable(run.sim):
            return False
        self.ahead = ahead = Lookahead(run, self.turns)
        self.run_worker(partial(look_ahead, ahead), thread=True, group="ahead")
        return True

    def stop_looking_ahead(self) -> None:
        """The engine is the view's again (the worker stops at its next slice: the run's
        lock keeps the two apart meanwhile)."""
        if self.ahead is not None:
            self.ahead.stopped.set()
            self.ahead = None

    @property
    def turns(self) -> Turns:
        """The app's claims on the interpreter for the view (``concsim.ui.turns``)."""
        turns = getattr(self.app, "turns", None)
        return turns if isinstance(turns, Turns) else _NO_CLAIMS

    def _start(self, job: Job) -> None:
        self.stop_looking_ahead()
        job.turns = self.turns
        self.job = job
        self._busy_with("job", True)
        self.run_worker(partial(drive, job, self.post_message), thread=True, group="sim")
        self.update_view([])

    def cancel_job(self) -> None:
        """Stop the job (its run is dropped; the history shown stays as it was)."""
        job = self.job
        if job is not None:
            # The worker stops at its next look at the flag. A cancelled run to the end
            # leaves the session's run with an engine somewhere past what the views were
            # fed; every key that cancels one replaces that run next.
            job.cancelled.set()
            self._finish()

    def _finish(self) -> None:
        self.job = None
        self._busy_with("job", False)
        self.update_view([])

    # --- following -----------------------------------------------------------------------

    def on_job_progressed(self, message: JobProgressed) -> None:
        job = message.job
        if job is not self.job:
            return
        if not job.private and job.run is not None:
            run = job.run
            self.update_view(run.sync(run.whole_instants(min(message.upto, run.seen + REPORT))))
        else:
            self.update_view([])

    def on_job_done(self, message: JobDone) -> None:
        job = message.job
        if job is not self.job:
            return
        if job.error is not None:
            self.notify(f"{job.kind.value} failed: {job.error}", severity="error", markup=False)
        if not job.private and job.run is not None:
            run = job.run
            if run.behind > REPORT:
                # Feed a slice per turn of the event loop, keys in between.
                self.update_view(run.sync(run.whole_instants(run.seen + REPORT, finished=True)))
                self.post_message(JobDone(job))
                return
            self.job = None
            self.update_view(run.sync())
        elif job.error is None and job.run is not None and job.then is not None:
            self._finish()
            job.then(job.run)
            self.heap.sweep()  # what the job left, paid for now, not by the next key
            return
        elif job.error is None and job.run is not None:
            self.session.adopt(job.run)
            if job.note:
                self.notify(job.note, timeout=2, markup=False)
        self._finish()
        self.heap.sweep()

    def on_variants_measured(self, message: VariantsMeasured) -> None:
        if message.seed == self.session.seed:
            self.elapsed = message.elapsed
            self.choose_speed()
            self._busy_with("variants", False)
            self.update_view([])

    # --- waiting (tests, benchmarks) ---------------------------------------------------

    def _busy_with(self, what: str, busy: bool) -> None:
        self._pending = self._pending | {what} if busy else self._pending - {what}
        idle = self._idle_event()
        if self._pending:
            idle.clear()
        else:
            idle.set()

    def _idle_event(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            self._idle.set()
        return self._idle

    async def wait_idle(self) -> None:
        """Return once no job runs and the variants are measured."""
        await self._idle_event().wait()
