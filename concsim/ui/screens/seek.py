"""The seek line: type a time (``1.2s``, ``350ms``, ``0.35``), enter puts the playhead there."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from concsim.durations import format_time
from concsim.ui.seeking import read_time


class SeekScreen(ModalScreen[float | None]):
    """A one-line input at the bottom of the screen; a time typed wrong is said under it
    and the line stays open; esc closes it and the playhead stays."""

    DEFAULT_CSS = """
    SeekScreen { align: center bottom; background: $background 30%; }
    SeekScreen #seek {
        width: 100%; height: auto; padding: 0 1;
        border-top: solid $primary; background: $surface;
    }
    SeekScreen #seek-about { color: $text-muted; }
    SeekScreen #seek-input { border: none; height: 1; padding: 0; }
    SeekScreen #seek-error { color: $error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, now: float, end: float | None) -> None:
        super().__init__()
        self.now = now
        self.end = end

    def compose(self) -> ComposeResult:
        ends = f", the run ends at {format_time(self.end)}" if self.end is not None else ""
        with Vertical(id="seek"):
            yield Static(
                f"Go to a time (now {format_time(self.now)}{ends}): 1.2s, 350ms or 0.35;"
                " enter goes, esc stays",
                id="seek-about",
            )
            yield Input(placeholder="a time, e.g. 0.29s", id="seek-input", compact=True)
            yield Static("", id="seek-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#seek-error", Static).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            t = read_time(event.value)
        except ValueError as error:
            self.query_one("#seek-error", Static).update(str(error))
            return
        self.dismiss(t)

    def action_cancel(self) -> None:
        self.dismiss(None)
