"""Serve the app to a web browser with textual-serve: each page load runs its own app."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence

SERVE_MISSING = "concsim serve needs textual-serve, an optional extra: pip install 'concsim[serve]'"


def app_command(files: Sequence[str] = ()) -> str:
    """The shell command textual-serve starts per browser session: the scenario browser."""
    return shlex.join([sys.executable, "-m", "concsim", *files])


def serve(files: Sequence[str], *, host: str, port: int) -> None:
    """Serve until interrupted; every browser tab gets a fresh app on the scenario browser.

    Raises ImportError with ``SERVE_MISSING`` when textual-serve is not installed.
    """
    try:
        from textual_serve.server import Server
    except ImportError as error:
        raise ImportError(SERVE_MISSING) from error
    server = Server(app_command(files), host=host, port=port, title="concsim")
    print(f"concsim: serving the scenario browser at {server.public_url} (Ctrl+C stops)")
    sys.stdout.flush()
    server.serve()
