"""The comparator: exact facts, and what CPython leaves open compared as sets and ranges."""

from __future__ import annotations

import textwrap

from concsim.engine import Simulation
from concsim.events import Event, ResultReceived, SharedWritten
from concsim.live.compare import CPU_BOUND, SLEEP_BOUND, compare, margin_for, normalise
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario, load_scenario_text


def _simulated(name: str, variant: str | None = None) -> tuple[object, list[Event]]:
    scenario = load_scenario(find_scenario(name))
    return scenario.variant(variant), Simulation(scenario, variant=variant).run()


def test_a_run_agrees_with_itself() -> None:
    """No disagreement between a run and the same run."""
    scenario, events = _simulated("failure-during-as-completed")
    assert compare(scenario, events, events) == []  # type: ignore[arg-type]


def test_each_disagreement_is_one_readable_line() -> None:
    """A changed result and a late end are reported as `fact: simulator says X, CPython did Y`."""
    scenario, events = _simulated("io-threads")
    real = [
        ResultReceived(t=e.t, seq=e.seq, task=e.task, value="page 9")
        if isinstance(e, ResultReceived) and e.value == "page 1"
        else e
        for e in events
    ]
    lines = [str(d) for d in compare(scenario, events, real)]  # type: ignore[arg-type]
    assert lines == [
        "results: simulator says ['page 1', 'page 2', 'page 3', 'page 4', 'page 5'], "
        "CPython did ['page 9', 'page 2', 'page 3', 'page 4', 'page 5']"
    ]


def test_equal_finishers_may_come_in_any_order() -> None:
    """as_completed among tasks that end within the margin: compared as a set."""
    scenario, events = _simulated("io-threads")
    results = [e for e in events if isinstance(e, ResultReceived)]
    order = {id(e): results[len(results) - 1 - i] for i, e in enumerate(results)}
    real = [
        ResultReceived(t=e.t, seq=e.seq, task=order[id(e)].task, value=order[id(e)].value)
        if isinstance(e, ResultReceived)
        else e
        for e in events
    ]
    assert compare(scenario, events, real) == []  # type: ignore[arg-type]


def test_a_racy_shared_value_must_lie_in_its_range() -> None:
    """race-lost-update: any value from the initial one to the one with no update lost."""
    scenario, events = _simulated("race-lost-update")
    lost = sum(e.lost for e in events if isinstance(e, SharedWritten))
    final = [e for e in events if isinstance(e, SharedWritten)][-1]
    assert lost > 0

    def ending_at(value: int) -> list[Event]:
        last = SharedWritten(
            t=final.t, seq=final.seq, lane=final.lane, task=final.task, name="counter", value=value
        )
        return [last if e is final else e for e in events]

    assert compare(scenario, events, ending_at(final.value + lost)) == []  # type: ignore[arg-type]
    [too_high] = compare(scenario, events, ending_at(final.value + lost + 1))  # type: ignore[arg-type]
    assert str(too_high) == (
        f"counter (racy: 0..{final.value + lost}): simulator says {final.value}, "
        f"CPython did {final.value + lost + 1}"
    )


def test_tracebacks_are_compared_by_the_exception_that_reached_the_top() -> None:
    """Frames, chained causes and a worker's remote traceback reduce to the last line."""
    printed = [
        "concurrent.futures.process._RemoteTraceback: ",
        '"""',
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in f',
        "    g()",
        "AttributeError: Can't pickle local object 'main.<locals>.helper'",
        '"""',
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        '  File "program.py", line 9, in <module>',
        "    main()",
        "    ^^^^^^",
        "AttributeError: Can't pickle local object 'main.<locals>.helper'",
        "done",
    ]
    assert normalise(printed) == [
        "Traceback (most recent call last):",
        "  ...",
        "AttributeError: Can't pickle local object 'main.<locals>.helper'",
        "done",
    ]
    group = [
        "  + Exception Group Traceback (most recent call last):",
        '  |   File "program.py", line 3, in <module>',
        "  | ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)",
        "  +-+---------------- 1 ----------------",
        "    | ValueError: bad payload",
        "    +------------------------------------",
    ]
    assert normalise(group) == [
        "Traceback (most recent call last):",
        "  ...",
        "ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)",
    ]
    qualified = [
        "Traceback (most recent call last):",
        "concurrent.futures.process.BrokenProcessPool: gone",
    ]
    assert normalise(qualified) == [
        "Traceback (most recent call last):",
        "  ...",
        "BrokenProcessPool: gone",
    ]


