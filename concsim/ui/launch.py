"""Start the terminal app from the command line; bad input is reported, never drawn."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from concsim.replay import ReplayError
from concsim.scenario.errors import ScenarioError

NO_TERMINAL = (
    "concsim: the app needs a terminal on stdin and stdout; "
    "for text output use: concsim run NAME --headless"
)


def launch(
    targets: list[str],
    *,
    run: str | None,
    variant: str | None,
    seed: int | None,
    speed: float | None,
    paused: bool,
    replay: str | None,
    injections: Sequence[Any] = (),
    max_events: int | None = None,
    live: bool = False,
) -> int:
    """Open the browser (``run`` None) or the run screen; return the process exit code.

    A scenario or replay file with errors prints its positioned lines and returns 2 before
    the screen is taken over.
    """
    from concsim.ui.app import make_app
    from concsim.ui.session import budgeted_factory, engine_factory

    factory = engine_factory if max_events is None else budgeted_factory(max_events)
    unavailable: tuple[type[Exception], ...] = ()
    if live:  # the app driven by the real program: its events arrive in real time (speed 1)
        from concsim.live.app import live_factory
        from concsim.live.interpreters import NoInterpreter

        factory = live_factory
        unavailable = (NoInterpreter,)  # the CPython the scenario names is not here
    try:
        app = make_app(
            targets,
            factory=factory,
            run=run,
            variant=variant,
            seed=seed,
            speed=1.0 if live else speed,
            paused=paused,
            replay=replay,
            injections=injections,
        )
    except ScenarioError as error:
        print(error, file=sys.stderr)
        return 2
    except ReplayError as error:
        print(error, file=sys.stderr)
        return 2
    except KeyError as error:  # an unknown variant: the message names the known ones
        print(error.args[0] if error.args else error, file=sys.stderr)
        return 2
    except unavailable as error:
        print(error, file=sys.stderr)
        return 2
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and "TEXTUAL_DRIVER" not in os.environ:
        # Without a terminal the app would wait forever for keys nobody can press (unless
        # another driver talks to it: textual-serve's web driver speaks over the pipes).
        print(NO_TERMINAL, file=sys.stderr)
        return 2
    app.prefetch = True  # a big run's history is made while the person reads the screen
    try:
        code = app.run()
    finally:
        if app.session is not None:
            app.session.close()  # a live program ends with the app
    return code if isinstance(code, int) else (app.return_code or 0)
