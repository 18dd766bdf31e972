"""Decision points: who goes first when several threads wait for the GIL, a lock or a queue
item at once, where CPython promises no order (concsim/engine/threads/ties.py)."""

from __future__ import annotations

from typing import Any

from faultkit import scenario

from concsim.engine import Simulation
from concsim.engine.threads.ties import AS_WRITTEN, Contested, Maker, draw_for, pick
from concsim.events import GilChanged, LockAcquired, QueueGot
from concsim.scenario.model import Scenario

GIL = """
name: gil-ties
machine: {ties: seeded}
program: {model: threads, executor: false, collect: join}
tasks:
  - {name: spin, repeat: 3, steps: [{cpu: 20ms}]}
"""

LOCK = """
name: lock-ties
machine: {ties: seeded}
program: {model: threads, executor: false, collect: join}
tasks:
  - name: worker
    repeat: 3
    steps: [{cpu: 1ms}, {acquire: lock}, {cpu: 30ms}, {release: lock}]
"""

QUEUE = """
name: queue-ties
machine: {ties: seeded}
program: {model: threads, executor: false, collect: join}
queues: {q: {maxsize: 0}}
tasks:
  - name: consumer
    repeat: 2
    steps: [{consume: q, each: [{io: 10ms, label: handle}]}]
  - name: producer
    steps:
      - {cpu: 1ms}
      - {put: q, value: a}
      - {put: q, value: b}
      - {put: q, value: null}
      - {put: q, value: null}
"""

ASYNCIO_LOCK = """
name: aio-ties
machine: {ties: seeded}
program: {model: asyncio}
tasks:
  - name: co
    repeat: 3
    steps: [{acquire: lock}, {io: 10ms}, {release: lock}]
"""


def _run(sc: Scenario, seed: int, choices: dict[int, str] | None = None) -> Simulation:
    sim = Simulation(sc, seed=seed, choices=choices)
    sim.run()
    return sim


def _lines(sim: Simulation) -> list[dict[str, Any]]:
    return [event.to_dict() for event in sim.events]


def test_the_gil_goes_to_any_waiter_as_drop_gil_signals_its_condition_once() -> None:
    """Python/ceval_gil.c: drop_gil does COND_SIGNAL(gil->cond) once and take_gil's timed
    waits race for it, so no waiter is promised the GIL. With ``ties: seeded`` the seed
    picks: seed 1's first decision gives it to main, second in line behind thread-1."""
    sc = scenario(GIL)
    first = _run(sc, 1).world.decisions[0]
    assert (first.at, first.contested, first.waiting) == (
        15_000,
        Contested.GIL,
        ("thread-1", "main"),
    )
    assert (first.chosen, first.maker, first.winner) == (1, Maker.SEED, "main")
    events = _run(sc, 1).events
    handed = next(e for e in events[first.events_before :] if isinstance(e, GilChanged))
    assert handed.holder == "main"
    assert first.took == "took the GIL from thread-2 before thread-1, who had waited longer"
    winners = {decision.winner for seed in range(6) for decision in _run(sc, seed).world.decisions}
    assert winners == {"main", "thread-1", "thread-2", "thread-3"}


def test_a_released_lock_goes_to_any_waiter_as_threading_lock_defines_no_order() -> None:
    """Doc/library/threading.rst, Lock objects: "which one of the waiting threads proceeds
    is not defined". Seed 0 hands the lock thread-1 releases to thread-3, which began
    waiting after thread-2; seed 1 to thread-2."""
    sc = scenario(LOCK)
    order = {}
    for seed in (0, 1):
        sim = _run(sc, seed)
        lock = next(d for d in sim.world.decisions if d.contested is Contested.LOCK)
        assert (lock.at, lock.resource, lock.holder, lock.waiting) == (
            33_000,
            "lock",
            "thread-1",
            ("thread-2", "thread-3"),
        )
        order[seed] = [e.lane for e in sim.events if isinstance(e, LockAcquired)]
        assert order[seed][1] == lock.winner
    assert order == {
        0: ["thread-1", "thread-3", "thread-2"],
        1: ["thread-1", "thread-2", "thread-3"],
    }


def test_getters_woken_by_notify_race_for_the_gil_to_take_the_first_item() -> None:
    """Lib/queue.py: put() calls not_empty.notify(), which wakes the Condition's first
    waiter (Lib/threading.py, Condition.notify: waiters[0]); the woken getter takes an item
    only once it holds the mutex, and so the GIL, again. Two puts wake both consumers; the
    one that wins the GIL takes 'a'. With ``fifo`` the first getter is handed 'a'."""
    got = {}
    for seed in range(4):
        sim = _run(scenario(QUEUE), seed)
        race = sim.world.decisions[0]
        assert (race.at, race.contested, race.waiting) == (
            1_000,
            Contested.GIL,
            ("thread-1", "thread-2"),
        )
        got[seed] = [(e.lane, e.value) for e in sim.events if isinstance(e, QueueGot)][:2]
        assert got[seed][0] == (race.winner, "a")
    assert got[0] == [("thread-1", "a"), ("thread-2", "b")]
    assert got[1] == [("thread-2", "a"), ("thread-1", "b")]
    fifo = scenario(QUEUE.replace("ties: seeded", "ties: fifo"))
    for seed in range(4):
        events = _run(fifo, seed).events
        assert [(e.lane, e.value) for e in events if isinstance(e, QueueGot)][:2] == got[0]


