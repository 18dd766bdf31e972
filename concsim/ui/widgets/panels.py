"""Small panels of the run screen: status bar, variants bar, legend, futures and notes."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from concsim.scenario.model import Scenario
from concsim.ui.ledger import Ledger
from concsim.ui.legend import Key, legend_of
from concsim.ui.panels import (
    SUMMARY_FROM,
    futures_text,
    notes_markdown,
    status_text,
    variants_text,
)


class StatusBar(Static):
    """Scenario, variant, virtual time, speed, seed and whether it plays."""

    def show(self, **fields: Any) -> None:
        text = status_text(**fields)
        if text != getattr(self, "_shown", None):
            self._shown = text
            self.update(text, layout=False)  # one line, whatever it says (concsim.tcss)


class VariantsBar(Static):
    """Every variant with its elapsed time; the current one highlighted."""

    def on_resize(self) -> None:
        if (shown := getattr(self, "_asked", None)) is not None:
            self.show(*shown)

    def show(self, current: str | None, elapsed: dict[str | None, float | None], key: str) -> None:
        self._asked = (current, dict(elapsed), key)
        text = variants_text(current, elapsed, key, self.content_size.width or None)
        if text != getattr(self, "_shown", None):
            self._shown = text
            self.update(text, layout=False)  # one line, whatever it says (concsim.tcss)


class Legend(Static):
    """Exactly what the lanes on screen show: states, moments, bands, lock spans, GIL holders."""

    def forget(self) -> None:
        """Show the next legend even if it names the same entries (its colours changed)."""
        self._shown: tuple[frozenset[Key], int | None] | None = None

    def on_resize(self) -> None:
        self.show(getattr(self, "_drawn", set()))

    def show(self, drawn: set[Key]) -> None:
        self._drawn = drawn
        width = self.content_size.width or None
        key = (frozenset(drawn), width)
        if key != getattr(self, "_shown", None):
            self._shown = key
            # Lines packed here, entry by entry: wrapped by words, an entry could be split.
            # A new layout of the whole screen only when the legend's height may change: a
            # glyph appearing while a big run plays must not cost a frame of its own.
            text = legend_of(drawn, width)
            rows = (_rows_of(text, width), width)
            layout = rows != getattr(self, "_rows", None)
            self._rows = rows
            if layout:
                # Textual keeps the legend's box model keyed by its layout count, which a
                # layout requested while another is pending does not move on: dropped here,
                # so that the new height is measured.
                self._box_model_cache.clear()
            self.update(text, layout=layout)


def _rows_of(text: Text, width: int | None) -> int:
    """The rows ``text`` takes at ``width`` (None: one per line), a line too long for it
    folded."""
    lines = text.split()
    if width is None:
        return len(lines)
    return sum(max(1, -(-line.cell_len // width)) for line in lines)


class FuturesPanel(VerticalScroll):
    """Each task's future, then the results in the order main received them; a big run's
    summary (counts by state, the rows that matter) from its top."""

    def compose(self) -> Any:
        yield Static(id="futures-text")

    def forget(self) -> None:
        """Show the next ledger even if unchanged (the palette's colours changed)."""
        self._shown: tuple[int, int, str, int] | None = None
        self._text: Text | None = None

    def _drawn_as(self, ledger: Ledger, noun: str) -> tuple[int, int, str, int]:
        """What the panel's text depends on: the ledger, its version, the noun, the width."""
        return (id(ledger), ledger.version, noun, max(1, self.scrollable_content_region.width))

    def behind(self, ledger: Ledger, noun: str = "futures") -> bool:
        """Whether ``show`` would draw anything new."""
        return self._drawn_as(ledger, noun) != getattr(self, "_shown", None)

    def show(self, ledger: Ledger, noun: str = "futures") -> None:
        """``noun``: what the program's tasks are (``concsim.ui.panels.tasks_noun``)."""
        if self.border_title != noun:
            self.border_title = noun  # set again, it would draw the panel again
        self._ledger = (ledger, noun)
        key = self._drawn_as(ledger, noun)
        if key != getattr(self, "_shown", None):
            self._shown = key
            width = key[3]
            # Printed output wrapped here at its words: the panel would fold a word anywhere.
            text = futures_text(ledger, noun, width)
            if text == getattr(self, "_text", None):
                return  # another ledger that says the same (the run shown one event back)
            self._text = text
            # A new layout (of the whole screen) only when the panel's height may change:
            # while a big run plays, the summary changes every frame but keeps its lines.
            shape = (len(text.wrap(self.app.console, width)), width)
            layout = shape != getattr(self, "_shape", None)
            self._shape = shape
            self.query_one("#futures-text", Static).update(text, layout=layout)
            self._rest()

    def _rest(self) -> None:
        """A big run's summary is read from its top (the counts); a list from its end (the
        latest results)."""
        shown = getattr(self, "_ledger", None)
        if shown is not None and len(shown[0].futures) >= SUMMARY_FROM:
            self.scroll_home(animate=False)
        else:
            self.scroll_end(animate=False)

    def on_resize(self) -> None:
        shown = getattr(self, "_ledger", None)
        if shown is not None:
            self.show(*shown)

    def watch_virtual_size(self) -> None:
        # The latest results (or a summary's counts) stay in view when the panel or its
        # text changes size (notes narrow it, rows wrap), as in the log.
        self._rest()


class NotesPanel(VerticalScroll):
    """The scenario's Markdown notes: what you are looking at, what to notice, try this;
    above them, the variant running and what it changes (``notes_markdown``). Each
    variant's notes are built the first time they are shown and kept: switching back and
    forth shows the ones built, never parses and mounts them again."""

    def __init__(self, scenario: Scenario, variant: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.variant = variant
        self._built: dict[str | None, Widget] = {}

    @property
    def built(self) -> tuple[str | None, ...]:
        """The variants whose notes are built (None: as written)."""
        return tuple(self._built)

    @property
    def shown(self) -> Widget | None:
        """The notes of the variant running, if built."""
        return self._built.get(self.variant)

    def on_show(self) -> None:
        # Built the first time the panel is shown: narrow terminals never pay for the
        # Markdown renderer on the way to the first frame.
        if not self._built:
            self._build(self.variant)
            self.call_after_refresh(self.build_ahead)  # the other variants', once drawn

    def _build(self, variant: str | None) -> None:
        from concsim.ui.widgets.notesmarkdown import NotesMarkdown

        notes = self._built[variant] = NotesMarkdown(notes_markdown(self.scenario, variant))
        notes.display = variant == self.variant
        self.mount(notes)

    def build_ahead(self) -> None:
        """Build the notes of the next variant not built yet, hidden, then (at the next
        idle moment) the next one: ``v`` then shows notes built, never mounts them. Only
        once the panel was shown: notes never shown are never built."""
        if not self._built:
            return
        names = (None, *self.scenario.variant_names)
        missing = [name for name in names if name not in self._built]
        if missing:
            self._build(missing[0])
            self.call_after_refresh(self.build_ahead)

    def show_variant(self, variant: str | None) -> None:
        """The notes of ``variant`` (None: as written), now if the panel was shown, else
        when it is."""
        if variant == self.variant:
            return
        self.variant = variant
        if not self._built:
            return
        for name, notes in self._built.items():
            notes.display = name == variant
        if variant not in self._built:
            self._build(variant)
        self.scroll_home(animate=False)
