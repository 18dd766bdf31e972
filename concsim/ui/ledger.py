"""The futures ledger: each future's state, results in the order main read them, shared state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from concsim.events import (
    Event,
    FutureChanged,
    FutureState,
    OutputWritten,
    ProcessExited,
    ResultReceived,
    RunStarted,
    SharedRead,
    SharedWritten,
    TaskEnded,
    TaskStarted,
    TaskSubmitted,
)


@dataclass(slots=True)
class FutureRow:
    """One task's future as the panel shows it; replaced on a change, never changed in place,
    so a copy of the ledger (``Ledger.copy``) shares the rows. Not frozen: a frozen class's
    ``__init__`` sets each field through ``object.__setattr__``, four times the cost, and a
    big run makes one for each change of each future."""

    task: str
    state: FutureState = FutureState.PENDING
    error: str | None = None
    outcome: str | None = None  # TaskEnded.outcome once the task is over
    cleanup: str = "none"
    exitcode: int | None = None  # a plain multiprocessing.Process's, once it has ended
    # Whether a worker began the call. A process pool's future is marked running
    # (``Future.set_running_or_notify_cancel``) when the manager thread moves the call into
    # the call queue (``_add_call_item_to_queue``), before any worker process takes it.
    taken: bool = False


@dataclass(slots=True)
class Received:
    """One result read by the main program: a value, or an exception re-raised in main;
    never changed once made (not frozen, as ``FutureRow``)."""

    task: str
    value: Any
    error: str | None


@dataclass(slots=True)
class Ledger:
    """Futures by task (in submission order) and results in the order they were received."""

    futures: dict[str, FutureRow] = field(default_factory=dict)
    results: list[Received] = field(default_factory=list)
    shared: dict[str, tuple[Any, int]] = field(default_factory=dict)  # value, updates lost
    output: str = ""  # what the program printed or logged, as the terminal would show it
    version: int = 0  # bumped on every change, so a panel redraws only when it must
    # The same futures by state (insertion-ordered sets) and by recency of their last
    # change, newest last: a big run's summary reads counts and a few rows, never all rows.
    by_state: dict[FutureState, dict[str, None]] = field(
        default_factory=lambda: {state: {} for state in FutureState}
    )
    recent: dict[str, None] = field(default_factory=dict)
    failed_results: list[int] = field(default_factory=list)  # indices into ``results``
    # What each shared variable started at and what its writes added, and the value each
    # lane read last: the updates lost are then exactly (start + adds) - value.
    _started: dict[str, Any] = field(default_factory=dict)
    _added: dict[str, Any] = field(default_factory=dict)
    _read: dict[tuple[str, str], Any] = field(default_factory=dict)
    _begun: set[str] = field(default_factory=set)  # the tasks a worker began (TaskStarted)

    def feed(self, events: Sequence[Event]) -> None:
        takes = _TAKES
        for event in events:
            # By exact type (events are never subclassed): the lane and GIL changes that
            # make most of a run cost one lookup, which matters to a step back that feeds
            # a checkpoint's copy a few thousand events.
            kind = type(event)
            if kind is SharedRead:
                self._read[event.lane, event.name] = event.value  # type: ignore[attr-defined]
                continue
            take = takes.get(kind)
            if take is not None and take(self, event):
                self.version += 1

    def _submitted(self, event: TaskSubmitted) -> bool:
        self.submitted_of(event.task)
        return True

    def submitted_of(self, task: str) -> None:
        """A task is handed over (a ``TaskSubmitted``, typed or a row's fields); the
        caller counts the change in ``version``, as for every ``*_of``."""
        self._row(task)

    def _future(self, event: FutureChanged) -> bool:
        self.future_of(event.task, event.state, event.error)
        return True

    def future_of(self, task: str, state: FutureState, error: str | None) -> None:
        """A task's future changes state (a ``FutureChanged``, typed or a row's fields)."""
        row = self._row(task)
        task = row.task
        del self.by_state[row.state][task]
        self.by_state[state][task] = None
        self.recent.pop(task, None)
        self.recent[task] = None
        # Built whole, not with dataclasses.replace, which reads the fields on every call.
        self.futures[task] = FutureRow(
            task, state, error, row.outcome, row.cleanup, row.exitcode, row.taken
        )

    def _began(self, event: TaskStarted) -> bool:
        return self.began_of(event.task)

    def began_of(self, task: str) -> bool:
        """A worker begins a task (a ``TaskStarted``, typed or a row's fields); True if
        that changed a future's row."""
        self._begun.add(task)  # a sequential call starts before it is submitted
        row = self.futures.get(task)
        if row is None or row.taken:
            return False  # nothing submitted to mark yet, or marked already
        self.futures[task] = FutureRow(
            task, row.state, row.error, row.outcome, row.cleanup, row.exitcode, True
        )
        return True

    def _ended(self, event: TaskEnded) -> bool:
        self.ended_of(event.task, event.outcome, event.error, event.cleanup)
        return True

    def ended_of(self, task: str, outcome: str, error: str | None, cleanup: str) -> None:
        """A task ends (a ``TaskEnded``, typed or a row's fields)."""
        row = self._row(task)
        error = row.error or error
        self.futures[row.task] = FutureRow(
            row.task, row.state, error, outcome, cleanup, row.exitcode, row.taken
        )

    def _exited(self, event: ProcessExited) -> bool:
        if event.task is None:
            return False
        row = self._row(event.task)
        self.futures[row.task] = FutureRow(
            row.task, row.state, row.error, row.outcome, row.cleanup, event.exitcode, row.taken
        )
        return True

    def _received(self, event: ResultReceived) -> bool:
        self.received_of(event.task, event.value, event.error)
        return True

    def received_of(self, task: str, value: Any, error: str | None) -> None:
        """Main reads a result (a ``ResultReceived``, typed or a row's fields)."""
        if error:
            self.failed_results.append(len(self.results))
        self.results.append(Received(task, value, error))

    def _output(self, event: OutputWritten) -> bool:
        # Only the tail is ever shown; keeping all of a long run's output is waste.
        self.output = (self.output + event.text)[-4000:]
        return True

    def _started_run(self, event: RunStarted) -> bool:
        self.shared = {name: (value, 0) for name, value in event.shared}
        self._started = dict(event.shared)
        self._added = dict.fromkeys(self._started, 0)
        return True

    def copy(self) -> Ledger:
        """A copy to feed on its own (rows are shared: they are never changed in place)."""
        return Ledger(
            futures=self.futures.copy(),
            results=self.results.copy(),
            shared=self.shared.copy(),
            output=self.output,
            version=self.version,
            by_state={state: tasks.copy() for state, tasks in self.by_state.items()},
            recent=self.recent.copy(),
            failed_results=self.failed_results.copy(),
            _started=self._started.copy(),
            _added=self._added.copy(),
            _read=self._read.copy(),
            _begun=self._begun.copy(),
        )

    def _written(self, event: SharedWritten) -> bool:
        """``shared[name] = local + add``: ``local`` is what the lane read (or, with no read
        first, the value then). A write's own ``lost`` says what it erased; summed, those
        overcount when a stale write is itself overwritten, so the total is counted here."""
        name = event.name
        before = self.shared.get(name, (self._started.get(name, 0), 0))[0]
        local = self._read.pop((event.lane, name), before)
        try:
            self._added[name] = self._added.get(name, 0) + (event.value - local)
            lost = self._started.get(name, 0) + self._added[name] - event.value
        except TypeError:  # not a number: no count of updates
            lost = 0
        self.shared[name] = (event.value, lost)
        return True

    def _row(self, task: str) -> FutureRow:
        row = self.futures.get(task)
        if row is None:
            row = self.futures[task] = FutureRow(task, taken=task in self._begun)
            self.by_state[row.state][task] = None
        return row


_TAKES: dict[type[Event], Callable[[Ledger, Any], bool]] = {
    TaskSubmitted: Ledger._submitted,
    FutureChanged: Ledger._future,
    TaskStarted: Ledger._began,
    TaskEnded: Ledger._ended,
    ProcessExited: Ledger._exited,
    ResultReceived: Ledger._received,
    SharedWritten: Ledger._written,
    OutputWritten: Ledger._output,
    RunStarted: Ledger._started_run,
}
"""What each kind of event changes in the ledger; every other kind changes nothing."""
