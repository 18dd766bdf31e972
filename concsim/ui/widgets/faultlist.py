"""The faults injected in this session, one a row; the highlighted one can be taken back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from concsim.durations import format_time


def fault_row(injection: Any) -> Text:
    """``0.2 s  fail  request-3``: when, what, on whom."""
    return Text.assemble(
        (format_time(injection.at), "bold"),
        "  ",
        (injection.fault, "italic"),
        "  ",
        injection.target,
    )


class FaultList(OptionList):
    """Hidden while no fault is injected; a new fault is highlighted, ready to remove."""

    def show(self, injections: Sequence[Any]) -> None:
        shown = tuple(injections)
        if shown == getattr(self, "_shown", None):
            return
        grew = len(shown) > len(getattr(self, "_shown", ()))
        self._shown = shown
        keep = self.highlighted
        self.clear_options()
        self.add_options([Option(fault_row(injection)) for injection in shown])
        self.display = bool(shown)
        if shown:
            last = len(shown) - 1
            self.highlighted = last if grew or keep is None else min(keep, last)

    @property
    def chosen(self) -> int | None:
        """The index of the highlighted fault, if any."""
        return self.highlighted if getattr(self, "_shown", ()) else None
