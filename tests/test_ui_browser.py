"""The browser filters as you type: / or a letter starts it; ↑ ↓ Enter work from it."""

from __future__ import annotations

from pathlib import Path

from appkit import build, sync
from textual.widgets import Input, OptionList

from concsim.ui.screens.browser import BrowserScreen
from concsim.ui.screens.run import RunScreen


def _shown(app: object) -> list[str]:
    catalog = app.screen.query_one(OptionList)  # type: ignore[attr-defined]
    return [
        str(option.prompt.renderables[0]).split("  ")[0]
        for option in catalog.options
        if not option.disabled
    ]


@sync
async def test_typing_filters_the_list_and_enter_opens_the_first_match(tmp_path: Path) -> None:
    app, _ = build(None, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, BrowserScreen)
        everything = _shown(app)
        await pilot.press("/", "r", "a", "c", "e")
        assert app.screen.query_one(Input).value == "race"
        assert _shown(app) == ["race-lost-update", "race-with-lock"]
        await pilot.pause()
        preview = app.screen.query_one("#preview-notes")
        assert preview.source.startswith("**race-lost-update**")  # type: ignore[attr-defined]
        await pilot.press("down", "enter")
        assert isinstance(app.screen, RunScreen)
        assert app.screen.session.scenario.name == "race-with-lock"
        await pilot.press("escape")
        assert isinstance(app.screen, BrowserScreen)
        await pilot.press("escape")  # clears the filter
        assert app.screen.query_one(Input).value == ""
        assert _shown(app) == everything
    assert app._exception is None


@sync
async def test_a_letter_on_the_list_starts_the_filter_and_words_narrow_it(tmp_path: Path) -> None:
    app, _ = build(None, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("p", "r", "o", "c", "e", "s", "s", "e", "s", "space", "p", "i", "c", "k")
        assert app.screen.query_one(Input).value == "processes pick"
        assert _shown(app) == ["pickling-nested-function", "unpicklable-values"]
        await pilot.press(*"zzz")
        assert _shown(app) == []
        options = app.screen.query_one(OptionList).options
        assert [str(o.prompt) for o in options] == ["no scenario matches 'processes pickzzz'"]
        await pilot.press("enter")  # nothing to open: nothing happens
        assert isinstance(app.screen, BrowserScreen)
        await pilot.press("escape", "escape")  # clear, then back to the list
        assert app.screen.query_one(OptionList).has_focus
        await pilot.press("q")  # q still quits from the list
    assert app.return_code is not None or not app.is_running
