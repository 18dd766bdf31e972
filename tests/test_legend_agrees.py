"""The legend and the cells can never disagree: every glyph drawn is explained, every entry
explained is drawn, for every bundled scenario, at its end and halfway, at several zooms."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.segment import Segment

from concsim import palette
from concsim.engine import Simulation
from concsim.scenario.loader import load_scenario
from concsim.ui.cells import Window
from concsim.ui.draw import Columns, draw_lane
from concsim.ui.legend import Key, legend_of
from concsim.ui.timeline import Timeline

SCENARIOS = sorted(Path(__file__).parent.parent.joinpath("scenarios").glob("*.yaml"))
COLUMNS = Columns(name=16, bar=90, label=0)


def _drawn(path: Path, fraction: float, width_in_runs: float) -> tuple[list[list[Segment]], str]:
    sim = Simulation(load_scenario(path))
    sim.run()
    end = sim.now
    now = end * fraction
    timeline = Timeline()
    timeline.feed([event for event in sim.events if event.t <= now])
    window = Window(0.0, max(end * width_in_runs / COLUMNS.bar, 1e-6), COLUMNS.bar)
    drawn: set[Key] = set()
    rows = [
        draw_lane(track, window, now, COLUMNS, story=timeline.story, drawn=drawn)
        for track in timeline.rows
        if not track.is_gil
    ]
    return rows, legend_of(drawn).plain


@pytest.mark.parametrize("zoom", [1.0, 0.1])
@pytest.mark.parametrize("fraction", [0.5, 1.0])
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_glyph_and_band_drawn_is_in_the_legend_and_nothing_else(
    path: Path, fraction: float, zoom: float
) -> None:
    """Glyphs from the bars' cells (GIL rows apart: their digits and letters are holders)."""
    rows, legend = _drawn(path, fraction, zoom)
    bars = [row[2:] for row in rows]  # the name and its gap come first
    glyphs = {char for bar in bars for segment in bar for char in segment.text} - {" "}
    backgrounds = {
        segment.style.bgcolor
        for bar in bars
        for segment in bar
        if segment.style is not None and segment.style.bgcolor is not None
    }
    underlined = any(seg.style is not None and seg.style.underline for bar in bars for seg in bar)
    for state, look in palette.LOOKS.items():
        glyph = palette.cell_glyph(state)
        assert (f"{glyph} {look.words}" in legend) == (glyph in glyphs), (state, legend)
    for cue, look in palette.CUE_LOOKS.items():
        assert (f"{look.mark} {look.words}" in legend) == (look.mark in glyphs), (cue, legend)
    for phase, style in palette.PHASE_STYLES.items():
        assert (palette.PHASE_WORDS[phase] in legend) == (style.bgcolor in backgrounds), phase
    spans = (palette.LOCK_WORDS, palette.SEMAPHORE_WORDS, palette.LOCK_OR_SEMAPHORE_WORDS)
    assert any(f"ab {words}" in legend for words in spans) == underlined


@pytest.mark.parametrize(
    ("stem", "words"),
    [
        ("race-with-lock", palette.LOCK_WORDS),
        ("semaphore-limit", palette.SEMAPHORE_WORDS),
    ],
)
def test_the_legend_names_what_the_underlined_span_holds(stem: str, words: str) -> None:
    """A semaphore has several holders, each with a place: its spans are not called a lock."""
    path = next(path for path in SCENARIOS if path.stem == stem)
    _, legend = _drawn(path, 0.5, 1.0)
    assert f"ab {words}" in legend, legend
    others = {palette.LOCK_WORDS, palette.SEMAPHORE_WORDS} - {words}
    assert not any(f"ab {other}" in legend for other in others), legend


LABELLED = Columns(name=16, bar=60, label=30)
VARIANTS = [
    (path, variant) for path in SCENARIOS for variant in (None, *load_scenario(path).variant_names)
]


@pytest.mark.parametrize(
    ("path", "variant"), VARIANTS, ids=[f"{p.stem}-{v or 'as-written'}" for p, v in VARIANTS]
)
def test_every_glyph_drawn_anywhere_on_a_row_is_in_the_legend(
    path: Path, variant: str | None
) -> None:
    """Bars, the status label's glyph at the playhead (a lane pickling for 0.2 ms shows ``≈``
    there, never in its bar) and the GIL rows: at ten playheads of every variant, each
    glyph a row draws is named by the legend made from what was drawn."""
    sim = Simulation(load_scenario(path).variant(variant))
    sim.run()
    events, end = list(sim.events), sim.now
    fed = 0
    timeline = Timeline()
    for k in range(1, 11):
        now = end * k / 10
        stop = next((i for i, e in enumerate(events) if e.t > now), len(events))
        timeline.feed(events[fed:stop])
        fed = stop
        window = Window(0.0, max(end / LABELLED.bar, 1e-6), LABELLED.bar)
        drawn: set[Key] = set()
        for track in timeline.rows:
            row = draw_lane(track, window, now, LABELLED, story=timeline.story, drawn=drawn)
            legend = legend_of(drawn).plain
            text = "".join(segment.text for segment in row)
            start = LABELLED.name
            bar = text[start : start + LABELLED.bar]
            label = text[start + LABELLED.bar + 1]  # the status label's glyph
            entries = legend.split("  ")
            if track.is_gil:
                for glyph in {*bar, label} - {" "}:
                    assert any(_names_holder(entry, glyph) for entry in entries), (now, glyph)
                continue
            for glyph in {*bar, label} - {" "}:
                named = [entry.startswith(f"{glyph} ") for entry in entries]
                assert any(named), (now, track.name, glyph, legend)


def _names_holder(entry: str, glyph: str) -> bool:
    """``1 GIL held by thread-1``, ``· GIL free``, or a range: ``1-4 GIL held by a thread``."""
    shown, _, words = entry.partition(" ")
    if not words.startswith("GIL"):
        return False
    low, dash, high = shown.partition("-")
    return shown == glyph or (bool(dash) and glyph.isdigit() and low <= glyph <= high)
