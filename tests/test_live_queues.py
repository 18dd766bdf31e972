"""Queue operations of the real program: QueuePut and QueueGot, as the simulator emits them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from concsim.engine import Simulation
from concsim.events import Event, QueueGot, QueuePut
from concsim.live.session import LiveSession
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario


def test_every_put_and_get_of_the_program_is_observed() -> None:
    """queue-isolation: the producer's 11 puts in order, on its lane; each item got once
    (which consumer gets which job is the OS scheduler's choice, as in CPython)."""
    scenario = load_scenario(find_scenario("queue-isolation"))
    simulated = Simulation(scenario).run()
    live = LiveSession(scenario).run_to_end(limit=30)

    def puts(events: Sequence[Event]) -> list[tuple[str, str, object]]:
        return [(e.lane, e.queue, e.value) for e in events if isinstance(e, QueuePut)]

    assert puts(live) == puts(simulated)
    assert len(puts(live)) == 11
    got = [e for e in live if isinstance(e, QueueGot)]
    assert Counter(e.value for e in got) == Counter(
        e.value for e in simulated if isinstance(e, QueueGot)
    )
    assert {e.lane for e in got} <= {"thread-2", "thread-3", "thread-4"}
    assert {e.queue for e in got} == {"jobs"}
