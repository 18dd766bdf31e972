"""The main program's wind-down phases are events, where CPython enters and leaves them."""

from __future__ import annotations

import pytest

from concsim.engine import Injection, Simulation
from concsim.events import Event, Phase, PhaseBegan, PhaseEnded, TaskEnded
from concsim.replay import open_scenario


def phases(name: str, *injections: Injection) -> list[tuple[str, str, Phase, str, float]]:
    sim = Simulation(open_scenario(name), injections=list(injections))
    sim.run()
    return [
        (type(e).__name__, e.lane, e.phase, e.step, round(e.t, 6))
        for e in sim.events
        if isinstance(e, PhaseBegan | PhaseEnded)
    ]


def events(name: str) -> list[Event]:
    sim = Simulation(open_scenario(name))
    sim.run()
    return list(sim.events)


def test_leaving_with_calls_shutdown_wait_true_then_exit_joins_threads() -> None:
    """``Executor.__exit__`` calls ``self.shutdown(wait=True)`` (Lib/concurrent/futures/
    _base.py): main re-raises job-2's error at 0.2 s, yet the with block waits until job-6
    ends at 1.5 s. Then ``threading._shutdown`` joins the non-daemon threads at exit."""
    assert phases("failure-during-as-completed") == [
        ("PhaseBegan", "main", Phase.SHUTDOWN, "shutdown(wait=True)", 0.2),
        ("PhaseEnded", "main", Phase.SHUTDOWN, "shutdown(wait=True)", 1.5),
        ("PhaseBegan", "main", Phase.EXIT, "interpreter exit", 1.5),
        ("PhaseEnded", "main", Phase.EXIT, "interpreter exit", 1.5),
    ]
    stream = events("failure-during-as-completed")
    ended = next(e for e in stream if isinstance(e, PhaseEnded))
    last_task = max((k for k, e in enumerate(stream) if isinstance(e, TaskEnded)), default=-1)
    assert stream.index(ended) > last_task  # shutdown returned only after the last task


def test_a_shutdown_with_nothing_left_to_wait_for_is_an_instant() -> None:
    """io-threads: every job is done when main leaves the with block; shutdown(wait=True)
    is still called, and returns at once."""
    assert phases("io-threads")[:2] == [
        ("PhaseBegan", "main", Phase.SHUTDOWN, "shutdown(wait=True)", 0.5),
        ("PhaseEnded", "main", Phase.SHUTDOWN, "shutdown(wait=True)", 0.5),
    ]


def test_a_taskgroup_exit_waits_for_its_children_then_asyncio_run_tears_down() -> None:
    """``TaskGroup.__aexit__`` awaits every child (Lib/asyncio/taskgroups.py) from the end
    of the ``async with`` body; ``asyncio.run()`` then cancels what is still pending
    (``Runner.close``: ``_cancel_all_tasks``, then ``shutdown_default_executor``)."""
    assert phases("taskgroup-cancels-siblings") == [
        ("PhaseBegan", "main", Phase.SHUTDOWN, "TaskGroup.__aexit__", 0.0),
        ("PhaseEnded", "main", Phase.SHUTDOWN, "TaskGroup.__aexit__", 0.35),
        ("PhaseBegan", "main", Phase.TEARDOWN, "asyncio.run() teardown", 0.35),
        ("PhaseEnded", "main", Phase.TEARDOWN, "asyncio.run() teardown", 0.35),
    ]


def test_a_cancelled_gather_waits_for_its_children() -> None:
    """Ctrl-C reaches asyncio.run's main task as CancelledError at ``await gather(...)``;
    gather's done-callback cancels its children (Lib/asyncio/tasks.py, ``_GatheringFuture
    .cancel``), and main's task waits in that phase until they have finished."""
    found = phases("gather-keeps-running", Injection(0.5, "interrupt", "main"))
    kinds = [(kind, phase) for kind, _, phase, _, _ in found]
    assert kinds[:2] == [("PhaseBegan", Phase.CANCELLING), ("PhaseEnded", Phase.CANCELLING)]
    assert found[0][1] == "main" and found[0][3] == "gather() cancelling its children"
    assert kinds[2:] == [("PhaseBegan", Phase.TEARDOWN), ("PhaseEnded", Phase.TEARDOWN)]


@pytest.mark.parametrize(
    ("phase", "why"),
    [
        (
            Phase.SHUTDOWN,
            "main called shutdown(wait=True): it waits until every task it started has finished.",
        ),
        (Phase.EXIT, "Interpreter exit: threading._shutdown joins every non-daemon thread."),
    ],
)
def test_each_phase_says_why_in_one_sentence(phase: Phase, why: str) -> None:
    """The log's line for a phase's beginning, and for its end."""
    step = "shutdown(wait=True)" if phase is Phase.SHUTDOWN else "interpreter exit"
    began = PhaseBegan(t=0.0, seq=0, lane="main", phase=phase, step=step)
    assert began.why == why
    ended = PhaseEnded(t=0.0, seq=1, lane="main", phase=phase, step=step)
    assert ended.why == f"main is done with {step}."
