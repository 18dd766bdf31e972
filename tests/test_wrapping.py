"""Printed output wrapped for the futures panel: at word boundaries, a long word broken at
its dots, folded only where it has no part that fits."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.text import Text
from textual.content import Content

from concsim.engine import Simulation
from concsim.replay import open_scenario
from concsim.ui.ledger import Ledger
from concsim.ui.panels import futures_text
from concsim.ui.wrapping import glue_quantities, honour_no_break_spaces, wrap_words


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


@pytest.mark.parametrize(
    ("line", "width", "lines"),
    [
        # A number stays with its unit: the break goes before the number.
        ("the loop waited 0.5 s before it ran", 18, ["the loop waited", "0.5 s before it", "ran"]),
        ("every call takes 5 ms, then it ends", 20, ["every call takes", "5 ms, then it ends"]),
        ("held (for 20 us) first", 14, ["held (for", "20 us) first"]),
        # A no-break space joins what it stands between.
        ("waits 5\u00a0ms here", 8, ["waits", "5\u00a0ms", "here"]),
        # A unit word is glued only to a number, and a word that starts like one is no unit.
        ("it has 3 steps", 8, ["it has 3", "steps"]),
        # A long word breaks at its dots and dashes, never inside a number nor before a
        # name's number.
        ("python3.11.thing", 12, ["python3.11.", "thing"]),
        ("concsim.engine.job-2.result", 12, ["concsim.", "engine.", "job-2.result"]),
        ("speed \u00d71 at 3.11", 9, ["speed \u00d71", "at 3.11"]),
        # Folded where a word has no part that fits, the cut moved back before the number.
        ("x" * 19 + "3.11", 20, ["x" * 19, "3.11"]),
        ("abcdefghijklmnopq-job-2", 20, ["abcdefghijklmnopq-", "job-2"]),
    ],
)
def test_a_quantity_is_never_broken(line: str, width: int, lines: list[str]) -> None:
    assert wrap_words(line, width) == lines
    assert all(len(piece) <= width for piece in lines)


def test_the_notes_join_each_number_to_its_unit_outside_code() -> None:
    markdown = "Wait 0.5 s, then 20 ms more (not 3 steps): `sleep(0.5 s)`\n```\nt = 1 s\n```"
    assert glue_quantities(markdown) == (
        "Wait 0.5\u00a0s, then 20\u00a0ms more (not 3 steps): `sleep(0.5 s)`\n```\nt = 1 s\n```"
    )


def test_the_notes_markdown_is_never_wrapped_between_a_number_and_its_unit() -> None:
    """The notes panel is Textual's Markdown, which wraps with Rich: at 24 cells, "0.5 s"
    would end one line with 0.5 and start the next with s; joined, it moves whole."""
    honour_no_break_spaces()
    line = "The event loop waits 0.5 s before it runs"
    assert str(Content(line).wrap(24)[0]) == "The event loop waits 0.5"
    glued = glue_quantities(line)
    assert [str(piece) for piece in Content(glued).wrap(24)] == [
        "The event loop waits",
        "0.5\u00a0s before it runs",
    ]
    console = Console(width=24)
    assert [piece.plain.rstrip() for piece in Text(glued).wrap(console, 24)] == [
        "The event loop waits",
        "0.5\u00a0s before it runs",
    ]
