"""The text timeline of `concsim run --headless`: the app's lanes as text, with its legend."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from concsim import palette
from concsim.engine import Simulation
from concsim.export.text import timeline
from concsim.scenario.loader import load_scenario

SCENARIOS = sorted(Path(__file__).parent.parent.joinpath("scenarios").glob("*.yaml"))


def _printed(path: Path, width: int = 60) -> list[str]:
    sim = Simulation(load_scenario(path))
    sim.run()
    console = Console(width=1000, color_system=None, record=True)  # the legend on one line
    console.print(timeline(sim.events, width=width))
    return console.export_text().splitlines()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_the_legend_names_exactly_the_glyphs_printed(path: Path) -> None:
    """No glyph without its meaning, no meaning without its glyph (GIL rows apart)."""
    lines = _printed(path)
    legend = lines[-1]
    rows = [line for line in lines[1:-1] if not line.lstrip().startswith("GIL")]
    name = len(lines[0]) - len(lines[0].lstrip(" "))  # the ruler starts where the bars do
    drawn = {char for row in rows for char in row[name:]} - {" "}
    for state, look in palette.LOOKS.items():
        glyph = palette.cell_glyph(state)
        assert (f"{glyph} {look.words}" in legend) == (glyph in drawn), (state, legend)
    for cue, look in palette.CUE_LOOKS.items():
        assert (f"{look.mark} {look.words}" in legend) == (look.mark in drawn), (cue, legend)


def test_the_run_s_last_instant_is_drawn() -> None:
    """main's failure at the very end of the run is on its row."""
    lines = _printed(Path("scenarios/failure-during-as-completed.yaml"))
    main = next(line for line in lines if line.startswith("main"))
    assert main.rstrip().endswith("✗")
