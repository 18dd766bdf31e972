"""What the app imports on its way to the first frame of a run: only what that frame needs.

The code generator, the live runner, the explorer, the trace export, the help screen and
the highlighter come when a key asks for them; multiprocessing and Hypothesis never. Pinned
by the modules loaded, not by a time: a new import at the top of a module on the start path
fails here, whatever the machine's load."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from appkit import build, sync

from concsim.ui.screens.help import show_help

# Packages and modules the first frame of `concsim run NAME` must not load.
NOT_AT_START = (
    "concsim.codegen",
    "concsim.live",
    "concsim.explore",
    "concsim.testing",
    "concsim.export.trace",
    "concsim.export.text",
    "concsim.ui.screens.help",
    "concsim.ui.screens.browser",
    "concsim.ui.screens.explore",
    "concsim.ui.codemap",
    "concsim.ui.codecursor",
    "multiprocessing",
    "hypothesis",
    "pygments",
    "textual.highlight",
    "tomllib",  # read only when there is a keymap or settings file
)

REPORT = """
import os, sys, asyncio
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
{imports}
print(repr(sorted(sys.modules)))
"""

FIRST_FRAME = """
from concsim.ui.launch import launch  # what `concsim run` imports, in the order it does
from concsim.ui.app import make_app
from concsim.ui.session import engine_factory

async def first_frame():
    app = make_app(run="io-threads", paused=True, speed=None, factory=engine_factory,
                   keymap={{}}, theme="textual-dark")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#status").render()  # the status bar is drawn

asyncio.run(first_frame())
"""


def _loaded(imports: str) -> list[str]:
    code = REPORT.format(imports=imports)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    modules: list[str] = ast.literal_eval(out.strip().splitlines()[-1])
    return modules


def _unwanted(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in NOT_AT_START)]


def test_importing_the_command_line_and_the_app_loads_nothing_a_first_frame_does_not_need() -> None:
    modules = _loaded(
        "import concsim.cli, concsim.ui.launch, concsim.ui.app, concsim.ui.session\n"
        "import concsim.engine\n"
    )
    assert "concsim.ui.app" in modules and "concsim.engine" in modules  # the report works
    assert _unwanted(modules) == []


def test_the_first_frame_of_a_run_loads_nothing_it_does_not_draw() -> None:
    modules = _loaded(FIRST_FRAME.format())
    assert "concsim.ui.widgets.code" in modules  # the code view is there, hidden
    assert _unwanted(modules) == []


@sync
async def test_a_new_theme_drops_the_help_screens_kept(tmp_path: Path) -> None:
    """A help screen shown once is kept; a new theme uninstalls it (its old colours)."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        show_help(app, app.screen.BINDINGS, "run")  # type: ignore[arg-type]
        await pilot.pause()
        app.pop_screen()
        await pilot.pause()
        assert app.is_screen_installed("help-run")
        app.theme = "textual-light"
        await pilot.pause()
        assert not app.is_screen_installed("help-run")
