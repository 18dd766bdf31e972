"""A live run uses the CPython its scenario names, and says so in one line when this
machine has none (a 3.12 variant run on 3.11 died in the program with an AttributeError on
``asyncio.eager_task_factory``, which 3.12 added)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from appkit import build, sync
from click.testing import CliRunner

from concsim.cli import main
from concsim.live.interpreters import NoInterpreter, interpreter_for
from concsim.live.session import LiveSession
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario
from concsim.scenario.model import Python, Scenario
from concsim.ui.session import Session, engine_factory

REFUSED = (
    "free-threaded-python --variant py313t runs on CPython 3.13t, which this machine"
    " does not have (looked for python3.13t on the PATH and in pyenv)"
)


def _live_like(*args: Any) -> Any:
    """The simulator, seen by a session as a live run is: its estimates come from
    another factory than its runs."""
    return engine_factory(*args)


_live_like.estimates = engine_factory  # type: ignore[attr-defined]


def bundled(name: str) -> Scenario:
    return load_scenario(find_scenario(name))


@pytest.fixture
def no_313t() -> None:
    if interpreter_for(Python("3.13t")) is not None:
        pytest.skip("this machine has a free-threaded 3.13: nothing to refuse")


@pytest.mark.usefixtures("no_313t")
def test_live_session_refuses_a_version_this_machine_lacks() -> None:
    with pytest.raises(NoInterpreter) as refused:
        LiveSession(bundled("free-threaded-python"), variant="py313t")
    assert str(refused.value) == REFUSED


@pytest.mark.usefixtures("no_313t")
def test_run_live_prints_one_line_and_exits_2() -> None:
    args = ["run", "free-threaded-python", "--variant", "py313t", "--live", "--headless"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [REFUSED]


def test_live_session_runs_on_the_version_named() -> None:
    python = interpreter_for(Python("3.12"))
    if python is None:
        pytest.skip("no CPython 3.12 here")
    session = LiveSession(bundled("asyncio-gather"), variant="eager-tasks")
    assert session.run.python == python


def test_a_simulated_session_runs_every_variant() -> None:
    scenario = bundled("free-threaded-python")
    session = Session(scenario, source="free-threaded-python")
    assert {session.cannot_run(name) for name in (None, *scenario.variant_names)} == {""}


@pytest.mark.usefixtures("no_313t")
def test_a_live_session_skips_a_variant_it_cannot_run() -> None:
    scenario = bundled("free-threaded-python")
    session = Session(scenario, source="free-threaded-python", factory=_live_like)
    assert session.cannot_run("py313") == ""
    assert session.cannot_run("py313t") == (
        "Skipped variant py313t: it runs on CPython 3.13t, not on this machine."
    )


@sync
async def test_v_in_a_live_app_steps_over_a_variant_it_cannot_run(tmp_path: Path) -> None:
    """free-threaded-python's variants are py313 and py313t: `v` from py313 skips py313t
    (no 3.13t here), says so, and comes back to the scenario as written."""
    if interpreter_for(Python("3.13t")) is not None:
        pytest.skip("this machine has a free-threaded 3.13")

    app, notes = build("free-threaded-python", tmp_path, factory=_live_like, variant="py313")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("v")
        await pilot.pause()
        assert app.run_screen.session.variant is None
        assert "Skipped variant py313t: it runs on CPython 3.13t, not on this machine." in notes
