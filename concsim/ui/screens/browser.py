"""The scenario browser: bundled scenarios and the files given, a preview, Enter opens."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from concsim.ui.catalog import Entry
from concsim.ui.keymap import BROWSER_BINDINGS

_NARROW = 60  # below this many columns the preview is hidden and the list takes the width


class BrowserScreen(Screen[None]):
    """Pick a scenario; a file that does not load shows its error lines in the preview."""

    BINDINGS: ClassVar[list[BindingType]] = [*BROWSER_BINDINGS]

    def __init__(self, entries: list[Entry], open_entry: Callable[[Entry], None]) -> None:
        super().__init__()
        self.entries = entries
        self.open_entry = open_entry

    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble(("concsim", "bold"), " · pick a scenario, Enter opens it"),
            id="browser-title",
        )
        with Horizontal(id="browser-body"):
            yield OptionList(*self._options(), id="catalog")
            with VerticalScroll(id="preview"):
                yield Markdown(id="preview-notes")
                yield Static(id="preview-errors")
        yield Footer(compact=True)

    def _options(self) -> list[Option]:
        options: list[Option] = []
        topic = None
        for index, entry in enumerate(self.entries):
            heading = entry.scenario.topic if entry.bundled and entry.scenario else "files"
            if heading != topic:
                topic = heading
                options.append(Option(Text(heading, "bold italic"), disabled=True))
            name = Text.assemble(
                ("✗ " if entry.error else "", "bold red"),
                (entry.name, "bold"),
                ("  " + entry.model, "italic"),
            )
            summary = Text(entry.summary, "dim")
            summary.pad_left(2)
            name.append("\n").append_text(summary)
            options.append(Option(name, id=str(index)))
        return options

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < _NARROW, "-narrow")

    def on_mount(self) -> None:
        catalog = self.query_one(OptionList)
        catalog.focus()
        if self.entries:
            catalog.highlighted = 1  # the first scenario, under its topic heading
            self.preview(self.entries[0])
        else:
            self.query_one("#preview-errors", Static).update(
                "No scenarios: give scenario files on the command line."
            )

    def preview(self, entry: Entry) -> None:
        notes = self.query_one("#preview-notes", Markdown)
        errors = self.query_one("#preview-errors", Static)
        if entry.error:
            notes.display = False
            errors.display = True
            errors.update(Text(entry.error))
            self.query_one("#preview").border_title = "errors"
        else:
            notes.display = True
            errors.display = False
            scenario = entry.scenario
            assert scenario is not None
            head = f"**{scenario.name}** · {scenario.program.model.value}"
            if scenario.variants:
                head += " · variants: " + ", ".join(scenario.variant_names)
            notes.update(f"{head}\n\n{scenario.notes or scenario.summary}")
            self.query_one("#preview").border_title = "notes"

    def _entry(self, option: Option) -> Entry | None:
        return self.entries[int(option.id)] if option.id is not None else None

    def on_option_list_option_highlighted(self, message: OptionList.OptionHighlighted) -> None:
        entry = self._entry(message.option)
        if entry is not None:
            self.preview(entry)

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        entry = self._entry(message.option)
        if entry is not None:
            self.open(entry)

    def action_open(self) -> None:
        catalog = self.query_one(OptionList)
        if catalog.highlighted is not None:
            entry = self._entry(catalog.get_option_at_index(catalog.highlighted))
            if entry is not None:
                self.open(entry)

    def open(self, entry: Entry) -> None:
        if entry.error:
            self.notify(f"{entry.source} does not load; fix the lines shown.", severity="error")
            return
        self.open_entry(entry)

    def action_help(self) -> None:
        from concsim.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(BROWSER_BINDINGS))
