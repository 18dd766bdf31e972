"""``threading.Barrier`` (version 2): wait with its index, a timeout that breaks it for every
party, abort and reset -- each as Lib/threading.py does it (checked against CPython 3.11)."""

from __future__ import annotations

import textwrap

from concsim.engine import Simulation
from concsim.events import BarrierBroken, BarrierPassed, ExceptionRaised, TimeoutExpired
from concsim.export.outcome import outcome
from concsim.scenario.loader import load_scenario_text


def _run(text: str) -> Simulation:
    sim = Simulation(load_scenario_text(textwrap.dedent(text), "s.yaml"))
    sim.run()
    return sim


def _tasks(sim: Simulation) -> dict[str, tuple[str, str | None, float]]:
    return {t["name"]: (t["outcome"], t["error"], t["ended"]) for t in outcome(sim.events)["tasks"]}


def _scenario(delays: tuple[str, ...], barrier: str, main: str = "") -> str:
    tasks = "".join(
        f"  - name: {name}\n    steps: [{{io: {delay}}}, {{wait: gate}}]\n"
        for name, delay in zip("abcd", delays, strict=False)
    )
    program = "program: {model: threads, executor: false, collect: join"
    program += f", main: [submit, {main}collect]}}" if main else "}"
    return f"version: 2\nname: s\nbarriers: {{gate: {barrier}}}\n{program}\ntasks:\n{tasks}"


def test_wait_returns_the_arrival_index_and_the_last_party_trips_it() -> None:
    """Barrier.wait: ``index = self._count`` as each thread arrives (b first: 0); the one
    that makes it ``parties`` releases everyone at that instant."""
    sim = _run(_scenario(("200ms", "100ms", "300ms"), "{parties: 3}"))
    passed = {e.lane: (e.t, e.index) for e in sim.events if isinstance(e, BarrierPassed)}
    assert passed == {"thread-2": (0.3, 0), "thread-1": (0.3, 1), "thread-3": (0.3, 2)}
    assert {name: state[:2] for name, state in _tasks(sim).items()} == {
        "a": ("ok", None),
        "b": ("ok", None),
        "c": ("ok", None),
    }


def test_a_wait_that_times_out_breaks_the_barrier_for_every_party() -> None:
    """Barrier._wait: ``if not self._cond.wait_for(..., timeout): self._break(); raise
    BrokenBarrierError`` -- each wait times out on its own clock (b, from 0.1 s, at 0.4 s),
    every waiter raises then, and _enter raises at once for a later arrival (c at 1.0 s).
    CPython 3.11: [('a', BrokenBarrierError, 0.4), ('b', ..., 0.4), ('c', ..., 1.0)]."""
    sim = _run(_scenario(("200ms", "100ms", "1s"), "{parties: 3, timeout: 300ms}"))
    assert _tasks(sim) == {
        "a": ("failed", "BrokenBarrierError", 0.4),
        "b": ("failed", "BrokenBarrierError", 0.4),
        "c": ("failed", "BrokenBarrierError", 1.0),
    }
    assert [(e.t, e.waiter, e.on) for e in sim.events if isinstance(e, TimeoutExpired)] == [
        (0.4, "thread-2", "barrier gate")
    ]
    assert [(e.lane, e.how, e.woke) for e in sim.events if isinstance(e, BarrierBroken)] == [
        ("thread-2", "timed out", ("thread-1",))
    ]
    raised = [(e.error, e.message) for e in sim.events if isinstance(e, ExceptionRaised)]
    assert raised == [("BrokenBarrierError", "")] * 3  # raise BrokenBarrierError: no message


def test_the_wait_timeout_overrides_the_barrier_default() -> None:
    """Barrier.wait(timeout): ``if timeout is None: timeout = self._timeout``."""
    sim = _run(
        _scenario(("100ms", "1s"), "{parties: 2, timeout: 5s}").replace(
            "{wait: gate}]\n  - name: b", "{wait: gate, timeout: 200ms}]\n  - name: b", 1
        )
    )
    assert _tasks(sim)["a"] == ("failed", "BrokenBarrierError", 0.3)


def test_abort_breaks_the_barrier_for_waiters_and_later_arrivals() -> None:
    """Barrier.abort: ``self._break()`` -- the waiting thread raises BrokenBarrierError, and
    so does every wait after it until a reset."""
    sim = _run(
        _scenario(("100ms", "500ms"), "{parties: 3}", main="{sleep: 300ms}, {abort: gate}, ")
    )
    assert _tasks(sim) == {
        "a": ("failed", "BrokenBarrierError", 0.3),
        "b": ("failed", "BrokenBarrierError", 0.5),
    }
    assert [(e.lane, e.how) for e in sim.events if isinstance(e, BarrierBroken)] == [
        ("main", "aborted it")
    ]


def test_reset_raises_in_the_waiters_and_the_barrier_fills_again() -> None:
    """Barrier.reset with threads waiting: they raise BrokenBarrierError (state resetting),
    and once they have left the barrier fills again: two later arrivals pass it."""
    sim = _run(
        _scenario(
            ("100ms", "500ms", "600ms"), "{parties: 2}", main="{sleep: 300ms}, {reset: gate}, "
        )
    )
    assert _tasks(sim) == {
        "a": ("failed", "BrokenBarrierError", 0.3),
        "b": ("ok", None, 0.6),
        "c": ("ok", None, 0.6),
    }
    passed = [(e.lane, e.index) for e in sim.events if isinstance(e, BarrierPassed)]
    assert sorted(passed) == [("thread-2", 0), ("thread-3", 1)]


def test_a_thread_back_at_a_draining_barrier_waits_for_the_others_to_leave() -> None:
    """Barrier._enter: ``while self._state in (-1, 1): self._cond.wait()`` -- a thread that
    passes and comes straight back waits until every thread of the last round has left,
    then counts from 0 in the new round."""
    sim = _run(
        """\
        version: 2
        name: s
        barriers: {gate: {parties: 2}}
        program: {model: threads, executor: false, collect: join}
        tasks:
          - name: a
            steps: [{io: 100ms}, {wait: gate}, {wait: gate}]
          - name: b
            steps: [{io: 200ms}, {wait: gate}, {io: 100ms}, {wait: gate}]
        """
    )
    passed = [(e.t, e.lane, e.index) for e in sim.events if isinstance(e, BarrierPassed)]
    assert sorted(passed) == [
        (0.2, "thread-1", 0),
        (0.2, "thread-2", 1),
        (0.3, "thread-1", 0),
        (0.3, "thread-2", 1),
    ]
