"""``asyncio.Barrier`` (version 2): wait with its index, abort and reset, a cancelled or
timed-out wait that leaves without breaking it, and asyncio's own BrokenBarrierError, as
Lib/asyncio/locks.py (3.11) has them; and the program, run on CPython, agrees."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import BarrierBroken, BarrierPassed, ExceptionRaised, TimeoutExpired
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Scenario
from concsim.scenario.schema import json_schema


def _load(text: str) -> Scenario:
    return load_scenario_text(textwrap.dedent(text), "s.yaml")


def _run(text: str) -> Simulation:
    sim = Simulation(_load(text))
    sim.run()
    return sim


def _tasks(sim: Simulation) -> dict[str, tuple[str, str | None, float]]:
    return {t["name"]: (t["outcome"], t["error"], t["ended"]) for t in outcome(sim.events)["tasks"]}


def _said(sim: Simulation) -> list[str]:
    return [line for line in outcome(sim.events)["output"] if line]


def _passed(sim: Simulation) -> list[tuple[float, str, int]]:
    return [(e.t, e.lane, e.index) for e in sim.events if isinstance(e, BarrierPassed)]


def _head(parties: int) -> str:
    return (
        "version: 2\nname: s\n"
        f"barriers: {{step: {{parties: {parties}}}}}\n"
        "program: {model: asyncio, collect: {pattern: gather, return_exceptions: true}}\n"
    )


TIMED_OUT = _head(3) + textwrap.dedent("""\
    tasks:
      - name: a
        steps: [{io: 100ms}, {wait: step}, {print: a passed}]
      - name: b
        steps:
          - {io: 200ms}
          - {wait: step, timeout: 100ms, else: [{print: b gave up}]}
      - name: c
        steps: [{io: 400ms}, {wait: step}, {print: c passed}]
      - name: d
        steps: [{io: 500ms}, {wait: step}, {print: d passed}]
    """)


def test_a_wait_that_times_out_leaves_and_the_barrier_does_not_break() -> None:
    """asyncio.Barrier has no timeout: ``asyncio.wait_for(barrier.wait(), 0.1)`` cancels
    the wait, whose ``finally: self._count -= 1`` only takes it out -- unlike a
    threading.Barrier wait that times out, nothing breaks. ``c`` then gets index 1 again,
    and ``d`` trips the barrier. CPython 3.11: b TimeoutError at 0.3; d 2, a 0, c 1 at 0.5."""
    sim = _run(TIMED_OUT)
    assert [(e.t, e.waiter, e.on) for e in sim.events if isinstance(e, TimeoutExpired)] == [
        (0.3, "b", "barrier step")
    ]
    assert not [e for e in sim.events if isinstance(e, BarrierBroken)]
    assert [(lane, index) for _, lane, index in _passed(sim)] == [("d", 2), ("a", 0), ("c", 1)]
    # each woken party runs in turn, after the print of the one before (100 us)
    assert [t for t, _, _ in _passed(sim)] == pytest.approx([0.5, 0.5001, 0.5002])
    assert _said(sim) == ["b gave up", "d passed", "a passed", "c passed"]


REPEATS = _head(3) + textwrap.dedent("""\
    tasks:
      - name: timed
        steps:
          - try:
              - within: 100ms
                steps: [{wait: step}]
            except:
              - {type: TimeoutError, steps: [{print: timed out}]}
      - name: first
        steps: [{io: 50ms}, {wait: step}]
      - name: second
        steps: [{io: 200ms}, {wait: step}]
      - name: third
        steps: [{io: 250ms}, {wait: step}]
    """)


def test_an_arrival_index_repeats_when_a_waiter_left_before_the_barrier_tripped() -> None:
    """``index = self._count``: ``timed`` arrives first (0) and its ``asyncio.timeout``
    takes it out at 0.1 s; ``first`` (1) is still there, so ``second`` gets 1 too and
    ``third`` 2. CPython 3.11 gave the same: x TimeoutError, y 1, z 1, q 2."""
    sim = _run(REPEATS)
    assert _said(sim) == ["timed out"]
    assert [(t, lane, index) for t, lane, index in _passed(sim)] == [
        (0.25, "third", 2),
        (0.25, "first", 1),
        (0.25, "second", 1),
    ]
    assert _tasks(sim)["timed"] == ("ok", None, pytest.approx(0.1001))


ABORTED = _head(3) + textwrap.dedent("""\
    tasks:
      - name: waiter
        steps: [{io: 100ms}, {wait: step}]
      - name: aborter
        steps: [{io: 150ms}, {abort: step}]
      - name: late
        steps: [{io: 200ms}, {wait: step}]
    """)


def test_abort_raises_in_the_waiter_and_in_every_later_wait_with_their_messages() -> None:
    """``await barrier.abort()``: a coroutine waiting in ``_wait`` raises
    ``BrokenBarrierError('Abort or reset of barrier')``, one that arrives later raises it
    from ``_block`` as ``BrokenBarrierError('Barrier aborted')``."""
    sim = _run(ABORTED)
    assert [(e.lane, e.how, e.woke) for e in sim.events if isinstance(e, BarrierBroken)] == [
        ("aborter", "aborted it", ("waiter",))
    ]
    raised = [
        (e.t, e.task, e.error, e.message) for e in sim.events if isinstance(e, ExceptionRaised)
    ]
    assert raised == [
        (0.15, "waiter", "BrokenBarrierError", "Abort or reset of barrier"),
        (0.2, "late", "BrokenBarrierError", "Barrier aborted"),
    ]
    assert outcome(sim.events)["results"] == [
        "BrokenBarrierError('Abort or reset of barrier')",
        "aborter done",
        "BrokenBarrierError('Barrier aborted')",
    ]


def test_an_uncaught_asyncio_broken_barrier_error_is_asyncio_s_own_class() -> None:
    """``asyncio.BrokenBarrierError is threading.BrokenBarrierError`` is False: the
    traceback names ``asyncio.exceptions.BrokenBarrierError``."""
    sim = _run(ABORTED.replace("return_exceptions: true", "return_exceptions: false"))
    assert outcome(sim.events)["main"]["error"] == "BrokenBarrierError"
    assert _said(sim)[-1] == "asyncio.exceptions.BrokenBarrierError: Abort or reset of barrier"


CANCELLED = _head(2) + textwrap.dedent("""\
    faults:
      - {fault: cancel, target: cancelled, at: 150ms}
    tasks:
      - name: cancelled
        steps: [{io: 100ms}, {wait: step}]
      - name: second
        steps: [{io: 300ms}, {wait: step}]
      - name: third
        steps: [{io: 400ms}, {wait: step}]
    """)


def test_a_cancelled_wait_leaves_the_barrier_filling() -> None:
    """A cancel at ``await self._cond.wait()`` goes through ``finally: self._count -= 1``:
    the barrier is neither broken nor tripped, and the next two parties pass it (0, 1)."""
    sim = _run(CANCELLED)
    assert _tasks(sim) == {
        "cancelled": ("cancelled", "CancelledError", 0.15),
        "second": ("ok", None, 0.4),
        "third": ("ok", None, 0.4),
    }
    assert [(lane, index) for _, lane, index in _passed(sim)] == [("third", 1), ("second", 0)]
    assert not [e for e in sim.events if isinstance(e, BarrierBroken)]


RESET_WHILE_DRAINING = _head(3) + textwrap.dedent("""\
    tasks:
      - name: a
        steps: [{io: 100ms}, {wait: step}, {print: a passed}]
      - name: b
        steps: [{io: 200ms}, {wait: step}, {print: b passed}]
      - name: last
        steps: [{io: 300ms}, {wait: step}, {reset: step}, {print: last reset it}]
    """)


def test_a_reset_while_the_barrier_drains_raises_in_the_parties_not_yet_out() -> None:
    """asyncio's ``reset``: ``if self._state is not RESETTING: self._state = RESETTING``,
    a draining barrier too. ``last`` trips it and resets it before ``a`` and ``b`` run
    again; they find it resetting and raise (threading's reset leaves a draining barrier
    be, and its parties pass)."""
    sim = _run(RESET_WHILE_DRAINING)
    assert [(e.lane, e.how, e.woke) for e in sim.events if isinstance(e, BarrierBroken)] == [
        ("last", "reset it", ())
    ]
    assert _passed(sim) == [(0.3, "last", 2)]
    assert _tasks(sim) == {
        "a": ("failed", "BrokenBarrierError", pytest.approx(0.3001)),  # after last's print
        "b": ("failed", "BrokenBarrierError", pytest.approx(0.3001)),
        "last": ("ok", None, pytest.approx(0.3001)),
    }
    assert _said(sim) == ["last reset it"]


def test_the_generated_program_uses_asyncio_barrier() -> None:
    source = program(_load(TIMED_OUT)).source
    assert "step = asyncio.Barrier(3)\n" in source
    assert "    await step.wait()\n" in source
    assert (
        "        await asyncio.wait_for(step.wait(), 0.1)\n"
        "    except TimeoutError:\n"
        '        print("b gave up")\n'
    ) in source
    source = program(_load(ABORTED)).source
    assert "    await step.abort()\n" in source
    assert "    await step.reset()\n" in program(_load(RESET_WHILE_DRAINING)).source


@pytest.mark.parametrize("text", [TIMED_OUT, REPEATS, ABORTED, CANCELLED, RESET_WHILE_DRAINING])
def test_the_program_agrees_with_the_simulator_on_cpython(text: str) -> None:
    """Each barrier program above, run for real."""
    result = check_one(_load(text), None, loose=3.0)
    assert result.error is None
    assert [str(d) for d in result.disagreements] == []


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        (
            "{parties: 3, timeout: 1s}",
            "s.yaml:3:31: barriers.step.timeout: asyncio.Barrier(parties) takes no timeout; "
            "expected it on each `wait` step (asyncio.wait_for around wait())",
        ),
        (
            "{parties: 3, action: [{io: 10ms}]}",
            "s.yaml:3:31: barriers.step.action: asyncio.Barrier(parties) takes no action; "
            "expected no `action` in model asyncio",
        ),
    ],
)
def test_an_asyncio_barrier_has_no_timeout_and_no_action(spec: str, where: str) -> None:
    """``asyncio.Barrier(parties)``: one positioned line for what it does not take."""
    text = TIMED_OUT.replace("{step: {parties: 3}}", "{step: " + spec + "}")
    with pytest.raises(ScenarioError) as caught:
        _load(text)
    assert str(caught.value) == where


def test_else_on_a_barrier_wait_is_its_timeout_in_asyncio_only() -> None:
    """In threads a barrier's wait raises when it times out, so ``else`` is refused."""
    text = TIMED_OUT.replace(
        "model: asyncio, collect: {pattern: gather, return_exceptions: true}",
        "model: threads",
    )
    with pytest.raises(ScenarioError) as caught:
        _load(text)
    assert "a barrier's wait raises BrokenBarrierError when it times out" in str(caught.value)


def test_the_schema_says_a_barrier_is_asyncio_s_in_asyncio() -> None:
    spec = json_schema()["$defs"]["BarrierSpec"]
    assert "asyncio.Barrier(parties)" in spec["description"]
