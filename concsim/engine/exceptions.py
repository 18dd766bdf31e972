"""Which ``except`` clause catches an exception: CPython's class hierarchy, by name.

``except T`` matches when ``isinstance(exc, T)`` (Python/ceval.c, CHECK_EXC_MATCH). A
scenario names classes, so their hierarchy is read from the interpreter's own builtins
(``ConnectionRefusedError`` < ``ConnectionError`` < ``OSError`` < ``Exception``), plus the
library classes a scenario can meet. ``CancelledError`` depends on the model: in asyncio it
is ``asyncio.CancelledError``, a ``BaseException`` since Python 3.8 (bpo-32528), so
``except Exception`` lets it through; a cancelled ``concurrent.futures`` future raises
``concurrent.futures.CancelledError``, an ``Exception``. A name the program defines itself
is a subclass of ``Exception``.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

_LIBRARY: dict[str, tuple[str, ...]] = {
    "BrokenExecutor": ("RuntimeError",),
    "BrokenProcessPool": ("BrokenExecutor", "RuntimeError"),
    "BrokenThreadPool": ("BrokenExecutor", "RuntimeError"),
    "BrokenBarrierError": ("RuntimeError",),
    "InvalidStateError": ("Error",),
    "Empty": (),
    "Full": (),
    "QueueEmpty": (),
    "QueueFull": (),
    "PicklingError": ("PickleError",),
    "UnpicklingError": ("PickleError",),
    "PickleError": (),
}
"""Library classes below ``Exception`` (their own ancestors first), by unqualified name."""

_ASYNCIO_CANCELLED = ("CancelledError", "BaseException")
_FUTURES_CANCELLED = ("CancelledError", "Error", "Exception", "BaseException")


def short_name(name: str) -> str:
    """``concurrent.futures.TimeoutError`` -> ``TimeoutError``: the class's own name."""
    return name.rsplit(".", 1)[-1]


def ancestry(error: str, *, asyncio: bool) -> tuple[str, ...]:
    """The names of ``error``'s class and of every class above it, up to BaseException."""
    name = short_name(error)
    if name == "CancelledError":
        return _ASYNCIO_CANCELLED if asyncio else _FUTURES_CANCELLED
    found = getattr(builtins, name, None)
    if isinstance(found, type) and issubclass(found, BaseException):
        return tuple(cls.__name__ for cls in found.__mro__ if cls is not object)
    above = _LIBRARY.get(name, ())
    base = () if above and above[-1] == "RuntimeError" else ("Exception",)
    if above and above[-1] == "RuntimeError":
        return (name, *above[:-1], *ancestry("RuntimeError", asyncio=asyncio))
    return (name, *above, *base, "BaseException")


def matches(error: str, caught: Sequence[str], *, asyncio: bool) -> bool:
    """Whether ``except (caught...)`` handles ``error``; an empty ``caught`` is a bare
    ``except:``, which handles everything."""
    if not caught:
        return True
    line = ancestry(error, asyncio=asyncio)
    return any(short_name(name) in line for name in caught)
