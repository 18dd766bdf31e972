"""Branching the run (``b``) and comparing a branch with the run it left, mixed into
``RunScreen``.

``b`` forks the timeline on screen at the playhead: the branch plays on from there, and a
fault injected in it changes only the branch. While a branch is shown, the run it was
forked from is played out to its end on a worker thread and drawn faintly under each lane
(``concsim.ui.ghost``), and a bar above the lanes says in one line how the two end
differently (``concsim.ui.compare``). ``B`` lists the branches to show or close one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.message import Message

from concsim.durations import format_time
from concsim.replay import Branch
from concsim.ui.branches import PlayedOut, play_out
from concsim.ui.compare import difference
from concsim.ui.jobs import JobKind
from concsim.ui.screens.branches import BranchesScreen, Choice
from concsim.ui.widgets.branchbar import BranchBar
from concsim.ui.widgets.lanes import Ghost, LanesView

if TYPE_CHECKING:
    from concsim.ui.screens.work import Background
    from concsim.ui.session import Session

    _Base = Background
else:
    _Base = object

Key = tuple[Any, ...]


class Compared(Message):
    """Both timelines played out (or ``error``), for the branch state ``key``."""

    def __init__(
        self,
        key: Key,
        before: PlayedOut | None,
        after: PlayedOut | None,
        error: str | None = None,
    ) -> None:
        self.key, self.before, self.after, self.error = key, before, after, error
        super().__init__()


class BranchKeys(_Base):
    """``b``, ``B`` and the ghost of the run a branch left."""

    session: Session
    _compared: Key | None = None
    _played: dict[Key, PlayedOut] | None = None  # the runs branches left, played out

    if TYPE_CHECKING:
        playing: bool

        @property
        def lanes(self) -> LanesView: ...
        def say(self, message: str, **options: Any) -> None: ...

    def action_branch(self) -> None:
        session = self.session
        if self.busy():
            return
        if session.estimator is not session.factory:
            self.say("Branching simulates both timelines; this run is live on CPython.")
            return
        if session.finished and session.seen == len(session.events):
            self.say(
                "The run has ended: nothing after the playhead to play otherwise. Step back "
                "(, or <) or seek (g) to where the branch should part, then b.",
                timeout=6,
            )
            return
        self.playing = False
        self.cancel_job()
        before = session.injections
        branch = session.branches.fork(session.now, before)
        note = (
            f"{branch.name}: forked from {branch.parent} at {format_time(branch.at)}. "
            f"Faults injected now change only this branch; B lists the branches."
        )
        if branch.injections == before:
            self.say(note, timeout=6)
            self.update_view([])
            return
        # Stepped back before branching: the faults after the playhead stay behind.
        self.resimulate(
            JobKind.BRANCH, partial(session.fresh, branch.injections), session.now, note
        )

    def action_branches(self) -> None:
        session = self.session
        branches = session.branches
        if not branches.branched:
            self.say("No branches yet: b forks the run at the playhead.", timeout=3)
            return
        branches.keep(session.injections)
        self.app.push_screen(BranchesScreen(branches.items, branches.active), self._chosen)

    def _chosen(self, choice: tuple[Choice, int] | None) -> None:
        if choice is None or self.busy():
            return
        session = self.session
        what, index = choice
        before = session.injections
        branches = session.branches
        if what is Choice.CLOSE:
            closed = branches.items[index].name
            shown = branches.close(index, before)
            note = f"Closed {closed}; showing {shown.name}."
        else:
            shown = branches.show(index, before)
            note = f"Showing {shown.name} at {format_time(session.now)}."
        self.playing = False
        self.cancel_job()
        if shown.injections == before and what is Choice.CLOSE:
            self.say(note, timeout=3)
            self.update_view([])
            return
        make = partial(session.fresh, shown.injections)
        self.resimulate(JobKind.BRANCH, make, session.now, note)

    # --- the ghost and the difference ----------------------------------------------------

    def follow_branches(self) -> None:
        """Keep the ghost and the difference line in step with the branch shown: when it or
        its faults change, play both timelines out again on a worker."""
        session = self.session
        branches = session.branches
        current = branches.current
        parent = branches.parent_of(current)
        bar = self.query_one(BranchBar)
        if parent is None:
            if self._compared is not None:
                self._busy_with("compare", False)  # a comparison still under way is moot
            self._compared = None
            self.lanes.haunt(None)
            bar.show(_original(branches.branched, len(branches.items)))
            return
        key: Key = (
            session.variant,
            session.seed,
            current.name,
            current.at,
            session.injections,
            parent.name,
            parent.injections,
        )
        if key == self._compared:
            return
        self._compared = key
        bar.show(f"{current.name} · from {parent.name} at {format_time(current.at)} · comparing…")
        self._busy_with("compare", True)
        if self._played is None:
            self._played = {}
        work = partial(
            _compare,
            key,
            session,
            parent,
            session.injections,
            self._played,
            self.post_message,
        )
        self.run_worker(work, thread=True, group="compare")

    def on_compared(self, message: Compared) -> None:
        if message.key != self._compared:
            return  # an older state's: a newer comparison is under way
        self._busy_with("compare", False)
        branches = self.session.branches
        current = branches.current
        parent = branches.parent_of(current)
        assert parent is not None, "only a branch is compared"
        head = f"{current.name} · from {parent.name} at {format_time(current.at)}"
        bar = self.query_one(BranchBar)
        if message.error is not None or message.before is None or message.after is None:
            bar.show(f"{head} · could not compare: {message.error}")
            return
        before, after = message.before, message.after
        self.lanes.haunt(Ghost(before.timeline, before.end, current.at, parent.name))
        line = difference(before.outcome, after.outcome, current.at)
        bar.show(f"{head} · vs {parent.name}: {line}")
        self.update_view([])


def _original(branched: bool, count: int) -> str | None:
    if not branched:
        return None
    return f"original · {count - 1} branch{'es' * (count != 2)} · B lists them"


def _compare(
    key: Key,
    session: Session,
    parent: Branch,
    injections: tuple[Any, ...],
    played: dict[Key, PlayedOut],
    post: Callable[[Message], object],
) -> None:
    """The worker's body: the parent played out (once per state of it), then the branch."""
    scenario, variant, seed, factory = (
        session.scenario,
        session.variant,
        session.seed,
        session.factory,
    )
    try:
        left = (variant, seed, parent.injections)
        before = played.get(left)
        if before is None:
            before = played[left] = play_out(scenario, variant, seed, factory, parent.injections)
        after = play_out(scenario, variant, seed, factory, injections)
    except Exception as error:  # shown on the bar, never a traceback
        post(Compared(key, None, None, f"{type(error).__name__}: {error}"))
        return
    post(Compared(key, before, after))
