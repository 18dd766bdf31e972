"""The base of the program's code: raising an exception in it, and blocking a lane until
someone wakes it, for threads and coroutines alike."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from concsim.events import (
    ExceptionRaised,
    LaneState,
)

from .runtime import Actor, Lane, SimError, TaskRun
from .waits import FutureWait, Hung, IoWait, LockWait, PrimitiveWait, QueueWait, StartWait
from .world import World


class CoroutineSteps(Protocol):
    """What the steps need of the asyncio model (coroutines.AsyncioModel) to run in a coroutine:
    the few awaits whose shape differs from a thread's. A protocol, so that the steps do
    not import the model that imports them."""

    loop: Lane

    def is_coroutine(self, lane: Lane) -> bool: ...

    def await_io(self, co: Lane, waits: Sequence[tuple[int, str]], times: int = 1) -> Actor: ...

    def blocking(self, co: Lane, duration: int, label: str) -> Actor: ...

    def to_thread(self, co: Lane, duration: int, label: str) -> Actor: ...

    def tree_step(self, co: Lane, run: TaskRun | None, step: Any, label: str) -> Actor: ...

    def await_(
        self,
        co: Lane,
        state: LaneState,
        label: str,
        register: Callable[[Callable[..., None]], Callable[[], None]],
        wait: LockWait | QueueWait | FutureWait | StartWait | PrimitiveWait,
    ) -> Actor: ...


class Code:
    """What every kind of step builds on: the world it runs in, and how it blocks."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.aio: CoroutineSteps | None = None

    def raise_in(
        self, lane: Lane, run: TaskRun | None, error: str, message: str, label: str | None
    ) -> None:
        self.world.emit(
            ExceptionRaised,
            lane=lane.id,
            task=run.name if run is not None else None,
            error=error,
            message=message,
            step=label,
        )
        raise SimError(error, message)

    @staticmethod
    def _register(
        waiters: deque[tuple[Lane, Callable[[Any], None]]], lane: Lane
    ) -> Callable[[Callable[[Any], None]], Callable[[], None]]:
        def register(wake: Callable[[Any], None]) -> Callable[[], None]:
            entry = (lane, wake)
            waiters.append(entry)

            def unregister() -> None:
                if entry in waiters:
                    waiters.remove(entry)

            return unregister

        return register

    # --- blocking, for threads and coroutines alike -------------------------------------

    def block(
        self,
        lane: Lane,
        label: str,
        register: Callable[[Callable[[Any], None]], Callable[[], None]],
        wait: LockWait | QueueWait | FutureWait | StartWait | PrimitiveWait,
    ) -> Actor:
        """Wait until the waker handed to ``register`` is called; return what it was given."""
        if self.aio is not None and self.aio.is_coroutine(lane):
            value = yield from self.aio.await_(lane, LaneState.BLOCKED, label, register, wait)
            return value
        world = self.world
        world.release_gil(lane, f"it blocked on {label}")
        world.set_state(lane, LaneState.BLOCKED, label)
        if lane.hung_io:
            yield Hung(wait)  # this wait is never registered, so nothing ever ends it
        unregister = lane.unblock = once(register(world.waker(lane)))
        try:
            value = yield wait
        finally:
            lane.unblock = None
            unregister()
        return value

    def sleep(self, lane: Lane, duration: int, label: str) -> Actor:
        """``time.sleep`` or blocking I/O; in a coroutine, ``await asyncio.sleep`` or I/O."""
        aio = self.aio
        if aio is not None and lane.thread is aio.loop:
            return aio.await_io(lane, ((duration, label),))
        return self.wait_io(lane, duration, label)

    def off_the_loop(self, lane: Lane, duration: int, label: str, to_thread: bool) -> Actor:
        """A blocking call, or ``asyncio.to_thread``: in a coroutine they differ, in a
        thread both are plain blocking I/O."""
        aio = self.aio
        if aio is not None and aio.is_coroutine(lane):
            jittered = self.world.jittered(duration)
            if to_thread:
                return aio.to_thread(lane, jittered, label)
            return aio.blocking(lane, jittered, label)
        return self.wait_io(lane, duration, label)

    def wait_io(self, lane: Lane, duration: int, label: str) -> Actor:
        world = self.world
        duration = world.jittered(duration)
        world.release_gil(lane, "it started blocking I/O")
        world.set_state(lane, LaneState.IO, label)
        wait = IoWait(world.clock.now + duration)
        try:
            yield Hung(wait) if lane.hung_io else wait  # a hung wait has no timer
        finally:
            lane.hung_io = False  # a hang freezes one I/O wait, not the ones after it


def once(undo: Callable[[], None]) -> Callable[[], None]:
    """``undo`` that runs at most once: a hang forgets a wait early, and the wait's own
    ``finally`` (when its generator is closed) must not forget it twice."""
    done = False

    def run_once() -> None:
        nonlocal done
        if not done:
            done = True
            undo()

    return run_once
