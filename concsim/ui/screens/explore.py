"""The explore view: many seeds of the run's scenario, as a live histogram of outcomes.

The seeds run in worker processes (``concsim.explore``), driven from a worker thread, so
the screen keeps answering keys; each finished chunk redraws the bars. Enter on a bar
opens that outcome's first seed on the run screen.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from concsim.engine import Injection
from concsim.explore import Exploration, explore
from concsim.explore.report import bar_line, headline
from concsim.scenario.model import Scenario

RUNS = 200  # seeds the view runs: a few seconds on two cores


@dataclass(frozen=True, slots=True)
class Row:
    """One bar as drawn: a snapshot taken on the worker thread, read on the UI thread."""

    seed: int
    text: Text


class ExploreScreen(ModalScreen[int | None]):
    """Dismissed with the seed to open, or None."""

    BINDINGS = [Binding("escape,q", "close", "Close", id="close_explore")]

    def __init__(
        self,
        scenario: Scenario,
        variant: str | None,
        injections: Sequence[Injection],
        first_seed: int,
        *,
        runs: int | None = None,
        jobs: int | None = None,
    ) -> None:
        super().__init__()
        self.scenario = scenario
        self.variant = variant
        self.injections = tuple(injections)
        self.first_seed = first_seed
        self.runs = runs or RUNS
        self.jobs = jobs or os.cpu_count() or 1
        self.stopped = threading.Event()
        self.found: Exploration | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="explore") as box:
            box.border_title = "explore seeds · enter opens a run · esc closes"
            yield Static(id="explore-head")
            yield ProgressBar(total=self.runs, show_eta=False, id="explore-progress")
            yield OptionList(id="explore-bars")

    def on_mount(self) -> None:
        self.query_one("#explore-head", Static).update(
            f"{self.scenario.name}: running {self.runs:,} seeds from {self.first_seed}…"
        )
        self.query_one(OptionList).focus()
        self.run_worker(self._explore, thread=True, exclusive=True, group="explore")

    def _explore(self) -> None:
        found = explore(
            self.scenario,
            runs=self.runs,
            variant=self.variant,
            injections=self.injections,
            first_seed=self.first_seed,
            jobs=self.jobs,
            progress=self._progress,
            stop=self.stopped.is_set,
        )
        if not self.stopped.is_set():
            self.app.call_from_thread(self._show, found, rows(found), done=True)

    def _progress(self, found: Exploration) -> None:
        if not self.stopped.is_set():
            self.app.call_from_thread(self._show, found, rows(found), done=False)

    def _show(self, found: Exploration, shown: list[Row], *, done: bool) -> None:
        self.found = found
        self.query_one(ProgressBar).update(progress=found.histogram.runs)
        head = headline(found) if done else f"{found.histogram.runs:,} of {self.runs:,} runs…"
        self.query_one("#explore-head", Static).update(head)
        bars = self.query_one(OptionList)
        highlighted = bars.highlighted
        bars.clear_options()
        bars.add_options([Option(row.text, id=str(row.seed)) for row in shown])
        if shown:
            bars.highlighted = min(highlighted or 0, len(shown) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.stopped.set()
        self.dismiss(int(event.option.id))

    def action_close(self) -> None:
        self.stopped.set()
        self.dismiss(None)


def rows(found: Exploration) -> list[Row]:
    """Each bar as one line, as ``concsim explore`` prints it with a shorter bar."""
    histogram = found.histogram
    bars = histogram.bars
    longest = max((bar.count for bar in bars), default=1)
    return [Row(bar.seed, bar_line(histogram, bar, longest, width=12)) for bar in bars]
