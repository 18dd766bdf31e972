"""The evil scheduler's screen: the threads waiting at the next decision point; Enter on one
makes it go next (concsim.ui.decisions finds the point and says the choices)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from concsim.engine.threads.ties import Decision
from concsim.ui.decisions import NOT_OFFERED, Choice, headline


class ChoiceScreen(ModalScreen[str | None]):
    """Dismissed with the lane chosen to go next, or None."""

    BINDINGS = [Binding("escape,q", "close", "Close", id="close_choice")]

    def __init__(self, decision: Decision, rows: list[Choice]) -> None:
        super().__init__()
        self.decision = decision
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="choose") as box:
            box.border_title = "be the scheduler · enter picks · esc closes"
            yield Static(headline(self.decision), id="choose-head")
            yield OptionList(*[Option(_line(row), id=row.lane) for row in self.rows])
            yield Static(Text(NOT_OFFERED, style="grey62"), id="choose-help")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.decision.chosen
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)


def _line(row: Choice) -> Text:
    line = Text.assemble((f"{row.lane:<12}", "bold"), row.doing)
    if row.note:
        line.append(f"  ({row.note})", style="grey62")
    return line
