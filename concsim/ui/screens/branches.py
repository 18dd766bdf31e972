"""The branches list (``B``): every timeline of the run, the one shown marked; Enter shows
one, ``d`` closes one (never the original)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from concsim.durations import format_time
from concsim.replay import Branch


class Choice(Enum):
    SHOW = "show"
    CLOSE = "close"


class BranchesScreen(ModalScreen[tuple[Choice, int] | None]):
    """Dismissed with what to do to which branch (its index), or None."""

    BINDINGS = [
        Binding("escape,q", "close_list", "Close", id="close_branches"),
        Binding("d,delete", "close_branch", "Close branch", id="close_branch"),
    ]

    def __init__(self, branches: Sequence[Branch], shown: int) -> None:
        super().__init__()
        self.branches = list(branches)
        self.shown = shown

    def compose(self) -> ComposeResult:
        with Vertical(id="branches") as box:
            box.border_title = "branches · enter shows · d closes · esc"
            yield Static(
                "Each branch is the run it was forked from, up to the fork, then its own faults.",
                id="branches-head",
            )
            yield OptionList(
                *[
                    Option(describe(b, i == self.shown), id=str(i))
                    for i, b in enumerate(self.branches)
                ],
                id="branches-list",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.shown
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.dismiss((Choice.SHOW, int(event.option.id)))

    def action_close_branch(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None:
            return
        if self.branches[index].parent is None:
            self.notify("The original run stays; close the branches made from it.", timeout=3)
            return
        self.dismiss((Choice.CLOSE, index))

    def action_close_list(self) -> None:
        self.dismiss(None)


def describe(branch: Branch, shown: bool) -> str:
    """``▶ branch 1 · from original at 300ms`` and, on a line of its own (a long list of
    faults wraps there, never in the middle of the head), ``fail job-2 at 300ms``."""
    head = f"{'▶' if shown else ' '} {branch.name}"
    if branch.parent is not None:
        head += f" · from {branch.parent} at {format_time(branch.at)}"
    own = (
        [i for i in branch.injections if i.at >= branch.at] if branch.parent else branch.injections
    )
    faults = ", ".join(f"{i.fault} {i.target} at {format_time(i.at)}" for i in own)
    return f"{head}\n  {faults or 'no faults of its own'}"
