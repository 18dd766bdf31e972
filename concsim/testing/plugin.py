"""pytest fixtures for your own scenarios (loaded by pytest through the ``pytest11`` entry
point): ``concsim_run`` runs one headless and gives its outcome, ``concsim_app`` builds the
app at a virtual time for ``snap_compare`` (pytest-textual-snapshot).

Loaded into every pytest session of an environment with concsim installed, so importing it
costs nothing: the engine is imported when a test first runs a scenario, and Textual only
when a test builds the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from textual.app import App

    from concsim.testing.outcome import Outcome

Target = str | Path
"""A scenario file (found next to the test file first, then from the current directory) or
the name of a bundled scenario."""


def _failed(message: str) -> BaseException:
    """The test fails with the problem's own lines and no traceback: the mistake is in the
    scenario or the arguments, never in the code that read them."""
    return pytest.fail.Exception(str(message), pytrace=False)


def _scenario(target: Target, request: pytest.FixtureRequest) -> Any:
    """The validated scenario, or the test fails with the file's problem lines."""
    from concsim.scenario.errors import ScenarioError
    from concsim.scenario.library import find_scenario
    from concsim.scenario.loader import load_scenario
    from concsim.testing.runner import resolve

    try:
        return load_scenario(find_scenario(resolve(target, request.path.parent)))
    except ScenarioError as error:
        raise _failed(str(error)) from None


def _injections(inject: Iterable[str]) -> list[Any]:
    from concsim.engine import Injection

    if isinstance(inject, str):
        inject = [inject]  # one injection given bare, not as a list of one
    try:
        return [Injection.parse(text) for text in inject]
    except ValueError as error:
        raise _failed(f"inject: {error}") from None


@pytest.fixture
def concsim_run(request: pytest.FixtureRequest) -> Callable[..., Outcome]:
    """``concsim_run(target, *, seed=None, variant=None, inject=[...]) -> Outcome``: run a
    scenario to the end, headless, with faults injected as ``--inject`` takes them
    (``"0.1s:hang:fetch-3"``). ``variant=None`` runs the file as written."""

    def run(
        target: Target,
        *,
        seed: int | None = None,
        variant: str | None = None,
        inject: Iterable[str] = (),
    ) -> Outcome:
        from concsim.testing.outcome import Outcome
        from concsim.testing.runner import run_outcome

        scenario = _scenario(target, request)
        injections = _injections(inject)
        try:
            result = run_outcome(scenario, variant=variant, seed=seed, injections=injections)
        except (KeyError, ValueError) as error:  # an unknown variant, a fault aimed at nothing
            raise _failed(error.args[0] if error.args else str(error)) from None
        return Outcome.from_dict(result)

    return run


@pytest.fixture
def concsim_app(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., App[int]]:
    """``concsim_app(target, *, at="1.2s", seed=None, variant=None, inject=[...],
    size=None) -> App``: the app on the scenario's run screen, paused at virtual time
    ``at``, for ``snap_compare(app, press=[...])``.

    What would make a screenshot differ between machines is pinned: a clock that stands
    still (only keys move time), the default key bindings, the ``textual-dark`` theme,
    notifications that stay up, replay files saved under the test's ``tmp_path``. ``size``
    (columns, rows), if given, is the terminal the app runs in, whatever ``snap_compare``
    says.
    """

    def build(
        target: Target,
        *,
        at: str | float = 0.0,
        seed: int | None = None,
        variant: str | None = None,
        inject: Iterable[str] = (),
        size: tuple[int, int] | None = None,
    ) -> App[int]:
        from concsim.durations import parse_seconds
        from concsim.ui.app import make_app

        scenario = _scenario(target, request)
        try:
            seconds = parse_seconds(at)
        except ValueError as error:
            raise _failed(f"at: {error}") from None
        try:
            app = make_app(
                scenario=scenario,
                variant=variant,
                seed=seed,
                injections=_injections(inject),
                paused=True,
                clock=lambda: 0.0,
                keymap={},
                theme="textual-dark",
                toast_scale=1000.0,
                replay_dir=tmp_path,
            )
        except KeyError as error:  # an unknown variant: the message names the known ones
            raise _failed(error.args[0] if error.args else str(error)) from None
        assert app.session is not None
        # The session is the model the run screen draws: advanced before the app starts,
        # the first frame already shows virtual time `at`.
        app.session.advance_to(seconds)
        if size is not None:
            _run_at_size(app, size)
        return app

    return build


def _run_at_size(app: App[int], size: tuple[int, int]) -> None:
    """Make every run of ``app`` use a terminal of ``size``: ``snap_compare`` starts the app
    with ``run(size=...)`` from its own ``terminal_size`` argument."""
    run_async = app.run_async

    async def sized(*args: Any, **kwargs: Any) -> Any:
        kwargs["size"] = size
        return await run_async(*args, **kwargs)

    app.run_async = sized  # type: ignore[method-assign]
