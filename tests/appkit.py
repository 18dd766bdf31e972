"""Helpers for the app tests: a hand-moved clock, an app that records its notifications."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from concsim.ui.app import ConcsimApp, make_app


def sync(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body on a fresh event loop (no async pytest plugin needed)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Notes(list[str]):
    """Every notification's message, in order."""


def build(target: str | None, tmp_path: Path, **options: Any) -> tuple[ConcsimApp, Notes]:
    """A paused app on ``target`` (None: the browser) that saves replays in ``tmp_path``."""
    options.setdefault("keymap", {})
    app = make_app(
        run=target,
        paused=True,
        theme="textual-dark",
        replay_dir=tmp_path,
        clock=options.pop("clock", Clock()),
        **options,
    )
    notes = Notes()
    original = app.notify

    def record(message: str, **kwargs: Any) -> None:
        notes.append(message)
        original(message, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    return app, notes
