"""``threading.Condition`` (version 2): wait, wait_for, notify(n), notify_all and the rule
that each needs the lock held, as Lib/threading.py has them; and the program, run on
CPython, agrees."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import ConditionNotified, ExceptionRaised, TimeoutExpired
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text


def _load(text: str) -> object:
    return load_scenario_text(textwrap.dedent(text), "s.yaml")


def _run(text: str) -> Simulation:
    sim = Simulation(load_scenario_text(textwrap.dedent(text), "s.yaml"))
    sim.run()
    return sim


def _tasks(sim: Simulation) -> dict[str, tuple[str, str | None, float]]:
    return {t["name"]: (t["outcome"], t["error"], t["ended"]) for t in outcome(sim.events)["tasks"]}


def _said(sim: Simulation) -> list[str]:
    return [line for line in outcome(sim.events)["output"] if line]


PRODUCER = """\
    version: 2
    name: s
    shared: {items: 0}
    conditions: {ready: {}}
    program: {model: threads, executor: false, collect: join}
    tasks:
      - name: consumer
        repeat: 2
        steps:
          - {acquire: ready}
          - WAIT
          - {release: ready}
      - name: producer
        steps:
          - {io: 200ms}
          - {acquire: ready}
          - {read: items}
          - {write: items}
          - NOTIFY
          - {release: ready}
    """


WAIT_FOR = (
    "{wait_for: ready, until: {shared: items, at_least: 1}, timeout: 1s, else: [{print: gave up}]}"
)


def _producer(wait: str, notify: str) -> str:
    return PRODUCER.replace("WAIT", wait).replace("NOTIFY", notify)


def test_notify_wakes_the_first_waiter_and_the_other_times_out() -> None:
    """Condition.notify(): ``waiters[0].release()`` -- the first thread to wait is woken and
    its wait returns True; the other's wait(timeout) returns False at its timeout."""
    sim = _run(
        _producer("{wait: ready, timeout: 1s, else: [{print: 'timed out {i}'}]}", "{notify: ready}")
    )
    woke = [(e.t, e.woke) for e in sim.events if isinstance(e, ConditionNotified)]
    assert woke == [(0.2, ("thread-1",))]
    assert _tasks(sim) == {
        "consumer-1": ("ok", None, 0.2),
        "consumer-2": ("ok", None, pytest.approx(1.0001)),  # then two writes of 50 us
        "producer": ("ok", None, 0.2),
    }
    assert [(e.waiter, e.on) for e in sim.events if isinstance(e, TimeoutExpired)] == [
        ("thread-2", "condition ready")
    ]
    assert _said(sim) == ["timed out 2"]  # version 2 fills {i}: the copy that timed out


def test_notify_n_and_notify_all_wake_that_many() -> None:
    """notify(2) wakes two waiters; notify_all() every one."""
    for notify in ("{notify: ready, n: 2}", "{notify_all: ready}"):
        sim = _run(_producer("{wait: ready, timeout: 1s}", notify))
        assert [e.woke for e in sim.events if isinstance(e, ConditionNotified)] == [
            ("thread-1", "thread-2")
        ]
        assert {name: t[2] for name, t in _tasks(sim).items()} == {
            "consumer-1": 0.2,
            "consumer-2": 0.2,
            "producer": 0.2,
        }


def test_wait_for_rechecks_its_predicate_even_after_a_timed_out_wait() -> None:
    """Condition.wait_for: after ``self.wait(waittime)`` returns (notified or not) it
    evaluates the predicate again and returns its value: consumer-2, not notified, still
    sees items >= 1 at its timeout and does not run its else."""
    wait = WAIT_FOR
    sim = _run(_producer(wait, "{notify: ready}"))
    assert _said(sim) == []
    assert _tasks(sim)["consumer-2"] == ("ok", None, 1.0)
    never = _run(_producer(wait.replace("at_least: 1", "at_least: 5"), "{notify_all: ready}"))
    assert _said(never) == ["gave up", "gave up"]
    assert _tasks(never)["consumer-1"][2] == pytest.approx(1.0001)  # the timeout, then print


def test_wait_and_notify_need_the_lock_held() -> None:
    """Condition.wait / notify: ``if not self._is_owned(): raise RuntimeError(...)``."""
    sim = _run(
        """\
        version: 2
        name: s
        conditions: {ready: {lock: guard}}
        program: {model: threads, executor: false, collect: join}
        tasks:
          - name: waiter
            steps: [{wait: ready, timeout: 100ms}]
          - name: notifier
            steps: [{notify_all: ready}]
        """
    )
    raised = [(e.task, e.error, e.message) for e in sim.events if isinstance(e, ExceptionRaised)]
    assert raised == [
        ("waiter", "RuntimeError", "cannot wait on un-acquired lock"),
        ("notifier", "RuntimeError", "cannot notify on un-acquired lock"),
    ]


def test_acquire_of_a_condition_takes_its_lock() -> None:
    """``with cv:`` is ``cv._lock``: a condition built on lock ``guard`` and ``guard`` itself
    exclude each other."""
    sim = _run(
        """\
        version: 2
        name: s
        conditions: {ready: {lock: guard}}
        program: {model: threads, executor: false, collect: join}
        tasks:
          - name: a
            steps: [{acquire: ready}, {io: 100ms}, {release: ready}]
          - name: b
            steps: [{acquire: guard}, {io: 100ms}, {release: guard}]
        """
    )
    assert {name: t[2] for name, t in _tasks(sim).items()} == {"a": 0.1, "b": 0.2}
    source = program(
        _load(
            PRODUCER.replace("{ready: {}}", "{ready: {lock: guard}}")
            .replace("WAIT", "{wait: ready}")
            .replace("NOTIFY", "{notify: ready}")
        )
    ).source  # type: ignore[arg-type]
    assert "guard = threading.Lock()\nready = threading.Condition(guard)\n" in source


def test_wait_for_names_a_declared_shared_variable() -> None:
    with pytest.raises(ScenarioError) as caught:
        _load(_producer("{wait_for: ready, until: {shared: itmes}}", "{notify: ready}"))
    assert str(caught.value) == (
        "s.yaml:11:43: tasks[0].steps[1].until.shared: no shared variable `itmes`; "
        "did you mean `items`?"
    )


def test_the_program_agrees_with_the_simulator_on_cpython() -> None:
    """The producer/consumer above, run for real: outcomes, times, output and ``items``."""
    scenario = _load(
        _producer(
            WAIT_FOR,
            "{notify: ready}",
        )
    )
    result = check_one(scenario, None, loose=3.0)  # type: ignore[arg-type]
    assert result.error is None
    assert [str(d) for d in result.disagreements] == []
