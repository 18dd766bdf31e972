"""A variant's own notes (format version 2): validated, in the schema, and shown by the notes
panel above the scenario's notes while that variant runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from appkit import Clock, sync

from concsim.scenario.errors import ScenarioError
from concsim.scenario.library import bundled_scenarios
from concsim.scenario.loader import load_scenario, load_scenario_text
from concsim.scenario.schema import json_schema
from concsim.ui.app import ConcsimApp, make_app
from concsim.ui.panels import notes_markdown
from concsim.ui.widgets.panels import NotesPanel

FILE = """\
version: {version}
name: noted
summary: One download.
notes: |
  **What you are looking at**

  One download.
program: {{model: threads}}
tasks:
  - name: fetch
    steps: [{{io: 10ms}}]
variants:
  - name: twice
    summary: Two downloads.
    notes: {notes}
  - name: plain
"""


def _load(version: int = 2, notes: str = "Two, so it takes *twice* as long.") -> object:
    return load_scenario_text(FILE.format(version=version, notes=notes), "noted.yaml")


def test_a_variant_carries_notes_of_its_own() -> None:
    """The notes panel's text: the variant's notes under its name, then the scenario's."""
    scenario = _load()
    assert notes_markdown(scenario, "twice") == textwrap.dedent(  # type: ignore[arg-type]
        """\
        # noted

        *One download.*

        ## Variant `twice`

        *Two downloads.*

        Two, so it takes *twice* as long.

        **What you are looking at**

        One download.
        """
    )
    as_written = "# noted\n\n*One download.*\n\n**What you are looking at**\n\nOne download.\n"
    assert notes_markdown(scenario, None) == as_written  # type: ignore[arg-type]


def test_a_variant_without_notes_is_named_with_what_it_changes() -> None:
    """Chosen with ``v``, a variant with only a summary shows its name and summary above
    the scenario's notes; one with neither, its name: the notes never read as written."""
    text = FILE.format(version=2, notes="Twice.").replace(
        "  - name: plain\n", "  - name: plain\n  - name: summed\n    summary: Three downloads.\n"
    )
    scenario = load_scenario_text(text, "noted.yaml")
    notes = "**What you are looking at**\n\nOne download.\n"
    head = "# noted\n\n*One download.*\n\n"
    summed = f"{head}## Variant `summed`\n\n*Three downloads.*\n\n{notes}"
    assert notes_markdown(scenario, "summed") == summed
    assert notes_markdown(scenario, "plain") == f"{head}## Variant `plain`\n\n{notes}"


def test_variant_notes_are_a_version_2_key_and_text() -> None:
    """Positioned lines, as every other key: version 1 files and non-text are refused."""
    with pytest.raises(ScenarioError) as v1:
        _load(version=1)
    assert str(v1.value).splitlines() == [
        "noted.yaml:15:5: variants[0].notes: `notes` is a version-2 key; expected `version: 2` "
        "at the top of the file"
    ]
    with pytest.raises(ScenarioError) as listed:
        _load(notes="[1, 2]")
    assert str(listed.value).splitlines() == [
        "noted.yaml:15:12: variants[0].notes: expected text, got a list"
    ]


def test_the_bundled_variants_whose_story_differs_say_how() -> None:
    """Each variant whose lanes tell another story carries a note of its own."""
    noted = {
        (path.stem, variant.name)
        for path in bundled_scenarios()
        for variant in load_scenario(path).variants
        if variant.notes
    }
    assert noted == {
        ("asyncio-barrier", "timeout"),
        ("asyncio-gather", "create-task"),
        ("asyncio-gather", "eager-tasks"),
        ("asyncio-condition", "notify-all"),
        ("asyncio-condition", "cancel-after-notify"),
        ("asyncio-condition", "cancel-after-notify-3.13"),
        ("barrier-breaks", "fast-reviews"),
        ("ctrl-c-shutdown", "late-group-failure"),
        ("ctrl-c-shutdown", "late-group-failure-3.13"),
        ("event-wait-stop", "sleep"),
        ("idle-timeout", "fixed"),
        ("lock-timeout-back-off", "without-timeout"),
        ("pickling-nested-function", "pool-spawn"),
        ("pickling-nested-function", "pool-spawn-lock"),
        ("semaphore-limit", "asyncio-cancel"),
        ("task-tree-cancelled", "swallowed"),
        ("task-tree-cancelled", "child-fails"),
        ("terminate-skips-finally", "kill"),
        ("terminate-skips-finally", "join-timeout"),
        ("terminate-skips-finally", "os-exit"),
        ("terminate-skips-finally", "spawn"),
        ("unpicklable-values", "unpicklable-result"),
        ("unpicklable-values", "exception-breaks-pool"),
        ("worker-recycling", "one-task-each"),
    }


def test_the_schema_offers_variant_notes() -> None:
    """``concsim schema``: editors complete and check ``notes`` on a variant."""
    notes = json_schema()["$defs"]["Variant"]["properties"]["notes"]
    assert (notes["type"], notes["since"], notes["default"]) == ("string", 2, "")


@sync
async def test_switching_variant_switches_the_notes(tmp_path: Path) -> None:
    """``v`` on asyncio-condition: the panel shows notify-all's notes; ``V`` back, none."""
    app = make_app(
        run="asyncio-condition",
        paused=True,
        keymap={},
        theme="textual-dark",
        replay_dir=tmp_path,
        clock=Clock(),
    )
    assert isinstance(app, ConcsimApp)
    async with app.run_test(size=(120, 36)) as pilot:
        from textual.widgets import Markdown

        await pilot.pause()
        notes = app.run_screen.query_one(NotesPanel)
        assert notes.display
        await pilot.press("v")
        await app.run_screen.wait_idle()
        await pilot.pause()
        shown = notes.shown
        assert isinstance(shown, Markdown) and shown.display
        assert "## Variant `notify-all`" in shown.source
        await pilot.press("V")
        await app.run_screen.wait_idle()
        await pilot.pause()
        again = notes.shown
        assert isinstance(again, Markdown) and again.display and not shown.display
        assert "## Variant" not in again.source
