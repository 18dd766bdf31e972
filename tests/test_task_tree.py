"""The asyncio task tree (format version 2): tasks that create, await, gather, group and
cancel other tasks, each against the CPython 3.11 behaviour it mirrors."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from faultkit import Run, scenario

from concsim.engine import Simulation
from concsim.events import (
    CancelDelivered,
    CancelRequested,
    FaultRefused,
    LaneCreated,
    MainEnded,
    ResultReceived,
    TaskEnded,
    TaskSubmitted,
    TimeoutExpired,
)
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text


def run(text: str) -> Run:
    sim = Simulation(scenario(text))
    sim.run()
    return Run(sim, outcome(sim.events))


def ended_order(result: Run) -> list[str]:
    return [e.task for e in result.of(TaskEnded)]


TREE = """
    version: 2
    name: tree
    program:
      model: asyncio
      collect: none
      main:
        - create_task: parent
        - sleep: 300ms
        - {cancel: parent, msg: shutting down}
        - await: parent
    tasks:
      - name: parent
        steps:
          - taskgroup: [child]
      - name: child
        repeat: 2
        steps:
          - create_task: grandchild-{i}
          - await: grandchild-{i}
        cleanup: [{io: 50ms}]
      - name: grandchild
        repeat: 2
        steps: [{sleep: 5s}]
        cleanup: [{io: 20ms}]
    """


def test_a_cancelled_parent_cancels_its_tree_bottom_up_and_its_message_reaches_main() -> None:
    """Task.cancel(msg) on a task in TaskGroup.__aexit__: the group cancels its children
    (no message), each child's cancel goes on to the grandchild it awaits
    (``_fut_waiter.cancel``); every finally runs, grandchildren first; the parent re-raises
    its own CancelledError('shutting down'), which ``await parent`` raises in main."""
    result = run(TREE)
    assert result.outcomes() == dict.fromkeys(
        ["parent", "child-1", "child-2", "grandchild-1", "grandchild-2"], "cancelled"
    )
    assert ended_order(result) == [
        "grandchild-1",
        "grandchild-2",
        "child-1",
        "child-2",
        "parent",
    ]
    for name in ("child-1", "child-2", "grandchild-1", "grandchild-2"):
        assert result.task(name)["cleanup"] == "ran"
    assert result.of(CancelRequested)[0].reason == "main called parent.cancel('shutting down')"
    assert result.of(MainEnded)[0].error == "CancelledError"
    assert result.of(MainEnded)[0].message == "shutting down"
    assert result.elapsed == pytest.approx(0.37)


def test_a_child_lane_names_its_parent() -> None:
    """The lanes show the tree: a task's lane title names the task that created it."""
    result = run(TREE)
    names = {e.lane: e.name for e in result.of(LaneCreated)}
    assert names["parent"] == "parent (in main)"
    assert names["child-1"] == "child-1 (in parent)"
    assert names["grandchild-2"] == "grandchild-2 (in child-2)"
    assert result.of(TaskSubmitted, task="grandchild-1")[0].how == (
        "asyncio.create_task in child-1"
    )


def test_main_submits_only_the_tasks_no_task_creates() -> None:
    """A task created by another task is that task's child: main's ``submit`` (all) starts
    only the others."""
    result = run(
        """
        version: 2
        name: s
        program: {model: asyncio, collect: gather}
        tasks:
          - {name: parent, steps: [{create_task: child}, {await: child}]}
          - {name: child, steps: [{sleep: 100ms}], returns: 7}
        """
    )
    assert [e.how for e in result.of(TaskSubmitted)] == [
        "asyncio.create_task",
        "asyncio.create_task in parent",
    ]
    assert result.outcomes() == {"parent": "ok", "child": "ok"}
    # main collects only the tasks it created: the child's result is its parent's
    assert [(e.task, e.value) for e in result.of(ResultReceived)] == [("parent", "parent done")]


def test_awaiting_a_failed_child_raises_its_exception_in_the_parent() -> None:
    """``await task`` re-raises the task's exception in the awaiting coroutine."""
    result = run(
        """
        version: 2
        name: s
        program: {model: asyncio, collect: gather}
        tasks:
          - {name: parent, steps: [{create_task: child}, {await: child}]}
          - {name: child, steps: [{sleep: 100ms}, {raise: ValueError, message: bad}]}
        """
    )
    assert result.task("parent")["error"] == "ValueError"
    assert result.main_outcome == ("raised", "ValueError")


