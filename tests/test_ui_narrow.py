"""80 columns: the footer shows its keys and ^p palette; the legend never splits an entry;
the deadlock's labels are whole."""

from __future__ import annotations

from pathlib import Path

from appkit import build, sync
from rich.text import Text
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from concsim import palette
from concsim.ui.legend import pack
from concsim.ui.widgets.code import CodeView
from concsim.ui.widgets.panels import Legend


@sync
async def test_at_80_columns_the_footer_shows_the_palette_and_o_still_works(
    tmp_path: Path,
) -> None:
    """The footer leaves out o and w (help and the palette name them) so that ^p palette
    fits beside the rest; o still shows the code. From 90 columns it shows them all."""
    app, _ = build("deadlock-lock-order", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(Footer)
        keys = [key.key_display for key in footer.query(FooterKey)]
        shown = ["space", ".", ",", ">", "<", "f", "t", "c", "k", "h", "i", "n", "?", "q", "^p"]
        assert keys == shown
        right = max(key.region.right for key in footer.query(FooterKey) if key.key_display != "^p")
        palette_key = next(key for key in footer.query(FooterKey) if key.key_display == "^p")
        assert right <= palette_key.region.x and palette_key.region.right <= 80
        await pilot.press("o")
        await pilot.pause()
        assert app.screen.query_one(CodeView).display
        await pilot.resize_terminal(100, 30)
        for _ in range(50):
            await pilot.pause()
            keys = [key.key_display for key in app.screen.query_one(Footer).query(FooterKey)]
            if "o" in keys:
                break
        assert keys[-6:] == ["w", "n", "o", "?", "q", "^p"]


@sync
async def test_at_80_columns_the_deadlock_reads_whole(tmp_path: Path) -> None:
    """deadlock-lock-order at its end, 80x24: each label names its lock and holder, the
    legend names the cycle with its glyphs on the same line."""
    app, _ = build("deadlock-lock-order", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.advance_to(1.0)
        await pilot.pause()
        await pilot.pause()
        lanes = app.run_screen.lanes
        lines = ["".join(seg.text for seg in lanes.render_line(k)).rstrip() for k in range(5)]
        assert lines[3].endswith("= lock_b held by thread-2")
        assert lines[4].endswith("= lock_a held by thread-1")
        legend = str(app.screen.query_one(Legend).render()).splitlines()
        assert any(line.lstrip().startswith("┐┘ " + palette.CYCLE_WORDS) for line in legend)


def test_legend_lines_never_split_an_entry() -> None:
    """Entries go on the next line whole; none is wider than its line unless alone."""
    entries = [Text("~ I/O or sleep"), Text("= blocked"), Text("┐┘ " + palette.CYCLE_WORDS)]
    assert pack(entries, 40).plain.splitlines() == [
        "~ I/O or sleep  = blocked",
        "┐┘ " + palette.CYCLE_WORDS,
    ]
    assert pack(entries, None).plain == "~ I/O or sleep  = blocked  ┐┘ " + palette.CYCLE_WORDS
