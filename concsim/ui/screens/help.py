"""The help screen: every key (as remapped), the legend, and where the keymap file lives."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from concsim import palette
from concsim.events import Phase
from concsim.palette import Cue, legend
from concsim.ui.keymap import APP_BINDINGS, keymap_path, shown_path


def help_table(
    bindings: Sequence[Binding], keymap: dict[str, str], key_names: Callable[[str], str]
) -> Table:
    """Keys (as remapped, shown as on a keyboard), what they do, and the id to remap them."""
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("keys", style=palette.TONES["info!"], no_wrap=True)
    table.add_column("action")
    table.add_column("id", style=palette.TONES["faint"], no_wrap=True)
    for binding in (*bindings, *APP_BINDINGS):
        keys = keymap.get(binding.id or "", binding.key)
        about = binding.description
        if binding.tooltip:
            about += f": {binding.tooltip}"
        table.add_row(key_names(keys), about, binding.id or "")
    return table


class HelpScreen(ModalScreen[None]):
    """Keys, legend, keymap file; any of esc, ? or q closes it."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="close_help"),
    ]

    def __init__(self, bindings: Sequence[Binding]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        keymap: dict[str, str] = getattr(self.app, "keymap", {})
        key_names = getattr(self.app, "key_names", str)
        body = Group(
            help_table(self.bindings, keymap, key_names),
            Text(),
            Text("Lanes", style="bold"),
            legend(cues=tuple(Cue), phases=tuple(Phase), locks=True, cycle=True, semaphores=True),
            Text(),
            Text.assemble(
                ("Remap any key by its id in ", palette.TONES["faint"]),
                (shown_path(keymap_path()), "bold"),
                (
                    ', e.g. fail = "F". Ctrl+P lists every action; the theme is in there too.',
                    palette.TONES["faint"],
                ),
            ),
        )
        with VerticalScroll(id="help") as scroll:
            scroll.border_title = "help · esc closes"
            yield Static(body)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def show_help(app: App[Any], bindings: Sequence[Binding], name: str) -> None:
    """Show the help for ``bindings``: one screen per ``name``, built the first time and
    kept (installed), so that pressing ``?`` again costs what showing it costs, not its
    table measured and drawn anew. A new theme drops the kept ones (``forget_help``)."""
    key = f"help-{name}"
    if not app.is_screen_installed(key):
        app.install_screen(HelpScreen(bindings), key)
    app.push_screen(key)


def forget_help(app: App[Any]) -> None:
    """Drop the help screens kept (and not shown): their colours are the old theme's."""
    for key in list(app._installed_screens):
        screen = app._installed_screens[key]
        if key.startswith("help-") and screen not in app.screen_stack:
            app.uninstall_screen(key)
