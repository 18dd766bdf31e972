"""``threading.Barrier`` (Lib/threading.py, ``Barrier.wait``/``abort``/``reset``).

CPython's barrier is a condition and a state: filling (0), draining (1), resetting (-1),
broken (-2). ``wait`` first waits while the barrier drains or resets (``_enter``), raises
BrokenBarrierError if it is broken, takes ``index = self._count`` (its arrival order, from
0), and either trips the barrier (the last party: draining, ``notify_all``) or waits for
that with ``wait_for(lambda: self._state != 0, timeout)``. A wait that times out breaks the
barrier for everyone (``_break``): every waiter, and every later ``wait`` until ``reset()``,
raises BrokenBarrierError. The last waiter to leave a drained barrier makes it fill again
(``_exit``).

With ``action``, the party that trips the barrier runs it first (``_release``: ``if
self._action: self._action()``), holding the barrier's lock, so that no one is released
and no one new gets in before it ends; a waiter whose timeout expires meanwhile cannot
return before it has the lock back, and then finds the barrier tripped. An exception in the
action breaks the barrier (``except: self._break(); raise``): the others raise
BrokenBarrierError, the party that ran it the exception itself."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from concsim.events import BarrierBroken, BarrierPassed, LaneState, TimeoutExpired

from ..code import Code
from ..runtime import Actor, Lane, SimError, TaskRun
from ..waits import PrimitiveWait
from ..world import World
from .event import Waiters, waiting, with_timeout

BROKEN_BARRIER = "BrokenBarrierError"


class BarrierState(Enum):
    """``Barrier._state``."""

    FILLING = 0
    DRAINING = 1
    RESETTING = -1
    BROKEN = -2


@dataclass(eq=False)
class SimBarrier:
    name: str
    parties: int
    timeout: int | None
    action: tuple[Any, ...] = ()  # the steps of ``action``
    state: BarrierState = BarrierState.FILLING
    count: int = 0
    waiters: Waiters = field(default_factory=deque)  # lanes in ``self._cond.wait``
    acting: bool = False  # a party runs the action, holding the barrier's lock


class Barriers(Code):
    """The program's barriers, by name, as the scenario declares them."""

    if TYPE_CHECKING:  # the interpreter's

        def run_steps(
            self,
            lane: Lane,
            run: TaskRun | None,
            steps: Sequence[Any],
            consumed: list[Any],
            *,
            top: bool = False,
        ) -> Actor: ...

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.barriers = {
            name: SimBarrier(name, spec.parties, spec.timeout, spec.action)
            for name, spec in world.scenario.barriers.items()
        }

    def barrier_wait(
        self, lane: Lane, run: TaskRun | None, name: str, timeout: int | None, label: str
    ) -> Actor:
        """``Barrier.wait(timeout)``: returns the arrival index, or raises
        BrokenBarrierError."""
        world = self.world
        barrier = self.barriers[name]
        if timeout is None:
            timeout = barrier.timeout
        yield from world.ensure_gil(lane)
        while barrier.acting:  # ``with self._cond:``: the action holds the lock
            yield from self._cond_wait(lane, barrier, None, waiting(label, name, "action runs"))
        while barrier.state in (BarrierState.DRAINING, BarrierState.RESETTING):  # _enter
            yield from self._cond_wait(lane, barrier, None, waiting(label, name, "draining"))
        if barrier.state is BarrierState.BROKEN:
            self.raise_in(lane, run, BROKEN_BARRIER, "", label)
        index = barrier.count
        barrier.count += 1
        try:
            if index + 1 == barrier.parties:  # _release: this one trips it
                if barrier.action:
                    yield from self._act(lane, run, barrier)
                barrier.state = BarrierState.DRAINING
                self._notify_all(barrier)
            else:  # _wait
                self._show_arrivals(barrier, label)
                deadline = None if timeout is None else world.clock.now + timeout
                while barrier.state is BarrierState.FILLING:  # Condition.wait_for
                    remaining = None if deadline is None else deadline - world.clock.now
                    if remaining is not None and remaining <= 0:
                        if not barrier.acting:
                            break
                        remaining = None  # Condition.wait returns only with the lock back
                    shown = self._arrivals(barrier, label)
                    yield from self._cond_wait(lane, barrier, remaining, shown)
                if barrier.state is BarrierState.FILLING:
                    world.emit(TimeoutExpired, waiter=lane.id, on=f"barrier {name}")
                    self._break(lane, barrier, "timed out")
                    self.raise_in(lane, run, BROKEN_BARRIER, "", label)
                if barrier.state in (BarrierState.BROKEN, BarrierState.RESETTING):
                    self.raise_in(lane, run, BROKEN_BARRIER, "", label)
            world.emit(BarrierPassed, lane=lane.id, barrier=name, index=index)
            return index
        finally:
            barrier.count -= 1  # _exit
            if barrier.count == 0 and barrier.state in (
                BarrierState.DRAINING,
                BarrierState.RESETTING,
            ):
                barrier.state = BarrierState.FILLING
                self._notify_all(barrier)

    def _act(self, lane: Lane, run: TaskRun | None, barrier: SimBarrier) -> Actor:
        """``self._action()`` in the party that trips the barrier; an exception in it
        breaks the barrier and goes on in this party."""
        barrier.acting = True
        try:
            yield from self.run_steps(lane, run, barrier.action, [])
        except SimError as error:
            barrier.acting = False
            yield from self.world.ensure_gil(lane)
            self._break(lane, barrier, f"its action raised {error.error}")
            raise
        finally:
            barrier.acting = False
        yield from self.world.ensure_gil(lane)

    def barrier_abort(self, lane: Lane, name: str) -> None:
        """``Barrier.abort``: broken until a reset."""
        self._break(lane, self.barriers[name], "aborted it")

    def barrier_reset(self, lane: Lane, name: str) -> None:
        """``Barrier.reset``: empty again; threads waiting raise BrokenBarrierError, and it
        fills again once the last of them has left."""
        barrier = self.barriers[name]
        if barrier.count > 0:
            if barrier.state in (BarrierState.FILLING, BarrierState.BROKEN):
                barrier.state = BarrierState.RESETTING
                self._broke(lane, barrier, "reset it")
        else:
            barrier.state = BarrierState.FILLING
        self._notify_all(barrier)

    def _break(self, lane: Lane, barrier: SimBarrier, how: str) -> None:
        barrier.state = BarrierState.BROKEN
        self._broke(lane, barrier, how)
        self._notify_all(barrier)

    def _broke(self, lane: Lane, barrier: SimBarrier, how: str) -> None:
        """Who broke or reset it, and the lanes waiting in it, about to raise."""
        woke = tuple(waiter.id for waiter, _ in barrier.waiters)
        self.world.emit(BarrierBroken, lane=lane.id, barrier=barrier.name, how=how, woke=woke)

    def _cond_wait(self, lane: Lane, barrier: SimBarrier, timeout: int | None, label: str) -> Actor:
        """``self._cond.wait(timeout)``: until a ``notify_all`` or the timeout, then the
        condition's lock (the GIL here) again."""
        register = with_timeout(self.world, self._register(barrier.waiters, lane), timeout)
        yield from self.block(lane, label, register, PrimitiveWait(barrier.name))
        yield from self.world.ensure_gil(lane)

    @staticmethod
    def _notify_all(barrier: SimBarrier) -> None:
        waiters, barrier.waiters = list(barrier.waiters), deque()
        for _, wake in waiters:
            wake(True)

    @staticmethod
    def _arrivals(barrier: SimBarrier, label: str) -> str:
        return waiting(label, barrier.name, f"{barrier.count} of {barrier.parties} arrived")

    def _show_arrivals(self, barrier: SimBarrier, label: str) -> None:
        """Each lane already waiting for the barrier to fill says how many have arrived."""
        for waiter, _ in barrier.waiters:
            step = (waiter.step or label).rsplit(" (", 1)[0]
            self.world.set_state(waiter, LaneState.BLOCKED, self._arrivals(barrier, step))
