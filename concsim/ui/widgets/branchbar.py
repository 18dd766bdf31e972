"""The branch bar: which timeline is shown and how it ends against the run it left."""

from __future__ import annotations

from textual.widgets import Static


class BranchBar(Static):
    """One or two lines above the lanes while the run has branches; hidden otherwise."""

    shown_text: str | None = None

    def show(self, text: str | None) -> None:
        if text != self.shown_text:
            self.shown_text = text
            self.display = text is not None
            self.update(text or "")
