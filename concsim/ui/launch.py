"""Start the terminal app from the command line; bad input is reported, never drawn."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from concsim.replay import ReplayError
from concsim.scenario.errors import ScenarioError


def launch(
    targets: list[str],
    *,
    run: str | None,
    variant: str | None,
    seed: int | None,
    speed: float,
    paused: bool,
    replay: str | None,
    injections: Sequence[Any] = (),
    max_events: int | None = None,
) -> int:
    """Open the browser (``run`` None) or the run screen; return the process exit code.

    A scenario or replay file with errors prints its positioned lines and returns 2 before
    the screen is taken over.
    """
    from concsim.ui.app import make_app
    from concsim.ui.session import budgeted_factory, engine_factory

    factory = engine_factory if max_events is None else budgeted_factory(max_events)
    try:
        app = make_app(
            targets,
            factory=factory,
            run=run,
            variant=variant,
            seed=seed,
            speed=speed,
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
    code = app.run()
    return code if isinstance(code, int) else (app.return_code or 0)