def test_a_child_that_swallows_the_cancel_lets_its_awaiting_parent_go_on() -> None:
    """3.11 Task.cancel: a task awaiting another passes the cancel to it (``_fut_waiter
    .cancel(msg)``) and sets no ``_must_cancel``; if the awaited task swallows it and
    returns, the awaiter resumes with that value (measured: 'parent got child value')."""
    result = run(
        """
        version: 2
        name: s
        program:
          model: asyncio
          collect: none
          main:
            - create_task: parent
            - sleep: 100ms
            - {cancel: parent, msg: stop}
            - await: parent
        tasks:
          - name: parent
            steps: [{create_task: child}, {await: child}, {sleep: 100ms}]
          - name: child
            steps: [{sleep: 1s}]
            catches: [CancelledError]
            returns: child value
        """
    )
    assert result.outcomes() == {"parent": "ok", "child": "ok"}
    assert [e.task for e in result.of(CancelRequested)] == ["parent", "child"]
    assert result.main_outcome == ("ok", None)
    assert result.elapsed == pytest.approx(0.2)


def test_a_cancelled_gather_in_a_task_cancels_its_children_and_raises_the_message() -> None:
    """Cancelling a task that awaits gather() cancels every child; once they are done the
    waiter raises CancelledError with the cancel's message (measured: ('gmsg',))."""
    result = run(
        """
        version: 2
        name: s
        program:
          model: asyncio
          collect: none
          main:
            - create_task: parent
            - sleep: 100ms
            - {cancel: parent, msg: gmsg}
            - await: parent
        tasks:
          - {name: parent, steps: [{gather: [a, b]}]}
          - {name: a, steps: [{sleep: 1s}], cleanup: [{io: 30ms}]}
          - {name: b, steps: [{sleep: 2s}]}
        """
    )
    assert result.outcomes() == {"parent": "cancelled", "a": "cancelled", "b": "cancelled"}
    assert result.of(MainEnded)[0].message == "gmsg"
    assert result.elapsed == pytest.approx(0.13)


def test_gather_in_a_task_returns_when_all_children_are_done() -> None:
    """``await asyncio.gather(a(), b())`` in a coroutine waits for the slowest child."""
    result = run(
        """
        version: 2
        name: s
        program: {model: asyncio, collect: gather}
        tasks:
          - {name: parent, steps: [{gather: [a, b]}, {sleep: 10ms}]}
          - {name: a, steps: [{sleep: 100ms}]}
          - {name: b, steps: [{sleep: 200ms}]}
        """
    )
    assert result.outcomes() == {"parent": "ok", "a": "ok", "b": "ok"}
    assert result.elapsed == pytest.approx(0.21)


def test_a_taskgroup_in_a_task_cancels_the_siblings_of_a_failure() -> None:
    """TaskGroup inside a task: the first failure cancels the other children and the
    group raises ExceptionGroup in that task."""
    result = run(
        """
        version: 2
        name: s
        program: {model: asyncio, collect: gather}
        tasks:
          - {name: parent, steps: [{taskgroup: [ok, bad]}]}
          - {name: ok, steps: [{sleep: 1s}]}
          - {name: bad, steps: [{sleep: 100ms}, {raise: ValueError}]}
        """
    )
    assert result.outcomes() == {"parent": "failed", "ok": "cancelled", "bad": "failed"}
    assert result.task("parent")["error"] == "ExceptionGroup"
    assert result.elapsed == pytest.approx(0.1)


def test_cancel_of_a_task_before_it_starts_is_delivered_before_its_first_step() -> None:
    """A task cancelled before it first runs never runs its body (Task.__step with
    _must_cancel): cancelled, no step, no cleanup."""
    result = run(
        """
        version: 2
        name: s
        program:
          model: asyncio
          collect: none
          main:
            - create_task: child
            - cancel: child
        tasks:
          - {name: child, steps: [{sleep: 1s}], cleanup: [{io: 10ms}]}
        """
    )
    assert result.task("child")["outcome"] == "cancelled"
    assert result.task("child")["cleanup"] == "none"
    assert result.of(CancelDelivered) == []