def test_coroutines_waiting_for_an_asyncio_lock_are_never_reordered() -> None:
    """asyncio.Lock wakes its first waiter (Lib/asyncio/locks.py, _wake_up_first) and the
    ready queue is FIFO: no decision point, whatever the seed."""
    sc = scenario(ASYNCIO_LOCK)
    for seed in range(5):
        sim = _run(sc, seed)
        assert sim.world.decisions == []
        assert [e.lane for e in sim.events if isinstance(e, LockAcquired)] == [
            "co-1",
            "co-2",
            "co-3",
        ]


def test_fifo_gives_every_decision_to_the_first_waiter_and_draws_nothing() -> None:
    """``ties: fifo`` (the default) keeps the fixed order: seeds differ in nothing."""
    sc = scenario(LOCK.replace("machine: {ties: seeded}\n", ""))
    runs = [_run(sc, seed) for seed in (0, 1, 7)]
    for sim in runs:
        assert sim.world.decisions and all(
            (d.chosen, d.maker) == (0, Maker.FIFO) for d in sim.world.decisions
        )
    assert _lines(runs[0])[1:] == _lines(runs[1])[1:] == _lines(runs[2])[1:]


def test_the_same_seed_breaks_the_same_ties_byte_for_byte() -> None:
    for text in (GIL, LOCK, QUEUE):
        sc = scenario(text)
        for seed in (0, 3, 11):
            traces = [_lines(_run(sc, seed)) for _ in range(3)]
            assert traces[0] == traces[1] == traces[2]


def test_a_choice_decides_its_decision_point_and_nothing_before_it() -> None:
    """``choices`` (the evil scheduler, a replay): the chosen thread goes first; the run up
    to that decision is the same event for event, and a choice outside the waiters is
    ignored."""
    sc = scenario(LOCK)
    plain = _run(sc, 1)
    lock = next(d for d in plain.world.decisions if d.contested is Contested.LOCK)
    assert lock.winner == "thread-2"
    chosen = _run(sc, 1, {lock.number: "thread-3"})
    decided = chosen.world.decisions[lock.number]
    assert (decided.winner, decided.maker) == ("thread-3", Maker.CHOSEN)
    assert _lines(chosen)[: lock.events_before] == _lines(plain)[: lock.events_before]
    assert [e.lane for e in chosen.events if isinstance(e, LockAcquired)][1] == "thread-3"
    stray = _run(sc, 1, {lock.number: "thread-9"})
    assert _lines(stray) == _lines(plain)


def test_a_draw_picks_uniformly_and_the_draw_as_written_picks_the_first() -> None:
    assert pick(AS_WRITTEN, 2) == pick(AS_WRITTEN, 5) == 0
    for count in (2, 3, 7):
        assert [pick(draw_for(i, count), count) for i in range(count)] == list(range(count))
        picks = [pick(n / 1000, count) for n in range(1000)]
        assert (
            max(picks.count(i) for i in range(count)) - min(picks.count(i) for i in range(count))
            <= 1
        )


RACE = """
name: race-ties
machine: {ties: seeded}
program: {model: threads, executor: false, collect: join}
shared: {counter: 0}
tasks:
  - name: adder
    repeat: 4
    steps:
      - repeat: 100
        steps: [{read: counter}, {cpu: 200us}, {write: counter}, {cpu: 130us}]
"""


def test_shrinking_keeps_the_fewest_ties_broken_out_of_turn() -> None:
    """A tie is one draw of the run, so ddmin shrinks it like a duration: the shrunk
    schedule still gives the seed's count, each kept tie said in words."""
    from concsim.explore.samples import facets
    from concsim.explore.schedule import Drawn, shrink_seed, simulate
    from concsim.export.outcome import outcome

    sc = scenario(RACE)
    as_written = facets(outcome(simulate(sc, None, (), 0, {}).events))
    seed = next(s for s in range(40) if facets(outcome(_run(sc, s).events)) != as_written)
    target = facets(outcome(_run(sc, seed).events))
    shrunk = shrink_seed(sc, None, (), seed)
    kept = simulate(sc, None, (), seed, shrunk.schedule)
    assert facets(outcome(kept.events)) == target and shrunk.complete
    assert shrunk.schedule and all(kept.drawn[i].drawn is Drawn.TIE for i in shrunk.schedule)
    took = [line for line in shrunk.words if " took the GIL from " in line]
    assert len(took) == len(shrunk.schedule)


def test_race_with_lock_hands_its_lock_by_seed_and_still_counts_400() -> None:
    """The bundled lesson breaks its ties by seed: the order the threads get the lock in
    changes between seeds, the count and the elapsed time never do."""
    from concsim.scenario.library import find_scenario
    from concsim.scenario.loader import load_scenario

    sc = load_scenario(find_scenario("race-with-lock"))
    orders = set()
    for seed in range(4):
        events = _run(sc, seed).events
        assert (events[-1].to_dict()["elapsed"], _count(events)) == (0.12, 400)
        orders.add(tuple(e.lane for e in events if isinstance(e, LockAcquired)))
    assert len(orders) == 4


def _count(events: list[Any]) -> int:
    from concsim.export.outcome import outcome

    return int(outcome(events)["shared"]["counter"])