def test_the_margin_says_which_work_it_is_for() -> None:
    """Sleeps and I/O: 10% + 20 ms; any cpu or native step: 25% + 20 ms."""
    waiting = load_scenario_text("version: 1\nname: w\ntasks: [{name: a, steps: [{io: 1s}]}]\n")
    busy = load_scenario_text(
        textwrap.dedent(
            """
            version: 1
            name: b
            tasks: [{name: a, steps: [{repeat: 3, steps: [{cpu: 10ms}]}]}]
            """
        )
    )
    assert margin_for(waiting) is SLEEP_BOUND
    assert margin_for(busy) is CPU_BOUND
    assert SLEEP_BOUND.allows(1.0, 1.119) and not SLEEP_BOUND.allows(1.0, 1.121)
    assert CPU_BOUND.allows(1.0, 1.269) and not CPU_BOUND.allows(1.0, 1.271)


def test_a_value_another_choice_would_change_is_compared_as_a_range() -> None:
    """be-the-scheduler ends at 3 as simulated, but giving one of its decision points to
    another waiting thread loses an update: the GIL's order is CPython's to pick, so any
    balance from 0 to 3 agrees, and 4 does not. race-with-lock has more decision points
    than are tried one by one: compared exactly."""
    from concsim.live.open_order import open_shared_values

    scenario = load_scenario(find_scenario("be-the-scheduler"))
    sim = Simulation(scenario)
    events = sim.run()
    assert open_shared_values(scenario, (), sim) == {"balance": (0, 3)}
    final = [e for e in events if isinstance(e, SharedWritten)][-1]

    def ending_at(value: int) -> list[Event]:
        last = SharedWritten(
            t=final.t, seq=final.seq, lane=final.lane, task=final.task, name="balance", value=value
        )
        return [last if e is final else e for e in events]

    spans = {"balance": (0, 3)}
    assert compare(scenario, events, ending_at(1), open_values=spans) == []  # type: ignore[arg-type]
    [too_high] = compare(scenario, events, ending_at(4), open_values=spans)  # type: ignore[arg-type]
    assert str(too_high) == "balance (open order: 0..3): simulator says 3, CPython did 4"
    locked = load_scenario(find_scenario("race-with-lock"))
    with_lock = Simulation(locked)
    with_lock.run()
    assert open_shared_values(locked, (), with_lock) == {}


AFTER_A_WAIT = """\
    version: 1
    name: after-a-wait
    program:
      model: threads
      collect: as_completed
      main: [submit, {sleep: 100ms}, collect]
    tasks:
      - {name: quick, steps: [{io: 10ms}], returns: quick}
      - {name: medium, steps: [{io: 30ms}], returns: medium}
      - {name: slow, steps: [{io: 300ms}], returns: slow}
    """


def _received(events: list[Event], order: list[str], times: list[float]) -> list[Event]:
    """``events`` with main's results received in ``order``, at ``times``."""
    results = iter(zip(order, times, strict=True))
    out: list[Event] = []
    for e in events:
        if isinstance(e, ResultReceived):
            task, t = next(results)
            e = ResultReceived(t=t, seq=e.seq, task=task, value=task)
        out.append(e)
    return out


def test_futures_finished_before_as_completed_may_come_in_any_order() -> None:
    """CPython's as_completed yields the futures already finished when it is called in set
    order (concurrent/futures/_base.py), so their order is compared as a set, even when
    the simulator received them far apart; a future that finishes later still comes after."""
    scenario = load_scenario_text(textwrap.dedent(AFTER_A_WAIT), "after-a-wait.yaml")
    events = Simulation(scenario).run()
    assert [(e.t, e.task) for e in events if isinstance(e, ResultReceived)] == [
        (0.1, "quick"),
        (0.1, "medium"),
        (0.3, "slow"),
    ]
    # main spends 100 ms on each result: the simulator's first two are then far apart
    simulated = _received(events, ["quick", "medium", "slow"], [0.1, 0.2, 0.3])
    swapped = _received(events, ["medium", "quick", "slow"], [0.1, 0.2, 0.3])
    assert compare(scenario, simulated, swapped) == []
    late = _received(events, ["quick", "slow", "medium"], [0.1, 0.2, 0.3])
    assert [str(d) for d in compare(scenario, simulated, late)] == [
        "results order: simulator says ['quick', 'medium', 'slow'], "
        "CPython did ['quick', 'slow', 'medium']"
    ]
