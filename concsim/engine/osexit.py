"""``os._exit(n)`` in the main program (Modules/posixmodule.c, ``os__exit_impl``: ``_exit``):
the process ends at once. Nothing of the interpreter's shutdown happens: no ``finally``
block or ``with`` exit of main runs, no executor is shut down, ``threading._shutdown``
joins no thread, no ``atexit`` handler runs; every thread of the process dies with it."""

from __future__ import annotations

from concsim.events import LaneState, MainEnded, MainOutcome

from .runtime import Lane, SimError
from .runtime_core import Runtime


class OsExit(SimError):
    """Not an exception in CPython: ``os._exit`` never returns. Raised here only to leave
    main()'s generator at once; ``MainProgram.main`` catches it before any handler."""

    def __init__(self, code: int) -> None:
        super().__init__("os._exit", str(code))
        self.code = code


def os_exit(runtime: Runtime, lane: Lane, others: list[Lane], code: int) -> None:
    """End the process under every other lane of it, then main itself."""
    world = runtime.world
    for other in others:
        if other.gen is None:
            continue
        run = other.task
        world.kill(other)
        if run is not None:
            runtime.kill_task(run, "os._exit() ended the process under it")
    runtime.main_ended = True
    world.release_gil(lane, "the process exited")
    world.set_state(lane, LaneState.DONE, f"os._exit({code})")
    world.emit(MainEnded, outcome=MainOutcome.EXITED, error=None, message=str(code))
    runtime.notify()
