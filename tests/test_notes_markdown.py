"""The notes' Markdown keeps a number with its unit on one line, in the widget itself: Textual's
Markdown turns each run of white space in a paragraph into one plain space, no-break
spaces too, so the glue of ``glue_quantities`` must survive that step."""

from __future__ import annotations

from pathlib import Path

from appkit import build, sync
from textual.app import App, ComposeResult
from textual.widgets import Markdown

from concsim.ui.widgets.notesmarkdown import NotesMarkdown, NotesParagraph
from concsim.ui.widgets.panels import NotesPanel
from concsim.ui.wrapping import glue_quantities, honour_no_break_spaces

NOTES = glue_quantities(
    "`connect()` runs to its end at\n60 ms, but the lock it returns\ncannot be pickled back "
    "and 0.5 s more.\n\n- a list item that waits for 0.5 s\n"
)


class _Notes(App[None]):
    def __init__(self, widget: Markdown) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def _lines(widget: Markdown, width: int) -> list[str]:
    """The notes as drawn ``width`` cells wide, a line per row, no-break spaces as ``~``."""
    honour_no_break_spaces()
    app = _Notes(widget)
    async with app.run_test(size=(width, 12)) as pilot:
        await pilot.pause()
        strips = app.screen._compositor.render_update(full=True).strips  # the screen's rows
        rows = ["".join(segment.text for segment in strip) for strip in strips]
    return [row.rstrip().replace("\u00a0", "~") for row in rows if row.strip()]


@sync
async def test_a_number_is_never_wrapped_apart_from_its_unit_in_the_notes() -> None:
    """At 36 cells, 60 ms and 0.5 s each move to the next line whole, in a paragraph and
    in a list item; Textual's own Markdown leaves 60 and 0.5 at a line's end."""
    assert await _lines(NotesMarkdown(NOTES), 36) == [
        "  connect() runs to its end at",
        "  60~ms, but the lock it returns",
        "  cannot be pickled back and 0.5~s",
        "  more.",
        "  • a list item that waits for",
        "    0.5~s",
    ]
    assert await _lines(Markdown(NOTES), 36) == [
        "  connect() runs to its end at 60",
        "  ms, but the lock it returns",
        "  cannot be pickled back and 0.5 s",
        "  more.",
        "  • a list item that waits for 0.5",
        "    s",
    ]


@sync
async def test_the_notes_panel_keeps_a_variant_s_quantities_whole(tmp_path: Path) -> None:
    """unpicklable-values, ``v``: the variant's note "runs to its end at 60 ms" is a
    paragraph of the notes' own Markdown, and 60 ms stays joined in it."""
    app, _ = build("unpicklable-values", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await app.run_screen.wait_idle()
        await pilot.pause()
        notes = app.run_screen.query_one(NotesPanel).shown
        assert isinstance(notes, NotesMarkdown) and notes.display
        texts = [str(block._content) for block in notes.query(NotesParagraph)]
        said = next(text for text in texts if text.startswith("connect() runs"))
        assert "at 60\u00a0ms, but" in said
