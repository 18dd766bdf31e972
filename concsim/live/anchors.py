"""Timed kills, landed on the program's state rather than on the clock.

A ``kill`` given a moment (``at:`` in the file, ``--inject``) means, in the simulator, the
death of the worker process at that instant of virtual time, in whatever task it runs
then. The real program keeps another clock: a worker forked on a busy machine can start its
task tens of milliseconds later than simulated, so a SIGKILL sent by the clock alone can
land before the worker has begun the task the simulator has it running, and the two runs
then tell different stories (a task ``never_started`` live that the simulator has
``killed``, or a worker not yet known and the kill refused). So the simulator is asked what
the kill lands on — the task the target's worker runs (``ProcessKilled.task``), every task
started by then and every task ended by then — and the live kill waits, at most
``CATCH_UP`` seconds, until the real program has started and ended them too, then kills the
process running that same task.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from concsim.engine import Injection, Simulation
from concsim.events import FaultInjected, ProcessKilled, TaskEnded, TaskStarted
from concsim.scenario.model import Scenario

CATCH_UP = 10.0
"""Seconds past its moment a timed kill may wait for the real program to reach the state
the simulator kills in; then it lands on whatever the program is doing."""

TIME_MATCH = 1e-4
"""Two moments closer than this are the same (the simulator's times are rounded)."""


@dataclass(frozen=True, slots=True)
class KillAnchor:
    """What a timed kill lands on in the simulator."""

    at: float
    target: str
    task: str | None  # the task its worker runs when it dies (None: idle, or refused)
    started: frozenset[str]  # every task started before it
    ended: frozenset[str] = frozenset()  # every task ended before it


def kill_anchors(
    scenario: Scenario, seed: int, injections: Iterable[Injection]
) -> list[KillAnchor]:
    """The timed kills of one run (the file's ``at:`` faults and ``injections``), as the
    simulator lands them, in the order it does."""
    sim = Simulation(
        scenario,
        seed=seed,
        injections=injections,
        keep=(TaskStarted, TaskEnded, FaultInjected, ProcessKilled),
    )
    anchors: list[KillAnchor] = []
    started: set[str] = set()
    ended: set[str] = set()
    pending: FaultInjected | None = None
    for event in sim.run():
        if pending is not None:
            task = event.task if isinstance(event, ProcessKilled) else None
            anchors.append(
                KillAnchor(pending.t, pending.target, task, frozenset(started), frozenset(ended))
            )
            pending = None
        if isinstance(event, TaskStarted):
            started.add(event.task)
        elif isinstance(event, TaskEnded):
            ended.add(event.task)
        elif isinstance(event, FaultInjected) and event.fault == "kill":
            pending = event
    if pending is not None:
        anchors.append(
            KillAnchor(pending.t, pending.target, None, frozenset(started), frozenset(ended))
        )
    return anchors


def take_anchor(anchors: list[KillAnchor], at: float, target: str) -> KillAnchor | None:
    """The simulator's landing of the kill of ``target`` at ``at``, taken off the list."""
    for index, anchor in enumerate(anchors):
        if anchor.target == target and abs(anchor.at - at) < TIME_MATCH:
            return anchors.pop(index)
    return None
