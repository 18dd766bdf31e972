"""The work a key does on the UI thread, counted (layouts asked, widgets mounted), never
timed: what it changes on screen, not the run's length."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

from appkit import Clock, build, sync
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from textual.app import App, ComposeResult
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Markdown, Static
from textual.widgets._footer import FooterKey

from concsim.events import LaneState, LaneStateChanged
from concsim.ui.jobs import Job, JobKind, drive
from concsim.ui.panels import notes_markdown
from concsim.ui.screens.help import HelpScreen, Laid, help_widths
from concsim.ui.turns import Turns
from concsim.ui.widgets.eventlog import _FIRST, _SCAN, EventLog
from concsim.ui.widgets.footer import KeysFooter, SteadyKey
from concsim.ui.widgets.notesmarkdown import NotesMarkdown
from concsim.ui.widgets.panels import NotesPanel


class Work:
    """Layouts asked (by which widgets), layouts of the whole screen made, widgets whose
    styles were computed again, and widgets mounted while counting."""

    def __init__(self) -> None:
        self.layouts: list[str] = []
        self.screen_layouts = 0
        self.restyled: list[str] = []
        self.mounted: list[str] = []


@contextmanager
def counted() -> Iterator[Work]:
    """Count every ``refresh(layout=True)``, every layout of a screen (not a scroll), every
    widget restyled and every widget mounted meanwhile."""
    work = Work()
    refresh, register = Widget.refresh, App._register
    lay_out, apply = Screen._refresh_layout, Stylesheet.apply

    def counting_refresh(self: Widget, *args: object, layout: bool = False, **kw: object) -> Widget:
        if layout:
            work.layouts.append(f"{type(self).__name__}#{self.id}")
        return refresh(self, *args, layout=layout, **kw)  # type: ignore[arg-type]

    def counting_register(
        self: App[object], parent: object, *widgets: Widget, **kw: object
    ) -> object:
        work.mounted.extend(type(widget).__name__ for widget in widgets)
        return register(self, parent, *widgets, **kw)  # type: ignore[arg-type]

    def counting_lay_out(self: Screen[object], size: object = None, scroll: bool = False) -> None:
        work.screen_layouts += not scroll
        lay_out(self, size, scroll)  # type: ignore[arg-type]

    def counting_apply(self: Stylesheet, node: DOMNode, *args: object, **kw: object) -> None:
        work.restyled.append(type(node).__name__)
        apply(self, node, *args, **kw)  # type: ignore[arg-type]

    Widget.refresh = counting_refresh  # type: ignore[method-assign,assignment]
    App._register = counting_register  # type: ignore[method-assign,assignment]
    Screen._refresh_layout = counting_lay_out  # type: ignore[method-assign,assignment]
    Stylesheet.apply = counting_apply  # type: ignore[method-assign,assignment]
    try:
        yield work
    finally:
        Widget.refresh = refresh  # type: ignore[method-assign]
        App._register = register  # type: ignore[method-assign]
        Screen._refresh_layout = lay_out  # type: ignore[method-assign]
        Stylesheet.apply = apply  # type: ignore[method-assign]


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
async def test_variants_notes_are_built_ahead_and_v_mounts_nothing(tmp_path: Path) -> None:
    """process-overhead at 160 columns (notes beside the lanes): once the notes are shown,
    every variant's notes are built, hidden, at idle moments, each once; then v, V, v, V
    mount nothing and each shows the notes of the variant running."""
    app, _ = build("process-overhead", tmp_path, clock=Clock())
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.run_screen
        notes = screen.query_one(NotesPanel)
        names = {None, *screen.session.scenario.variant_names}
        await _notes_built(pilot, notes)
        assert len(notes.query(NotesMarkdown)) == len(names)
        assert [m for m in notes.query(Markdown) if m.display] == [notes.shown]
        for key in ("v", "V", "v", "V"):
            with counted() as work:
                await pilot.press(key)
                await screen.wait_idle()
                await pilot.pause()
            assert work.mounted == []
            shown = notes.shown
            assert isinstance(shown, Markdown) and shown.display
            session = screen.session
            assert shown.source == notes_markdown(session.scenario, session.variant)
            assert [m for m in notes.query(Markdown) if m.parent is notes and m.display] == [shown]
        assert len(notes.query(NotesMarkdown)) == len(names)
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


async def _notes_built(pilot: Pilot[int], notes: NotesPanel) -> None:
    """Wait until every variant's notes are built (ahead of the keys, at idle moments)."""
    names = {None, *notes.scenario.variant_names}
    while set(notes.built) != names or not all(m.children for m in notes.query(NotesMarkdown)):
        await pilot.pause()  # each one's blocks are mounted after it


@sync
async def test_n_and_o_restyle_nothing_and_cost_the_same_at_any_point_of_the_run(
    tmp_path: Path,
) -> None:
    """n and o at 160 columns show and hide the notes and the code view by their own
    display: no widget's styles are computed again (a class on the screen restyled all
    of them, about 120), nothing is mounted, and the screen is laid out a few times at
    most, early in the run as ten times later (the work follows the screen, not the
    history)."""
    app, _ = build("process-overhead", tmp_path, clock=Clock())
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.run_screen
        notes, code = screen.query_one(NotesPanel), screen.query_one("#code")
        await _notes_built(pilot, notes)
        layouts: dict[float, list[int]] = {}
        for t in (0.01, 0.1):
            app.advance_to(t)
            await pilot.pause()
            layouts[t] = []
            for key, shown in (("n", (False, False)), ("n", (True, False)), ("o", (False, True))):
                with counted() as work:
                    await pilot.press(key)
                    await pilot.pause()
                    await pilot.pause()
                assert (notes.display, code.display) == shown
                assert work.restyled == [] and work.mounted == []
                assert "LanesView#lanes" not in work.layouts
                layouts[t].append(work.screen_layouts)
            await pilot.press("o")
            await pilot.pause()
        # The first layout makes the frame; the widgets given a new width may ask for one
        # more each (their lines wrap anew): the same few, early or late in the run.
        assert all(1 <= count <= 4 for count in (*layouts[0.01], *layouts[0.1]))
    assert app._exception is None


