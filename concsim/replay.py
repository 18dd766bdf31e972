"""Replay files: a scenario (path or bundled name), variant, seed and injections, as YAML or JSON.

``concsim run --replay FILE`` rebuilds the simulation from these and, the engine being
deterministic, reproduces the saved session event for event.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from concsim.files import write_atomically

if TYPE_CHECKING:
    from collections.abc import Sequence

    from concsim.engine import Injection, Simulation
    from concsim.engine.threads.ties import Chance
    from concsim.events import Event
    from concsim.scenario.model import Scenario

FORMAT = "concsim-replay/1"


class ReplayError(ValueError):
    """A replay file that cannot be read; ``str()`` names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class Branch:
    """One timeline of a session: the run ``parent`` made, forked at ``at`` seconds, with
    its own injections (the parent's up to ``at``, then its own). The session's first
    timeline is the original: no parent, forked at 0."""

    name: str
    injections: tuple[Injection, ...] = ()
    parent: str | None = None
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class Replay:
    """Everything needed to re-run a session exactly."""

    scenario: str  # a file path (relative to the replay file when saved) or a bundled name
    seed: int
    variant: str | None = None
    injections: tuple[Injection, ...] = field(default=())
    # A run that stalled (deadlocked or hung) and was ended by hand ends where the clock
    # stood then, not at its last event: replaying advances there before running to the end.
    ended_at: float | None = None
    # Every timeline of a session that was branched (``b`` in the app), the one played
    # included: ``injections`` above are that one's, so a reader that knows no branches
    # still reproduces the run that was on screen.
    branches: tuple[Branch, ...] = ()
    branch: str | None = None
    """The name of the branch ``injections`` belong to (one of ``branches``)."""
    # Who went first at decision points, by number (concsim.engine.threads.ties), and the
    # run's draws when they are a schedule (a shrunk run) rather than the seed's own.
    choices: Mapping[int, str] = field(default_factory=dict)
    draws: Mapping[int, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The replay file's data (concsim.replayfile.ReplayFile), as ``save_replay`` writes it."""
        from concsim.replayfile import ReplayFile

        return ReplayFile.of(self).dump()


def save_replay(path: str | Path, replay: Replay, *, overwrite: bool = True) -> Path:
    """Write a replay as JSON (``.json``) or YAML (anything else); returns the path written.

    The text goes to a temporary file beside the target first, then takes its name in one
    step, so a full disk or a crash never leaves half a replay (or truncates the old one).
    With ``overwrite=False`` an existing file is never replaced: FileExistsError.
    """
    target = Path(path)
    data = replay.to_dict()
    scenario = Path(replay.scenario)
    if scenario.exists():
        # Stored relative to the replay file, so the pair can be moved or shared together.
        data["scenario"] = _relative(scenario.resolve(), target.resolve().parent)
    if target.suffix == ".json":
        text = json.dumps(data, indent=2) + "\n"
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    write_atomically(target, text, overwrite=overwrite)
    return target


def load_replay(path: str | Path) -> Replay:
    """Read a replay file; a scenario path in it is resolved against the file's directory.

    Raises ReplayError, one positioned line per problem (concsim.replaydoc)."""
    from concsim.replaydoc import read_replay

    return read_replay(path)


def open_scenario(target: str) -> Scenario:
    """A file path or a bundled name -> its scenario; raises ScenarioError (positioned lines)."""
    from concsim.scenario.library import find_scenario
    from concsim.scenario.prepared import load_scenario_file

    return load_scenario_file(find_scenario(target))


def replay_simulation(replay: Replay) -> Simulation:
    """A fresh simulation that reproduces the saved session when run (``play_replay``)."""
    from concsim.engine import Simulation

    return Simulation(
        open_scenario(replay.scenario),
        variant=replay.variant,
        seed=replay.seed,
        injections=replay.injections,
        rng=scheduled_draws(replay.seed, replay.draws),
        choices=replay.choices,
    )


def scheduled_draws(seed: int, draws: Mapping[int, float] | None) -> Chance | None:
    """The run's random numbers when a replay gives them as a schedule, else None (the
    seed's own)."""
    if draws is None:
        return None
    from concsim.explore.schedule import Draws

    return Draws(seed, draws)


def play_to_end(sim: Simulation, ended_at: float | None) -> Sequence[Event]:
    """Run ``sim`` to its end as the saved session did: first to ``ended_at`` if the
    session ended a stalled run by hand there, so the run ends at the same time."""
    if ended_at is not None:
        sim.advance(ended_at)
    return sim.run()


def _relative(path: Path, base: Path) -> str:
    try:
        return os.path.relpath(path, base)
    except ValueError:  # another drive on Windows: no relative path exists
        return str(path)
