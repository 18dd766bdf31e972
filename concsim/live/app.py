"""Live mode in the app: a running program presented as the simulation the views drive.

``live_factory`` builds a ``LiveSimulation`` with the interface of
``concsim.ui.session.SimulationLike``: the program starts at once and runs in real time,
whatever the view does. ``advance(to)`` hands over the events that have arrived (the lanes
follow the program as it runs); while the view is paused the program goes on and its events
wait, and ``step()`` hands them over one instant at a time. Faults from the keys land on
the real program at once. Every live run is closed when it is replaced (rewind, another
variant) or when the process exits, so no program outlives the app.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Sequence
from typing import Any

from concsim.engine import Injection
from concsim.events import Event, RunEnded
from concsim.live.session import LiveSession
from concsim.scenario.model import Scenario

_RUNNING: weakref.WeakSet[LiveSimulation] = weakref.WeakSet()


class LiveSimulation:
    """One live run, seen through the simulation interface the app uses."""

    def __init__(
        self,
        scenario: Scenario,
        variant: str | None,
        seed: int | None,
        injections: Sequence[Any],
    ) -> None:
        self.session = LiveSession(scenario, variant=variant, seed=seed, injections=injections)
        self._events: list[Event] = []
        self._injections = list(injections)
        _RUNNING.add(self)
        self.session.start()
        self._driver = threading.Thread(target=self._drive, name="concsim-live-driver", daemon=True)
        self._driver.start()

    def _drive(self) -> None:
        try:
            self.session.drive(limit=float("inf"))
        except RuntimeError:
            pass  # the program did not start; close() says so in its events
        finally:
            self.session.close()

    def _arrived(self) -> list[Event]:
        with self.session.lock:
            return self.session.events[len(self._events) :]

    # --- SimulationLike ------------------------------------------------------------------

    @property
    def now(self) -> float:
        last = self._events[-1].t if self._events else 0.0
        if self.finished:
            return last
        return max(last, self.session.run.now)

    @property
    def events(self) -> list[Event]:
        return self._events

    @property
    def finished(self) -> bool:
        return bool(self._events) and isinstance(self._events[-1], RunEnded)

    @property
    def injections(self) -> tuple[Any, ...]:
        return tuple(self._injections)

    @property
    def stalled(self) -> bool:
        return False  # a real program may always go on; live mode does not guess

    def next_time(self) -> float | None:
        arrived = self._arrived()
        return arrived[0].t if arrived else None

    def step(self) -> list[Event]:
        arrived = self._arrived()
        if not arrived:
            return []
        first = arrived[0].t
        new = [event for event in arrived if event.t == first]
        self._events.extend(new)
        return new

    def due(self, to: float) -> bool:
        arrived = self._arrived()
        return bool(arrived) and arrived[0].t <= to

    def advance(self, to: float, work: int | None = None) -> list[Event]:
        """What has arrived up to ``to``; with ``work``, at most that many events."""
        new = [event for event in self._arrived() if event.t <= to]
        if work is not None:
            new = new[: max(1, work)]
        self._events.extend(new)
        return new

    def run(self) -> list[Event]:
        new = self._arrived()
        self._events.extend(new)
        return new

    def inject(self, fault: str, target: str, error: str = "RuntimeError") -> list[Event]:
        self._injections.append(Injection(self.now, fault, target, error))
        self.session.inject(fault, target, error)
        return []

    def close(self) -> None:
        self.session.close()


def live_factory(
    scenario: Scenario, variant: str | None, seed: int | None, injections: Sequence[Any]
) -> LiveSimulation:
    return LiveSimulation(scenario, variant, seed, injections)


def _estimates(
    scenario: Scenario, variant: str | None, seed: int | None, injections: Sequence[Any]
) -> Any:
    from concsim.engine import Simulation

    return Simulation(scenario, variant=variant, seed=seed, injections=tuple(injections))


live_factory.estimates = _estimates  # type: ignore[attr-defined]  # read by the run screen


def _close_all() -> None:
    for run in list(_RUNNING):
        run.close()


atexit.register(_close_all)
