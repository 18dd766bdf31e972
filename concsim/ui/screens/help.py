"""The help screen: every key (as remapped), the legend, and where the keymap file lives.

Its table and legend take tens of milliseconds to lay out (Rich measures every cell), and
Textual asks a ``Static`` for its lines more than once on the way to a frame (its height
for the scroll, then its lines, at each width tried). The body is therefore laid out once
per width (``Laid``) and kept, and the run screen lays it out ahead, on a worker thread
once its first frame is drawn (``prepare_help``), at the widths the help will take: ``?``
then costs what showing the screen costs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
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


class Laid:
    """A renderable laid out once per width: its lines kept, drawn again as they are.
    ``laid`` counts the layouts (one per width, whichever thread asked first)."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._lines: dict[int, list[list[Segment]]] = {}
        self._lock = threading.Lock()  # the worker laying out ahead, and the UI thread
        self.laid = 0

    def lines(self, console: Console, options: ConsoleOptions) -> list[list[Segment]]:
        width = options.max_width
        with self._lock:
            lines = self._lines.get(width)
            if lines is None:
                self.laid += 1
                plain = options.update(height=None)
                lines = self._lines[width] = console.render_lines(
                    self.renderable, plain, pad=False, new_lines=False
                )
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        new_line = Segment.line()
        for line in self.lines(console, options):
            yield from line
            yield new_line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)  # it fills the width it is given


HELP_WIDTH, HELP_MOST = 0.9, 100
"""The help's box: a share of the screen's width, at most so many columns (``#help`` in
``concsim.tcss``)."""
_FRAME = 4  # the box's border and padding, in columns


def help_widths(size: Size) -> tuple[int, ...]:
    """The widths the help's body takes on a screen of ``size``: the box's, less the
    scrollbar's (2 columns) when the body is taller than the box."""
    width = min(int(size.width * HELP_WIDTH), HELP_MOST) - _FRAME
    return (width, width - 2) if width > 2 else ()


class HelpScreen(ModalScreen[None]):
    """Keys, legend, keymap file; any of esc, ? or q closes it."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="close_help"),
    ]

    def __init__(self, bindings: Sequence[Binding]) -> None:
        super().__init__()
        self.bindings = bindings
        self._body: Laid | None = None

    @property
    def body(self) -> Laid:
        """The table, legend and keymap line, laid out once per width."""
        if self._body is None:
            self._body = Laid(self._content())
        return self._body

    def _content(self) -> Group:
        keymap: dict[str, str] = getattr(self.app, "keymap", {})
        key_names = getattr(self.app, "key_names", str)
        return Group(
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

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as scroll:
            scroll.border_title = "help · esc closes"
            yield Static(self.body)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def show_help(app: App[Any], bindings: Sequence[Binding], name: str) -> None:
    """Show the help for ``bindings``: one screen per ``name``, built the first time and
    kept (installed), so that pressing ``?`` again costs what showing it costs, not its
    table measured and drawn anew. A new theme drops the kept ones (``forget_help``)."""
    _kept(app, bindings, name)
    app.push_screen(f"help-{name}")


def prepare_help(app: App[Any], bindings: Sequence[Binding], name: str) -> threading.Thread:
    """Build the help for ``bindings`` (as ``show_help`` would) and lay its body out on a
    worker thread at the widths it takes at the app's size, for the first ``?``."""
    body = _kept(app, bindings, name).body  # built here: the app is read on the UI thread
    ahead = (body, app.console, app.console_options, app.size)
    worker = threading.Thread(target=_lay_out, args=ahead, name="help", daemon=True)
    worker.start()
    return worker


def _lay_out(body: Laid, console: Console, options: ConsoleOptions, size: Size) -> None:
    """Lay ``body`` out at the widths it takes on a screen of ``size`` (kept for the first
    frame: any thread may)."""
    for width in help_widths(size):
        body.lines(console, options.update(width=width, highlight=False))


def _kept(app: App[Any], bindings: Sequence[Binding], name: str) -> HelpScreen:
    key = f"help-{name}"
    if not app.is_screen_installed(key):
        app.install_screen(HelpScreen(bindings), key)
    screen = app.get_screen(key)
    assert isinstance(screen, HelpScreen)
    return screen


def forget_help(app: App[Any]) -> None:
    """Drop the help screens kept (and not shown): their colours are the old theme's."""
    for key in list(app._installed_screens):
        screen = app._installed_screens[key]
        if key.startswith("help-") and screen not in app.screen_stack:
            app.uninstall_screen(key)
