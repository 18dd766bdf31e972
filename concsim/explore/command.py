"""``concsim explore TARGET``: the command, apart from its click options (concsim/cli.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from concsim.engine import Injection
from concsim.explore.report import (
    histogram_text,
    save_replays,
    save_shrunk,
    shrink_gravest,
    shrunk_json,
    shrunk_text,
    to_json,
)
from concsim.explore.runner import Exploration, explore
from concsim.explore.samples import Verdict
from concsim.scenario.checks import injection_problem
from concsim.scenario.errors import ScenarioError
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario

EXIT_FAILS = 1  # a run was forbidden, or matched no allowed expectation
EXIT_INVALID = 2


def explore_command(
    target: str,
    *,
    runs: int,
    jobs: int,
    first_seed: int,
    variant: str | None,
    injections: Sequence[Injection],
    until: Verdict | None,
    save: Path | None,
    as_json: bool,
    shrink: bool = False,
    echo: Callable[..., None],
) -> int:
    """Explore, print the histogram (or JSON), write the replays; the exit status."""
    try:
        path = find_scenario(target)
        scenario = load_scenario(path)
        scenario.variant(variant)
    except ScenarioError as error:
        echo(str(error), err=True)
        return EXIT_INVALID
    except KeyError as error:
        echo(f"{target}: {error.args[0]}", err=True)
        return EXIT_INVALID
    applied = scenario.variant(variant)
    for injection in injections:
        problem = injection_problem(applied, injection.target, injection.error)
        if problem:
            echo(f"--inject {injection.fault} on {injection.target}: {problem}", err=True)
            return EXIT_INVALID
    found = explore(
        scenario,
        runs=runs,
        variant=variant,
        injections=injections,
        first_seed=first_seed,
        jobs=jobs,
        until=until,
        progress=None if as_json else _progress(runs),
    )
    if not as_json and sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")  # the progress line goes
    # A file is stored by its path (relative to the replay), a bundled scenario by its name.
    source = str(path) if Path(target).exists() else target
    replays = save_replays(found, source, save) if save is not None else {}
    shrunk = shrink_gravest(found) if shrink else None
    opens = None
    if shrunk is not None and save is not None:
        opens = save_shrunk(found, source, save, shrunk[1])
    if as_json:
        data = to_json(found, replays)
        if shrink:
            data["shrunk"] = None if shrunk is None else shrunk_json(*shrunk)
            if opens is not None:
                data["shrunk"]["replay"] = str(opens)
        echo(json.dumps(data, indent=2))
    else:
        console = Console(highlight=False, soft_wrap=True)
        console.print(histogram_text(found, replays))
        if shrink:
            console.print(shrunk_text(found, shrunk))
        if opens is not None:
            console.print(f"the shrunk run: concsim run --replay {opens}")
    return EXIT_FAILS if found.histogram.fails else 0


def _progress(total: int) -> Callable[[Exploration], None] | None:
    """A line on the terminal counting runs, rewritten in place; nothing when not a tty."""
    if not sys.stderr.isatty():
        return None

    def show(found: Exploration) -> None:
        outcomes = len(found.histogram.bars)
        sys.stderr.write(
            f"\r{found.histogram.runs:,}/{total:,} runs, {outcomes} outcome"
            f"{'s' if outcomes != 1 else ''}, {found.runs_per_second:,.0f} runs/s\x1b[K"
        )
        sys.stderr.flush()

    return show