# --- the format ---------------------------------------------------------------------------


def _error(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(textwrap.dedent(text), "s.yaml")
    return str(caught.value).splitlines()


def test_each_task_tree_mistake_is_one_positioned_line() -> None:
    assert _error(
        """\
        version: 2
        name: s
        program:
          model: asyncio
          collect: none
          main:
            - await: parent
            - create_task: parnt
            - create_task: child-{i}
        tasks:
          - name: parent
            steps:
              - taskgroup: [child, child-3]
              - cancel: child-1
          - name: child
            repeat: 2
            steps: [{sleep: 1s}]
        """
    ) == [
        "s.yaml:7:14: program.main[0].await: `await: parent` needs the task created first in "
        "the same main program; expected `create_task: parent` before it",
        "s.yaml:8:20: program.main[1].create_task: no task named `parnt`; did you mean `parent`?",
        "s.yaml:9:20: program.main[2].create_task: `{i}` is the copy number of a repeated "
        "task; expected it in the steps of a task with `repeat:`, or a copy `child-1`",
        "s.yaml:13:28: tasks[0].steps[0].taskgroup[1]: `child` has no copy 3; expected "
        "child-1 to child-2",
        "s.yaml:14:17: tasks[0].steps[1].cancel: `cancel: child-1` needs the task created "
        "first in the same task; expected `create_task: child-1` before it",
    ]


def test_the_task_tree_needs_asyncio_and_a_task_is_created_once() -> None:
    assert _error(
        """\
        version: 2
        name: s
        program: {model: threads}
        tasks:
          - {name: a, steps: [{create_task: b}]}
          - {name: b, steps: [{io: 1s}]}
        """
    ) == [
        "s.yaml:5:37: tasks[0].steps[0].create_task: a coroutine creates, awaits or cancels "
        "tasks, or awaits under asyncio.timeout(); expected `model: asyncio`, not `threads`",
    ]
    assert _error(
        """\
        version: 2
        name: s
        program: {model: asyncio}
        tasks:
          - {name: a, steps: [{create_task: b}, {gather: [b]}]}
          - {name: b, steps: [{io: 1s}]}
        """
    ) == [
        "s.yaml:5:51: tasks[0].steps[1].gather[0]: task `b` is created twice (first at "
        "5:37); expected one step that creates it",
    ]


def test_the_task_tree_steps_are_version_2() -> None:
    assert _error(
        """\
        name: s
        program: {model: asyncio}
        tasks:
          - {name: a, steps: [{create_task: b}]}
          - {name: b, steps: [{io: 1s}]}
        """
    ) == [
        "s.yaml:4:24: tasks[0].steps[0].create_task: `create_task` is a version-2 step; "
        "expected `version: 2` at the top of the file",
    ]


def test_the_reference_example_runs_as_it_says() -> None:
    """The example of docs/scenarios.md: main's ``await server`` raises the message."""
    doc = (Path(__file__).parents[1] / "docs" / "scenarios.md").read_text()
    section = doc[doc.index("### The asyncio task tree") : doc.index("## `shared` and `queues`")]
    example = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)[0]
    sim = Simulation(load_scenario_text("name: example\n" + example, "example.yaml"))
    sim.run()
    result = Run(sim, outcome(sim.events))
    assert result.main_outcome == ("raised", "CancelledError")
    assert result.of(MainEnded)[0].message == "shutting down"
    assert set(result.outcomes().values()) == {"cancelled"}


# --- a cancelled gather -------------------------------------------------------------------

GATHER_TIMED_OUT = """
    version: 2
    name: s
    program: {model: asyncio, collect: gather}
    tasks:
      - {name: fast, steps: [{sleep: 1s}], cleanup: [{io: 50ms}]}
      - {name: bare, steps: [{sleep: 1s}]}
      - {name: slow, steps: [{sleep: 2s}], cleanup: [{io: 150ms}]}
    faults:
      - {fault: timeout, target: main, at: 100ms}
    """


