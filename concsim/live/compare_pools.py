"""Facts of a pool's own threads, compared between the simulator and CPython: the process
pool's manager thread (its name, ``Thread-N``: Lib/concurrent/futures/process.py,
``_ExecutorManagerThread``, named by ``threading._counter``) and the done-callbacks (which
callback ran for which future, in which thread: Lib/concurrent/futures/_base.py,
``Future._invoke_callbacks``).

A thread pool's worker that completes a future is whichever took its work item, the
scheduler's choice: its callbacks are compared as run by "a worker of the pool"
(``ThreadPoolExecutor-0_*``). The callbacks are compared as a multiset: their order
follows the futures' completion, compared elsewhere.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from concsim.events import CallbackInvoked, Event, LaneCreated, LaneKind
from concsim.scenario.model import Model, Scenario

_POOL_WORKER = re.compile(r"^(ThreadPoolExecutor-\d+)_\d+$")
_UNNAMED = re.compile(r"^Thread-\d+$")


def pool_threads(
    scenario: Scenario, simulated: Sequence[Event], real: Sequence[Event]
) -> list[tuple[str, Any, Any]]:
    """Each fact on which they disagree (the manager thread's name, the done-callbacks):
    the fact, what the simulator says, what CPython did."""
    found: list[tuple[str, Any, Any]] = []
    program = scenario.program
    if program.model is Model.PROCESSES and program.executor:
        sim, live = _managers(simulated), _managers(real)
        if sim != live:
            found.append(("the process pool's manager thread", sim, live))
    sim_calls, live_calls = _callbacks(simulated), _callbacks(real)
    if sim_calls != live_calls:
        found.append(("done-callbacks run", _shown(sim_calls), _shown(live_calls)))
    return found


def _managers(events: Sequence[Event]) -> list[str]:
    """The parent's threads named ``Thread-N``: a process pool's manager threads."""
    return [
        e.name
        for e in events
        if isinstance(e, LaneCreated) and e.lane_kind is LaneKind.THREAD and _UNNAMED.match(e.name)
    ]


def _callbacks(events: Sequence[Event]) -> Counter[tuple[str, str, str]]:
    return Counter(
        (e.task, e.callback, _POOL_WORKER.sub(r"\1_*", e.thread))
        for e in events
        if isinstance(e, CallbackInvoked)
    )


def _shown(calls: Counter[tuple[str, str, str]]) -> list[str]:
    return sorted(
        f"{callback}({task}) in {thread}"
        for (task, callback, thread), n in calls.items()
        for _ in range(n)
    )
