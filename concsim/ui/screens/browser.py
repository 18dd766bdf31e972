"""The scenario browser: bundled scenarios and the files given, a preview, Enter opens.

Typing filters the list as you type: ``/`` (or any letter that is not a key of the
screen) moves to the filter line; every word typed must appear in a scenario's name,
model, topic or summary. ``↑``/``↓`` and Enter keep working from the filter line; Escape
clears it, then goes back to the list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.console import Group
from rich.padding import Padding
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Key, Resize
from textual.screen import Screen
from textual.widgets import Footer, Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from concsim import palette
from concsim.ui.catalog import Entry
from concsim.ui.keymap import BROWSER_BINDINGS
from concsim.ui.widgets.notesmarkdown import NotesMarkdown
from concsim.ui.wrapping import glue_quantities

_NARROW = 60  # below this many columns the preview is hidden and the list takes the width
_MOVES = {"up": "up", "down": "down", "pageup": "page_up", "pagedown": "page_down"}


def _matches(word: str, entry: Entry, topic: str) -> bool:
    """A word of a filter matches inside a name, model or topic, or begins a word of the
    summary (so "race" finds race-lost-update, not "traces")."""
    if word in f"{entry.name} {entry.model} {topic}".lower():
        return True
    return any(part.startswith(word) for part in entry.summary.lower().split())


def _starts_filter(character: str) -> bool:
    """A letter or digit typed on the list begins a filter, unless it is one of the keys
    of the screen (q quits, ? helps: type those after /)."""
    return character.isalnum() and character not in "q"


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
            with Vertical(id="catalog-column"):
                yield Input(
                    placeholder="/ filter: name, model, topic or words",
                    select_on_focus=False,
                    id="filter",
                )
                yield OptionList(*self._options(), id="catalog")
            with VerticalScroll(id="preview"):
                yield NotesMarkdown(id="preview-notes")
                yield Static(id="preview-errors")
        yield Footer(compact=True)

    def _options(self, words: str = "") -> list[Option]:
        """The entries under their topic headings; only those matching every word given."""
        wanted = words.lower().split()
        options: list[Option] = []
        topic = None
        for index, entry in enumerate(self.entries):
            heading = entry.scenario.topic if entry.bundled and entry.scenario else "files"
            if not all(_matches(word, entry, heading) for word in wanted):
                continue
            if heading != topic:
                topic = heading
                options.append(Option(Text(heading, "bold italic"), disabled=True))
            name = Text.assemble(
                ("✗ " if entry.error else "", palette.TONES["error!"]),
                (entry.name, "bold"),
                ("  " + entry.model, "italic"),
            )
            options.append(
                Option(
                    Group(name, Padding(Text(entry.summary, "dim"), (0, 0, 0, 2))), id=str(index)
                )
            )
        if not options:
            options.append(
                Option(Text(f"no scenario matches {words.strip()!r}", "italic"), disabled=True)
            )
        return options

    def on_input_changed(self, event: Input.Changed) -> None:
        catalog = self.query_one(OptionList)
        catalog.set_options(self._options(event.value))
        # The list's lines were measured at its width before the new options; a scrollbar
        # that comes or goes changes that width without a resize: measure again after it.
        self.call_after_refresh(catalog._clear_caches)
        first = next((i for i, o in enumerate(catalog.options) if not o.disabled), None)
        catalog.highlighted = first
        if first is not None:
            entry = self._entry(catalog.get_option_at_index(first))
            if entry is not None:
                self.preview(entry)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_open()

    def on_key(self, event: Key) -> None:
        filter_line = self.query_one(Input)
        catalog = self.query_one(OptionList)
        if filter_line.has_focus:
            if event.key in ("up", "down", "pageup", "pagedown"):
                event.prevent_default()
                event.stop()
                getattr(catalog, f"action_cursor_{_MOVES[event.key]}")()
            elif event.key == "escape":
                event.prevent_default()
                event.stop()
                if filter_line.value:
                    filter_line.value = ""
                else:
                    catalog.focus()
        elif catalog.has_focus and event.character and _starts_filter(event.character):
            event.prevent_default()
            event.stop()
            filter_line.focus()
            filter_line.insert_text_at_cursor(event.character)

    def action_filter(self) -> None:
        self.query_one(Input).focus()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < _NARROW, "-narrow")

    def on_mount(self) -> None:
        # Headless (tests, screenshots) nobody watches the cursor blink, and a blink caught
        # half-way would make the same screen two pictures.
        self.query_one("#filter", Input).cursor_blink = not self.app.is_headless
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
            notes.update(glue_quantities(f"{head}\n\n{scenario.notes or scenario.summary}"))
            self.query_one("#preview").border_title = "notes"

    def _entry(self, option: Option) -> Entry | None:
        return self.entries[int(option.id)] if option.id is not None else None

    def on_option_list_option_highlighted(self, message: OptionList.OptionHighlighted) -> None:
        if message.option is not message.option_list.highlighted_option:
            return  # sent before the filter changed the list: the option is gone
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
        from concsim.ui.screens.help import show_help

        show_help(self.app, BROWSER_BINDINGS, "browser")
