"""``atexit`` handlers of the program (Modules/atexitmodule.c, ``atexit_callfuncs``): run at
a normal interpreter exit, after ``threading._shutdown`` has joined the non-daemon threads,
last registered first. An exception in one is printed and ignored; the others still run.
Nothing runs them when the process dies of a signal or calls ``os._exit``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from concsim.events import OutputWritten

from .exits import traceback_line
from .interpreter import Interpreter
from .runtime import Actor, Lane, SimError


def handler_name(number: int) -> str:
    """The function the generated program registers for handler ``number`` (from 1)."""
    return f"at_exit_{number}"


def run_handlers(interp: Interpreter, lane: Lane, handlers: Sequence[Any]) -> Actor:
    """Each handler in turn, the last registered first, on the main thread."""
    for number in range(len(handlers), 0, -1):
        try:
            yield from interp.step(lane, None, handlers[number - 1], [])
        except SimError as error:
            # atexit_callfuncs: _PyErr_WriteUnraisableMsg("in atexit callback", func)
            last = traceback_line(error.error, error.message, in_asyncio=False)
            interp.world.emit(
                OutputWritten,
                lane=lane.id,
                task=None,
                text=f"Exception ignored in atexit callback: <function {handler_name(number)} "
                f"at 0x...>\nTraceback (most recent call last):\n  ...\n{last}\n",
            )
