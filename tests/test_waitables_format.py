"""Events, conditions and barriers in the format (version 2): declared at the top level,
named by the steps that use them, one positioned line per mistake."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import program
from concsim.scenario import model as m
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.schema import json_schema

BASE = """\
    version: 2
    name: s
    events: {stop: {}}
    queues: {jobs: {}}
    tasks:
      - name: t
        steps:
          - STEP
    """


def _load(step: str, base: str = BASE) -> m.Scenario:
    return load_scenario_text(textwrap.dedent(base).replace("STEP", step), "s.yaml")


def _error(step: str, base: str = BASE) -> str:
    with pytest.raises(ScenarioError) as caught:
        _load(step, base)
    return str(caught.value)


def test_event_steps_read_as_their_models() -> None:
    steps = [
        _load(text).tasks[0].steps[0]
        for text in (
            "{set: stop}",
            "{clear: stop}",
            "{wait: stop}",
            "{wait: stop, timeout: 500ms, else: [{print: late}]}",
        )
    ]
    assert steps == [
        m.SetStep(set="stop"),
        m.ClearStep(clear="stop"),
        m.WaitStep(wait="stop"),
        m.WaitStep(wait="stop", timeout="500ms", else_=(m.PrintStep(print="late"),)),
    ]
    assert m.step_label(steps[3]) == "wait stop"


def test_a_wait_on_an_undeclared_name_suggests_the_near_one() -> None:
    assert (
        _error("{wait: stpo}")
        == "s.yaml:8:16: tasks[0].steps[0].wait: no event, barrier or condition `stpo`; "
        "did you mean `stop`?"
    )


def test_a_set_on_a_name_of_another_family_says_which() -> None:
    assert _error("{set: jobs}") == (
        "s.yaml:8:15: tasks[0].steps[0].set: `set` applies to an event, and `jobs` is declared "
        "under `queues:`; expected an event"
    )


def test_a_name_with_no_near_match_says_where_to_declare_it() -> None:
    assert _error("{clear: other}") == (
        "s.yaml:8:17: tasks[0].steps[0].clear: no event `other`; declare it under `events:` "
        "(declared: stop)"
    )


def test_a_step_in_an_else_block_is_checked_too() -> None:
    assert _error("{wait: stop, timeout: 1s, else: [{set: stpo}]}") == (
        "s.yaml:8:48: tasks[0].steps[0].else[0].set: no event `stpo`; did you mean `stop`?"
    )


def test_a_name_declared_in_two_families_is_one_line() -> None:
    base = BASE.replace("queues: {jobs: {}}", "queues: {stop: {}}")
    assert _error("{set: stop}", base) == (
        "s.yaml:4:10: queues.stop: `stop` is already an event (under `events:`); "
        "expected one name per primitive"
    )


def test_events_and_their_steps_need_version_2() -> None:
    base = BASE.replace("version: 2", "version: 1")
    assert _error("{set: stop}", base).splitlines() == [
        "s.yaml:3:1: events: `events` is a version-2 key; expected `version: 2` at the top "
        "of the file",
        "s.yaml:8:10: tasks[0].steps[0].set: `set` is a version-2 step; expected `version: 2` "
        "at the top of the file",
    ]


def test_the_schema_marks_events_and_their_steps_since_version_2() -> None:
    schema = json_schema()
    assert schema["properties"]["events"]["since"] == 2
    defs = schema["$defs"]
    assert defs["WaitStep"]["since"] == 2
    assert set(defs["WaitStep"]["properties"]) >= {"wait", "timeout", "else", "label"}


def test_the_program_waits_with_a_timeout_as_python_does() -> None:
    """Threads: ``if not stop.wait(0.5):``; asyncio: ``asyncio.wait_for`` and TimeoutError."""
    step = "{wait: stop, timeout: 500ms, else: [{print: late}]}"
    threads = program(_load(step)).source
    assert "stop = threading.Event()" in threads
    assert "    if not stop.wait(0.5):\n        print('late')\n" in threads.replace('"', "'")
    base = BASE.replace("name: s\n", "name: s\n    program: {model: asyncio}\n")
    coroutine = program(_load(step, base)).source.replace('"', "'")
    assert "stop = asyncio.Event()" in coroutine
    assert (
        "    try:\n        await asyncio.wait_for(stop.wait(), 0.5)\n"
        "    except TimeoutError:\n        print('late')\n"
    ) in coroutine


BARRIER = BASE.replace(
    "events: {stop: {}}", "events: {stop: {}}\n    barriers: {gate: {parties: 3}}"
)


def test_barrier_steps_read_as_their_models() -> None:
    scenario = _load("{wait: gate, timeout: 1s}", BARRIER)
    assert scenario.barriers["gate"] == m.BarrierSpec(parties=3)
    assert scenario.tasks[0].steps[0] == m.WaitStep(wait="gate", timeout="1s")
    assert _load("{abort: gate}", BARRIER).tasks[0].steps[0] == m.AbortStep(abort="gate")
    assert _load("{reset: gate}", BARRIER).tasks[0].steps[0] == m.ResetStep(reset="gate")


def test_a_barrier_wait_has_no_else() -> None:
    assert _error("{wait: gate, timeout: 1s, else: [{print: late}]}", BARRIER) == (
        "s.yaml:9:35: tasks[0].steps[0].else: a barrier's wait raises BrokenBarrierError when "
        "it times out, it never returns False; expected no `else` (catch the error instead)"
    )


def test_abort_names_a_barrier() -> None:
    assert _error("{abort: stop}", BARRIER) == (
        "s.yaml:9:17: tasks[0].steps[0].abort: `abort` applies to a barrier, and `stop` is "
        "declared under `events:`; expected a barrier"
    )


def test_barriers_need_parties() -> None:
    base = BARRIER.replace("{parties: 3}", "{timeout: 1s}")
    assert "barriers.gate.parties" in _error("{wait: gate}", base)


def test_barriers_are_for_threads_and_asyncio() -> None:
    base = BARRIER.replace("name: s\n", "name: s\n    program: {model: processes}\n")
    assert _error("{wait: gate}", base).splitlines()[-1] == (
        "s.yaml:5:1: barriers: `barriers` are simulated for model threads and asyncio, not "
        "processes; expected model: threads"
    )


def test_the_program_declares_a_barrier_as_python_does() -> None:
    source = program(
        _load(
            "{wait: gate, timeout: 1s}",
            BARRIER.replace("{parties: 3}", "{parties: 3, timeout: 2s}"),
        )
    ).source
    assert "gate = threading.Barrier(3, timeout=2.0)" in source
    assert "    gate.wait(1.0)\n" in source
