"""Printed output wrapped for the futures panel: at word boundaries, a long word broken at
its dots, folded only where it has no part that fits."""

from __future__ import annotations

import pytest

from concsim.engine import Simulation
from concsim.replay import open_scenario
from concsim.ui.ledger import Ledger
from concsim.ui.panels import futures_text
from concsim.ui.wrapping import wrap_words


@pytest.mark.parametrize(
    ("line", "lines"),
    [
        ("polite: partial file removed", ["polite: partial file", "removed"]),
        ("Traceback (most recent call last):", ["Traceback (most recent", "call last):"]),
        (
            "asyncio.exceptions.CancelledError: shutting down",
            ["asyncio.exceptions.", "CancelledError:", "shutting down"],
        ),
        ("threading.BrokenBarrierError", ["threading.", "BrokenBarrierError"]),
        ('  File "p.py", line 3, in main', ['  File "p.py", line 3,', "in main"]),
        ("x" * 30, ["x" * 23, "x" * 7]),
        ("short", ["short"]),
    ],
)
def test_lines_break_at_words_and_long_words_at_their_parts(line: str, lines: list[str]) -> None:
    """23 cells, the futures panel's width at 80x24."""
    assert wrap_words(line, 23) == lines
    assert all(len(piece) <= 23 for piece in wrap_words(line, 23))


def test_the_futures_panel_wraps_the_traceback_at_its_words() -> None:
    """task-tree-cancelled's traceback at 23 cells: no word cut in two."""
    sim = Simulation(open_scenario("task-tree-cancelled"))
    sim.run()
    ledger = Ledger()
    ledger.feed(sim.events)
    text = futures_text(ledger, width=23).plain
    output = text[text.index("output:") :].splitlines()[1:]
    assert output == [
        "Traceback (most recent",
        "call last):",
        "  ...",
        "asyncio.exceptions.",
        "CancelledError:",
        "shutting down",
    ]
