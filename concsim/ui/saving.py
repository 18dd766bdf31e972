"""Saving a session (a replay, a trace) under a name that is new, never over another file."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
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
    replay = session.replay()
    return first_free(
        folder / session_stem(session),
        ".replay.yaml",
        lambda path: save_replay(path, replay, overwrite=False),
    )


def export_trace(session: Session, folder: Path) -> Path:
    """Write the run as it stands as a Chrome trace: ``STEM.trace.json``, ``STEM-2...``."""
    return trace_writer(session, folder)()


def trace_writer(session: Session, folder: Path) -> Callable[[], Path]:
    """``export_trace`` of the run as it stands now, to be called later (on a worker)."""
    from concsim.export.trace import write_trace

    events, now = session.events[: session.seen], session.now
    stem = folder / session_stem(session)
    return lambda: first_free(
        stem, ".trace.json", lambda path: write_trace(path, events, now=now, overwrite=False)
    )


def save_svg(session: Session, svg: str, folder: Path) -> Path:
    """Write a screenshot of the screen (Textual's ``export_screenshot``) as ``STEM.svg``,
    ``STEM-2.svg``, ...: into the folder replays go to, which exists (Textual's own command
    writes to ``~/Downloads`` and fails where there is none)."""

    def write(path: Path) -> Path:
        with path.open("x", encoding="utf-8") as file:
            file.write(svg)
        return path

    return first_free(folder / session_stem(session), ".svg", write)


def session_stem(session: Session) -> str:
    return replay_stem(session.scenario.name, session.variant, session.seed)


def first_free(stem: Path, suffix: str, write: Callable[[Path], Path]) -> Path:
    """``write`` to ``STEM{suffix}``, else ``STEM-2{suffix}``, ...: the first name not taken;
    ``write`` raises FileExistsError when another process took the name meanwhile."""
    for number in itertools.count(1):
        path = stem.with_name(f"{stem.name}{'' if number == 1 else f'-{number}'}{suffix}")
        if path.exists():
            continue
        try:
            return write(path)
        except FileExistsError:
            continue
    raise AssertionError("unreachable")