@sync
async def test_notes_under_the_lanes_restyle_the_stage_alone(tmp_path: Path) -> None:
    """At 80 columns n puts the notes under the lanes: only the stage (lanes, legend, log,
    futures, faults) is restyled, never the notes' blocks or the footer's keys; hidden
    again, the same; the notes are built once (the first time they are shown)."""
    app, _ = build("io-threads", tmp_path, clock=Clock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.run_screen
        app.advance_to(0.1)
        await pilot.pause()
        await pilot.press("n")
        notes = screen.query_one(NotesPanel)
        await _notes_built(pilot, notes)
        stage = screen.query_one("#stage")
        stage_nodes = len(list(stage.walk_children(with_self=True)))
        for key, shown in (("n", False), ("n", True)):
            with counted() as work:
                await pilot.press(key)
                await pilot.pause()
                await pilot.pause()
            assert notes.display is shown and screen.notes_shown is shown
            assert stage.has_class("-over-notes") is shown
            assert work.mounted == []
            assert "FooterKey" not in work.restyled and "NotesParagraph" not in work.restyled
            assert 0 < len(work.restyled) <= 2 * stage_nodes  # the stage and its scrollbars
    assert app._exception is None


@sync
async def test_help_is_laid_out_ahead_and_the_first_question_mark_lays_out_nothing(
    tmp_path: Path,
) -> None:
    """Once the run's first frame is drawn, the help's body is laid out on a worker at the
    widths it takes (with and without its scrollbar); the first ? lays nothing out again,
    nor does the second."""
    app, _ = build("io-threads", tmp_path, clock=Clock())
    async with app.run_test(size=(100, 30)) as pilot:
        while not app.is_screen_installed("help-run"):
            await pilot.pause()
        help_screen = app.get_screen("help-run")
        assert isinstance(help_screen, HelpScreen)
        body = help_screen.body
        while body.laid < len(help_widths(app.size)):
            await pilot.pause()
        laid = body.laid
        for _ in range(2):
            await pilot.press("?")
            await pilot.pause()
            assert app.screen is help_screen
            assert help_screen.query_one(Static).render_line(0).text.startswith("keys")
            await pilot.press("escape")
            await pilot.pause()
        assert body.laid == laid == 2
    assert app._exception is None


def test_the_help_body_is_laid_out_once_per_width() -> None:
    """``Laid`` asks Rich for the lines once per width, and gives back the same lines."""
    console = Console(width=200, record=False)
    table = Table("keys", "action")
    table.add_row("space", "Play or pause the run, as a person reads it")
    body = Laid(table)
    first = console.render_lines(body, console.options.update_width(30))
    again = console.render_lines(body, console.options.update_width(30))
    wider = console.render_lines(body, console.options.update_width(60))
    assert first == again == console.render_lines(table, console.options.update_width(30))
    assert wider == console.render_lines(table, console.options.update_width(60))
    assert body.laid == 2


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EventLog(id="log")


def changes(count: int) -> list[LaneStateChanged]:
    """``count`` lane changes, 1 ms apart, alternating between two lanes."""
    return [
        LaneStateChanged(
            t=k / 1000, seq=k, lane=f"thread-{k % 2}", state=LaneState.RUNNING, step=f"step {k}"
        )
        for k in range(count)
    ]


def test_a_filtered_log_scans_one_slice_per_frame() -> None:
    """e on a 100,000-event log: between two frames drawn the filter looks at one slice of
    events at most (the frame after the key comes after one slice, whatever the length)."""

    async def scanned_at_frames() -> list[int]:
        app = LogApp()
        async with app.run_test(size=(60, 12)) as pilot:
            log = app.query_one(EventLog)
            seen: list[int] = []
            display = app._display

            def recording(screen: Screen[object], renderable: object) -> None:
                display(screen, renderable)  # type: ignore[arg-type]
                if renderable is not None:
                    seen.append(log.scanned)

            app._display = recording  # type: ignore[method-assign]
            events = changes(100_000)
            log.rebuild(events, len(events), lambda e: getattr(e, "lane", "") == "thread-1")
            while log.is_scanning:
                await pilot.pause()
            await pilot.pause()
            return seen

    seen = asyncio.run(scanned_at_frames())
    assert seen[0] >= 100_000 - _FIRST - _SCAN and seen[-1] == 0
    assert all(0 <= before - after <= _SCAN for before, after in pairwise(seen))


def test_a_job_starts_its_engine_once_the_keys_turn_is_over() -> None:
    """A job that builds its run (v, V, N, a fault on a big run) first sleeps through the
    view's claim on the interpreter: the key that started it is answered alone."""
    turns = Turns()
    turns.claim(0.03)
    started: list[float] = []

    def make() -> Any:
        started.append(time.perf_counter())
        raise RuntimeError("built")  # the job ends here: only its start is looked at

    job = Job(JobKind.VARIANT, None, 0.0, make=make)
    job.turns = turns
    posted: list[object] = []
    drive(job, posted.append)
    assert started[0] >= turns.until
    assert job.error == "RuntimeError: built" and len(posted) == 1
