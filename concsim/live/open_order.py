"""Shared values a real run may end with because CPython leaves an order open.

Where several threads wait for the GIL or a lock at once (a decision point, see
concsim.engine.threads.ties), the simulator picks one and CPython may pick another. A shared
variable whose final value changes with such a pick is compared with CPython as the range
from its initial value to the highest the picks give (as a race the simulated run shows:
more picks, each CPython's to make, may lose more updates), not as the one value of the
simulated run.
"""

from __future__ import annotations

from collections.abc import Sequence

from concsim.engine import Injection, Simulation
from concsim.export.outcome import outcome
from concsim.scenario.model import Scenario

MAX_DECISIONS = 16
"""A run with more decision points is compared as simulated: each one tried otherwise is a
run of its own."""


def open_shared_values(
    scenario: Scenario, injections: Sequence[Injection], sim: Simulation
) -> dict[str, tuple[int, int]]:
    """The shared variables whose final value changes when one of the decision points of
    ``sim`` (finished) goes to another waiting thread: from the initial value to the
    highest final value of those runs."""
    decisions = sim.world.decisions
    if not decisions or len(decisions) > MAX_DECISIONS:
        return {}
    shared = outcome(sim.events)["shared"]
    found = {name: (value, value) for name, value in shared.items() if isinstance(value, int)}
    for decision in decisions:
        for index, lane in enumerate(decision.waiting):
            if index == decision.chosen:
                continue
            other = Simulation(
                scenario, seed=sim.seed, injections=injections, choices={decision.number: lane}
            )
            values = outcome(other.run())["shared"]
            for name, (low, high) in found.items():
                value = values.get(name)
                if isinstance(value, int):
                    found[name] = (min(low, value), max(high, value))
    return {
        name: (min(scenario.shared[name], low), high)
        for name, (low, high) in found.items()
        if low != high
    }
