"""Saving a session as a replay file under a name that is new, never over another file."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from concsim.replay import save_replay

if TYPE_CHECKING:
    from concsim.ui.session import Session


def replay_stem(scenario: str, variant: str | None, seed: int) -> str:
    """``io-threads-seed0``, ``cpu-threads-gil-processes-seed0``: the variant is in the name,
    so two variants at one seed never share a file."""
    parts = [scenario, *([variant] if variant else []), f"seed{seed}"]
    return re.sub(r"[^\w.-]+", "_", "-".join(parts))


def save_session(session: Session, folder: Path) -> Path:
    """Write ``session``'s replay to the first free name in ``folder``: ``STEM.replay.yaml``,
    then ``STEM-2.replay.yaml``, ... (an existing file is never replaced)."""
    stem = replay_stem(session.scenario.name, session.variant, session.seed)
    for number in itertools.count(1):
        suffix = "" if number == 1 else f"-{number}"
        path = folder / f"{stem}{suffix}.replay.yaml"
        if path.exists():
            continue
        try:
            return save_replay(path, session.replay(), overwrite=False)
        except FileExistsError:  # taken between the check and the write: try the next
            continue
    raise AssertionError("unreachable")
