"""Every built-in Textual theme draws the lanes readably: contrast computed, not eyeballed.

The threshold is ``ink.READABLE``, 3:1 (WCAG 2.1 success criterion 1.4.11, non-text
contrast, also the large-text minimum): each glyph's colour against the background and
against every phase band it may sit on. A glyph on a cell of its own colour (✗ failed, ↯
re-raised, f finally) is black or white, whichever reads better: at least 4.5:1 (WCAG's
text minimum; one of the two always reaches 4.58:1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from appkit import build, sync
from rich.color import ColorType
from rich.color_triplet import ColorTriplet
from rich.style import Style
from textual.theme import BUILTIN_THEMES

from concsim import palette
from concsim.ink import DEFAULT_VARIABLES, READABLE, Inks, Role, blend, contrast, luminance

WHITE, BLACK = ColorTriplet(255, 255, 255), ColorTriplet(0, 0, 0)


def variables(name: str) -> dict[str, str]:
    """What ``App.get_css_variables()`` gives for a theme (its color system, then its own)."""
    theme = BUILTIN_THEMES[name]
    return {**theme.to_color_system().generate(), **theme.variables}


@pytest.fixture(autouse=True)
def _default_palette() -> Iterator[None]:
    yield
    palette.use_theme(DEFAULT_VARIABLES)  # the palette is one per process


def glyph_styles() -> dict[str, Style]:
    """Every style that draws a glyph in its own colour on the lanes' background."""
    styles = {f"state {state}": look.style for state, look in palette.LOOKS.items()}
    styles |= {f"moment {cue}": look.style for cue, look in palette.CUE_LOOKS.items()}
    styles |= {f"future {state}": style for state, (_, style) in palette.FUTURE_LOOKS.items()}
    styles |= {name: getattr(palette, name) for name in ("GIL_HELD", "GIL_FREE", "DIM", "RULER")}
    styles["PLAYHEAD"] = palette.PLAYHEAD
    styles["CYCLE"] = palette.CYCLE
    return styles


def test_contrast_is_the_wcag_ratio() -> None:
    """Black on white is 21:1, a colour on itself 1:1, and #767676 on white 4.54:1 (the
    grey WCAG's examples give as the lightest to pass 4.5:1)."""
    assert contrast(BLACK, WHITE) == pytest.approx(21.0)
    assert contrast(WHITE, WHITE) == pytest.approx(1.0)
    assert contrast(ColorTriplet(0x76, 0x76, 0x76), WHITE) == pytest.approx(4.54, abs=0.01)
    assert luminance(WHITE) == pytest.approx(1.0)
    assert blend(BLACK, WHITE, 0.5) == ColorTriplet(128, 128, 128)


def test_the_default_colours_are_textual_darks() -> None:
    """The headless timeline's colours are textual-dark's, the app's default theme."""
    dark = variables("textual-dark")
    assert {role.value: dark[role.value] for role in Role} == DEFAULT_VARIABLES


HEX_THEMES = [name for name in BUILTIN_THEMES if not name.startswith("ansi")]


@pytest.mark.parametrize("name", HEX_THEMES)
def test_every_glyph_reads_on_every_surface_of_every_theme(name: str) -> None:
    """Glyphs at least 3:1 on the background and on each band; glyphs on a coloured cell
    at least 4.5:1 on it."""
    inks = palette.use_theme(variables(name))
    bands = {phase: style.bgcolor for phase, style in palette.PHASE_STYLES.items()}
    surfaces = {"background": inks.background} | {
        f"band {phase}": colour.triplet for phase, colour in bands.items() if colour is not None
    }
    assert len(surfaces) == 1 + len(palette.Phase)
    faint = []
    for what, style in glyph_styles().items():
        if style.bgcolor is not None:
            cell, glyph = style.bgcolor.triplet, style.color.triplet if style.color else None
            assert cell is not None and glyph is not None, what
            if contrast(glyph, cell) < 4.5:
                faint.append(f"{what} on its cell: {contrast(glyph, cell):.2f}")
            continue
        assert style.color is not None and style.color.triplet is not None, what
        for surface, colour in surfaces.items():
            ratio = contrast(style.color.triplet, colour)
            if ratio < READABLE:
                faint.append(f"{what} on {surface}: {ratio:.2f}")
    assert faint == [], name


@pytest.mark.parametrize("name", ["textual-light", "solarized-light", "catppuccin-latte"])
def test_light_themes_are_not_drawn_in_the_dark_themes_colours(name: str) -> None:
    """A light theme's lanes are darker than its background: running Python is a dark
    green on textual-light, not textual-dark's #4EBF71."""
    inks = palette.use_theme(variables(name))
    running = palette.LOOKS[palette.LaneState.RUNNING].style.color
    assert running is not None and running.triplet is not None
    assert luminance(running.triplet) < luminance(inks.background)


@pytest.mark.parametrize("name", ["ansi-dark", "ansi-light"])
def test_ansi_themes_use_the_terminals_own_colours(name: str) -> None:
    """An ANSI theme's colours are the terminal's, which only it knows: the lanes use the
    terminal's colour names (green for $success), never a colour computed here."""
    palette.use_theme(variables(name))
    running = palette.LOOKS[palette.LaneState.RUNNING].style.color
    assert running is not None and running.type is ColorType.STANDARD
    assert running.name == "green"
    for what, style in glyph_styles().items():
        for colour in (style.color, style.bgcolor):
            assert colour is None or colour.type is ColorType.STANDARD, what


@sync
async def test_changing_the_theme_recolours_the_lanes(tmp_path: Path) -> None:
    """Ctrl+P's "Change theme" to textual-light: the lanes' rows are drawn again in its
    colours, on its background (no cell left on the terminal's default)."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        app.advance_to(0.5)
        await pilot.pause()
        app.theme = "textual-light"
        await pilot.pause()
        bands = [ink.tint for ink in palette.PHASE_INKS.values() if ink.tint is not None]
        light = Inks(variables("textual-light"), bands)
        running = palette.LOOKS[palette.LaneState.RUNNING].style.color
        assert running is not None
        assert running.triplet == light.glyph(Role.SUCCESS)
        lanes = app.run_screen.lanes
        strip = lanes.render_line(1)
        backgrounds = {
            seg.style.bgcolor.triplet for seg in strip if seg.style and seg.style.bgcolor
        }
        assert light.background in backgrounds
        assert all(seg.style is not None and seg.style.bgcolor is not None for seg in strip)
