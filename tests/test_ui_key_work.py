"""The work a key does on the UI thread, counted (layouts asked, widgets mounted), never
timed: what it changes on screen, not the run's length."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from appkit import Clock, build, sync
from rich.cells import cell_len
from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets._footer import FooterKey

from concsim.ui.panels import notes_markdown
from concsim.ui.widgets.footer import KeysFooter, SteadyKey
from concsim.ui.widgets.panels import NotesPanel


class Work:
    """Layouts asked (by which widgets) and widgets mounted while counting."""

    def __init__(self) -> None:
        self.layouts: list[str] = []
        self.mounted: list[str] = []


@contextmanager
def counted() -> Iterator[Work]:
    """Count every ``refresh(layout=True)`` and every widget mounted meanwhile."""
    work = Work()
    refresh, register = Widget.refresh, App._register

    def counting_refresh(self: Widget, *args: object, layout: bool = False, **kw: object) -> Widget:
        if layout:
            work.layouts.append(f"{type(self).__name__}#{self.id}")
        return refresh(self, *args, layout=layout, **kw)  # type: ignore[arg-type]

    def counting_register(
        self: App[object], parent: object, *widgets: Widget, **kw: object
    ) -> object:
        work.mounted.extend(type(widget).__name__ for widget in widgets)
        return register(self, parent, *widgets, **kw)  # type: ignore[arg-type]

    Widget.refresh = counting_refresh  # type: ignore[method-assign,assignment]
    App._register = counting_register  # type: ignore[method-assign,assignment]
    try:
        yield work
    finally:
        Widget.refresh = refresh  # type: ignore[method-assign]
        App._register = register  # type: ignore[method-assign]


def _play_key(footer: KeysFooter) -> FooterKey:
    return next(key for key in footer.query(FooterKey) if key.action == "toggle_play")


async def _composed(pilot: Pilot[int], footer: KeysFooter) -> None:
    while not footer.query(FooterKey):
        await pilot.pause()


@sync
async def test_play_and_pause_keep_one_footer_layout(tmp_path: Path) -> None:
    """space, space: the play key says Pause, then Play, at one width (as wide as
    "Pause"); nothing asks for a layout, no widget is mounted, every key stays in place."""
    app, _ = build("io-threads", tmp_path, clock=Clock())
    async with app.run_test(size=(100, 30)) as pilot:
        footer = app.run_screen.query_one(KeysFooter)
        await _composed(pilot, footer)
        app.advance_to(0.05)
        await pilot.pause()
        await pilot.pause()
        key = _play_key(footer)
        assert isinstance(key, SteadyKey) and key.widest == cell_len("Pause")
        places = [widget.region for widget in footer.query(FooterKey)]
        for word in ("Pause", "Play"):
            with counted() as work:
                await pilot.press("space")
                await pilot.pause()
                await pilot.pause()
            assert key.description == word and _play_key(footer) is key
            assert [widget.region for widget in footer.query(FooterKey)] == places
            assert work.layouts == [] and work.mounted == []
    assert app._exception is None


@sync
async def test_variants_notes_are_mounted_once_each(tmp_path: Path) -> None:
    """v, V, v, V on process-overhead (notes beside the lanes at 160 columns): the first v
    mounts the variant's notes, every press after that mounts nothing (the notes built are
    shown again), and each shows the notes of the variant running."""
    app, _ = build("process-overhead", tmp_path, clock=Clock())
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.run_screen
        notes = screen.query_one(NotesPanel)
        while notes.shown is None:
            await pilot.pause()
        mounted: list[list[str]] = []
        for key in ("v", "V", "v", "V"):
            with counted() as work:
                await pilot.press(key)
                await screen.wait_idle()
                await pilot.pause()
            mounted.append([name for name in work.mounted if name == "NotesMarkdown"])
            shown = notes.shown
            assert isinstance(shown, Markdown) and shown.display
            session = screen.session
            assert shown.source == notes_markdown(session.scenario, session.variant)
            assert [m for m in notes.query(Markdown) if m.parent is notes and m.display] == [shown]
        assert mounted == [["NotesMarkdown"], [], [], []]
    assert app._exception is None


@sync
async def test_notes_toggle_mounts_nothing_and_keeps_the_lanes_rows(tmp_path: Path) -> None:
    """n, n, n, n on process-overhead at 160 columns (notes shown beside the lanes): no
    widget is mounted (the notes built once stay, hidden or shown), and the lanes never ask
    for a layout of their own (their rows do not change, only the width they are given)."""
    app, _ = build("process-overhead", tmp_path, clock=Clock())
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.run_screen
        app.advance_to(0.04)
        notes = screen.query_one(NotesPanel)
        while notes.shown is None:
            await pilot.pause()
        await pilot.pause()
        for shown in (False, True, False, True):
            with counted() as work:
                await pilot.press("n")
                await pilot.pause()
                await pilot.pause()
            assert notes.display is shown
            assert work.mounted == []
            assert "LanesView#lanes" not in work.layouts
    assert app._exception is None
