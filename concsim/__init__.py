"""concsim: see Python concurrency — a deterministic simulator with live worker lanes."""

from __future__ import annotations

TYPE_CHECKING = False  # the live probe imports this package: typing costs it ~5 ms
if TYPE_CHECKING:
    from typing import Any


def __getattr__(name: str) -> Any:
    # The version is kept in one place, the package metadata (pyproject.toml). Reading it
    # imports importlib.metadata (~25 ms), so only when someone asks for it.
    if name == "__version__":
        from importlib.metadata import version

        return version("concsim")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