def test_a_cancelled_gather_is_done_at_its_first_cancelled_child() -> None:
    """gather's ``_done_callback`` (return_exceptions=False): the first child that ends
    cancelled sets the gather's CancelledError at once; the waiter does not wait for the
    other children's finally blocks, and asyncio.run then cancels them again (measured:
    main's TimeoutError at 0.10 s, not after slow's 150 ms cleanup)."""
    result = run(GATHER_TIMED_OUT)
    assert result.main_outcome == ("raised", "TimeoutError")
    assert result.of(MainEnded)[0].t == pytest.approx(0.1)
    assert result.outcomes() == dict.fromkeys(["fast", "bare", "slow"], "cancelled")
    assert result.elapsed == pytest.approx(0.1)


def test_a_cancelled_gather_with_return_exceptions_waits_for_every_child() -> None:
    """With return_exceptions=True gather's outer future is set only once every child is
    done (then CancelledError, as ``_cancel_requested``): each finally runs in full."""
    result = run(
        GATHER_TIMED_OUT.replace(
            "collect: gather", "collect: {pattern: gather, return_exceptions: true}"
        )
    )
    assert result.main_outcome == ("raised", "TimeoutError")
    assert result.elapsed == pytest.approx(0.25)


# --- a cancel fault on main's task or on its gather ---------------------------------------

CANCEL_MAIN = """
    version: 2
    name: s
    program: {model: asyncio, collect: gather}
    tasks:
      - {name: fast, steps: [{sleep: 1s}], cleanup: [{io: 50ms}]}
      - {name: slow, steps: [{sleep: 2s}], cleanup: [{io: 150ms}]}
    faults:
      - {fault: cancel, target: main, at: 100ms}
    """


def test_a_cancel_of_mains_task_cancels_the_gather_it_awaits() -> None:
    """asyncio.run runs main() as a task: its cancel() goes to the gather it awaits
    (``_fut_waiter``), which cancels each child; main raises CancelledError once the first
    child is done cancelled (fast's 50 ms finally), and asyncio.run raises it."""
    result = run(CANCEL_MAIN)
    asked = result.of(CancelRequested)
    assert (asked[0].task, asked[0].accepted) == ("main", True)
    assert [e.task for e in asked[1:3]] == ["fast", "slow"]
    assert result.main_outcome == ("raised", "CancelledError")
    assert result.of(MainEnded)[0].t == pytest.approx(0.15)


def test_a_cancel_of_the_gather_itself_cancels_its_children() -> None:
    """``gather(...).cancel()`` cancels every child (_GatheringFuture.cancel); the waiter
    gets CancelledError at the first child done cancelled."""
    result = run(CANCEL_MAIN.replace("target: main", "target: gather"))
    assert [e.task for e in result.of(CancelRequested)][:2] == ["fast", "slow"]
    assert result.main_outcome == ("raised", "CancelledError")
    assert result.elapsed == pytest.approx(0.15)


def test_a_cancelled_gather_with_return_exceptions_raises_not_returns() -> None:
    """return_exceptions=True: a gather whose own cancel() was called waits for every child,
    then raises CancelledError instead of returning the list (``_cancel_requested``)."""
    text = CANCEL_MAIN.replace("target: main", "target: gather").replace(
        "collect: gather", "collect: {pattern: gather, return_exceptions: true}"
    )
    result = run(text)
    assert result.main_outcome == ("raised", "CancelledError")
    assert result.elapsed == pytest.approx(0.25)


def test_a_cancel_of_gather_is_refused_when_main_awaits_none() -> None:
    """A gather exists only while main awaits it: before (or with another collect) the
    fault does not apply, and says why."""
    result = run(
        CANCEL_MAIN.replace("target: main", "target: gather").replace("gather}", "result}")
    )
    refused = result.of(FaultRefused)
    assert [(e.target, e.reason) for e in refused] == [
        ("gather", "main is not awaiting gather() right now")
    ]


@pytest.mark.parametrize("target", ["main", "gather"])
def test_cpython_agrees_on_a_cancel_of_main_and_of_its_gather(target: str) -> None:
    """The same faults on the real program (concsim.live.control): the same outcomes and
    times."""
    check = check_one(
        scenario(CANCEL_MAIN.replace("target: main", f"target: {target}")), None, loose=3.0
    )
    assert check.error is None
    assert [str(d) for d in check.disagreements] == []


