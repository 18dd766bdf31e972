"""The main program's wind-down phases, told as events where they begin and end.

``Executor.__exit__`` calls ``self.shutdown(wait=True)`` (Lib/concurrent/futures/_base.py);
``TaskGroup.__aexit__`` waits for every child; ``gather()`` cancelled cancels its children
and waits for them; ``asyncio.run()`` (``Runner.close``) cancels the tasks still pending,
then ``shutdown_default_executor()``; ``threading._shutdown`` joins every non-daemon thread
at interpreter exit. Each is a ``PhaseBegan`` before the wait and a ``PhaseEnded`` after it,
also when the wait raises (a Ctrl-C, a timeout).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from concsim.events import Phase, PhaseBegan, PhaseEnded

from .runtime import Actor, Lane, SimError

if TYPE_CHECKING:
    from .world import World


def in_phase(world: World, lane: Lane, phase: Phase, step: str, body: Actor) -> Actor:
    """Run ``body`` as ``phase`` of ``lane``: its events around it, its result returned.

    A ``SimError`` out of the body still ends the phase; a generator closed unfinished (a
    run thrown away) emits nothing."""
    world.emit(PhaseBegan, lane=lane.id, phase=phase, step=step)
    try:
        result: Any = yield from body
    except SimError:
        world.emit(PhaseEnded, lane=lane.id, phase=phase, step=step)
        raise
    world.emit(PhaseEnded, lane=lane.id, phase=phase, step=step)
    return result