# --- asyncio.timeout() blocks -------------------------------------------------------------

WITHIN = """
    version: 2
    name: s
    program: {model: asyncio, collect: {pattern: gather, return_exceptions: true}}
    tasks:
      - name: inner-expires
        steps:
          - within: 1s
            steps:
              - within: 200ms
                steps: [{io: 2s}]
        cleanup: [{io: 10ms}]
      - name: outer-expires
        steps:
          - within: 200ms
            steps:
              - within: 1s
                steps: [{io: 2s}]
      - name: swallow
        steps:
          - within: 100ms
            steps: [{create_task: sub}, {await: sub}]
          - sleep: 50ms
        returns: went on
      - name: sub
        steps: [{io: 1s}]
        catches: [CancelledError]
    """


def test_nested_timeouts_raise_timeout_error_outside_the_block_that_expired() -> None:
    """asyncio.timeout (3.11 Timeout.__aexit__): the expiring block turns its own cancel
    into TimeoutError (``uncancel() <= cancelling()`` at entry); an outer block sees it
    pass as TimeoutError, an inner block lets the outer one's CancelledError through."""
    result = run(WITHIN)
    assert result.task("inner-expires")["error"] == "TimeoutError"
    assert result.task("inner-expires")["ended"] == pytest.approx(0.21)
    assert result.task("outer-expires")["error"] == "TimeoutError"
    assert result.task("outer-expires")["ended"] == pytest.approx(0.2)
    assert [(e.waiter, e.on) for e in result.of(TimeoutExpired)] == [
        ("swallow", "asyncio.timeout(0.1)"),
        ("inner-expires", "asyncio.timeout(0.2)"),
        ("outer-expires", "asyncio.timeout(0.2)"),
    ]


def test_a_timeout_whose_cancel_was_swallowed_lets_the_block_end_normally() -> None:
    """If the CancelledError never leaves the block (the awaited task swallowed it and
    returned), __aexit__ only calls uncancel(): no TimeoutError, the coroutine goes on."""
    result = run(WITHIN)
    assert result.task("swallow")["outcome"] == "ok"
    assert result.task("swallow")["ended"] == pytest.approx(0.15)
    assert result.task("sub")["outcome"] == "ok"


def test_cpython_agrees_on_nested_timeouts() -> None:
    check = check_one(scenario(WITHIN), None, loose=3.0)
    assert check.error is None
    assert [str(d) for d in check.disagreements] == []


def test_an_exception_returned_by_gather_reads_as_cpython_writes_it() -> None:
    """repr(TimeoutError()) is 'TimeoutError()', with no empty-string argument: gather's
    return_exceptions list shows it so."""
    result = run(WITHIN)
    values = [e.value for e in result.of(ResultReceived)]
    assert values == ["TimeoutError()", "TimeoutError()", "went on"]


SHIELDED = """
    version: 2
    name: s
    program:
      model: asyncio
      collect: none
      main:
        - create_task: parent
        - sleep: 100ms
        - {cancel: parent, msg: stop}
        - sleep: 400ms
    tasks:
      - name: parent
        steps: [{create_task: save}, {shield: save}]
        cleanup: [{io: 10ms}]
      - name: save
        steps: [{io: 300ms}]
        cleanup: [{io: 10ms}]
    """


def test_a_shielded_task_runs_on_when_its_awaiter_is_cancelled() -> None:
    """``await asyncio.shield(task)``: the cancel of the awaiter cancels shield's outer
    future only: CancelledError in the awaiter at once, the task finishes its work."""
    result = run(SHIELDED)
    assert result.outcomes() == {"parent": "cancelled", "save": "ok"}
    assert result.task("parent")["ended"] == pytest.approx(0.11)
    assert result.task("save")["ended"] == pytest.approx(0.31)
    assert [e.task for e in result.of(CancelRequested)] == ["parent"]


def test_cpython_agrees_on_shield() -> None:
    check = check_one(scenario(SHIELDED), None, loose=3.0)
    assert check.error is None
    assert [str(d) for d in check.disagreements] == []
