"""``cm.reschedule()`` of an ``asyncio.timeout()`` block (format version 2, ``reschedule``),
against Lib/asyncio/timeouts.py of CPython 3.11."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from faultkit import Run, scenario

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import ResultReceived, TimeoutExpired
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.schema import json_schema

MOVED = """
    version: 2
    name: s
    program: {model: asyncio, collect: {pattern: gather, return_exceptions: true}}
    tasks:
      - name: later
        steps:
          - within: 200ms
            steps: [{io: 100ms}, {reschedule: 500ms}, {io: 300ms}]
        returns: done
      - name: never
        steps:
          - within: 200ms
            steps: [{io: 100ms}, {reschedule: none}, {io: 300ms}]
        returns: done
      - name: now
        steps:
          - within: 200ms
            steps: [{io: 100ms}, {reschedule: 0s}, {io: 300ms}]
        returns: done
      - name: sooner
        steps:
          - within: 1s
            steps: [{io: 100ms}, {reschedule: 50ms}, {io: 300ms}]
        returns: done
      - name: expiring
        steps:
          - within: 100ms
            steps:
              - try: [{io: 1s}]
                except:
                  - type: CancelledError
                    steps: [{reschedule: 1s}]
    """


def run(text: str) -> Run:
    sim = Simulation(scenario(text))
    sim.run()
    return Run(sim, outcome(sim.events))


def test_reschedule_cancels_the_old_timer_and_arms_the_new_deadline() -> None:
    """Timeout.reschedule(when): the old handle is cancelled; ``None`` leaves no timer; a
    ``when`` not after loop.time() is call_soon(_on_timeout); a later or earlier one is
    call_at(when). The 0.2 s deadline never fires in ``later`` and ``never``."""
    result = run(MOVED)
    assert [(t["name"], t["outcome"], t["error"], t["ended"]) for t in result.out["tasks"]] == [
        ("later", "ok", None, pytest.approx(0.4)),
        ("never", "ok", None, pytest.approx(0.4)),
        ("now", "failed", "TimeoutError", pytest.approx(0.1)),
        ("sooner", "failed", "TimeoutError", pytest.approx(0.15)),
        ("expiring", "failed", "RuntimeError", pytest.approx(0.1)),
    ]
    assert [(e.t, e.waiter, e.on) for e in result.of(TimeoutExpired)] == [
        (pytest.approx(0.1), "expiring", "asyncio.timeout(0.1)"),
        (pytest.approx(0.1), "now", "asyncio.timeout(0.2)"),
        (pytest.approx(0.15), "sooner", "asyncio.timeout(1)"),
    ]


def test_an_expiring_timeout_cannot_be_rescheduled() -> None:
    """Timeout.reschedule in state EXPIRING (the CancelledError caught inside the block):
    RuntimeError('Cannot change state of expiring Timeout')."""
    values = [e.value for e in run(MOVED).of(ResultReceived)]
    assert values[-1] == "RuntimeError('Cannot change state of expiring Timeout')"


NESTED = """
    version: 2
    name: s
    program: {model: asyncio, collect: gather}
    tasks:
      - name: a
        steps:
          - within: 300ms
            steps:
              - within: 1s
                steps: [{io: 50ms}, {reschedule: 100ms}, {io: 1s}]
        cleanup: [{io: 10ms}]
    """


def test_reschedule_moves_only_the_innermost_block() -> None:
    """``cm`` is the innermost ``async with asyncio.timeout() as cm``: its own deadline
    moves (to 0.15 s) and it raises TimeoutError; the outer block's 0.3 s never fires."""
    result = run(NESTED)
    assert result.task("a")["error"] == "TimeoutError"
    assert result.task("a")["ended"] == pytest.approx(0.16)
    assert [(e.t, e.on) for e in result.of(TimeoutExpired)] == [
        (pytest.approx(0.15), "asyncio.timeout(1)")
    ]


def _error(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(textwrap.dedent(text), "s.yaml")
    return str(caught.value).splitlines()


def test_a_reschedule_outside_a_timeout_block_is_one_positioned_line() -> None:
    assert _error(
        """\
        version: 2
        name: s
        program: {model: asyncio}
        tasks:
          - name: a
            steps:
              - reschedule: 1s
              - within: 1s
                steps: [{try: [{reschedule: none}], finally: []}]
              - with: l
                steps: [{reschedule: 2s}]
        """
    ) == [
        "s.yaml:7:9: tasks[0].steps[0]: `reschedule` outside a `within` block; expected it "
        "in the steps of a `within` (async with asyncio.timeout(...) as cm), whose deadline "
        "it moves",
        "s.yaml:11:17: tasks[0].steps[2].steps[0]: `reschedule` outside a `within` block; "
        "expected it in the steps of a `within` (async with asyncio.timeout(...) as cm), "
        "whose deadline it moves",
    ]


def test_a_reschedule_takes_a_duration_or_none_in_version_2() -> None:
    bad = _error(
        """\
        version: 2
        name: s
        program: {model: asyncio}
        tasks:
          - {name: a, steps: [{within: 1s, steps: [{reschedule: soon}]}]}
        """
    )
    assert bad == [
        "s.yaml:5:57: tasks[0].steps[0].steps[0].reschedule: expected a duration such as "
        "250ms or 1.5s, got 'soon', or `none` for no deadline"
    ]
    assert _error(
        """\
        name: s
        program: {model: asyncio}
        tasks:
          - {name: a, steps: [{io: 1s}]}
          - {name: b, steps: [{within: 1s, steps: [{reschedule: 1s}]}]}
        """
    ) == [
        "s.yaml:5:24: tasks[1].steps[0].within: `within` is a version-2 step; "
        "expected `version: 2` at the top of the file",
        "s.yaml:5:45: tasks[1].steps[0].steps[0].reschedule: `reschedule` is a version-2 "
        "step; expected `version: 2` at the top of the file",
    ]


def test_the_schema_shows_reschedule_as_a_version_2_step() -> None:
    schema = json.dumps(json_schema())
    assert '"RescheduleStep"' in schema
    step = json_schema()["$defs"]["RescheduleStep"]
    assert step["since"] == 2
    assert "reschedule" in step["required"]


def test_the_program_names_the_block_it_reschedules() -> None:
    """``async with asyncio.timeout(d) as cm:`` only where a reschedule of its own is in
    it; an inner block with one is ``cm2`` inside a named one."""
    source = program(
        scenario(
            """
            version: 2
            name: s
            program: {model: asyncio, collect: gather}
            tasks:
              - name: a
                steps:
                  - within: 1s
                    steps:
                      - within: 2s
                        steps: [{io: 10ms}]
                      - reschedule: 500ms
                      - within: 300ms
                        steps: [{reschedule: none}, {reschedule: 0s}]
            """
        )
    ).source
    body = source[source.index("async def a") : source.index("async def main")]
    assert body.strip().splitlines() == [
        "async def a():",
        "    async with asyncio.timeout(1.0) as cm:",
        "        async with asyncio.timeout(2.0):",
        "            await asyncio.sleep(0.01)",
        "        cm.reschedule(asyncio.get_running_loop().time() + 0.5)",
        "        async with asyncio.timeout(0.3) as cm2:",
        "            cm2.reschedule(None)",
        "            cm2.reschedule(asyncio.get_running_loop().time())",
        '    return "a done"',
    ]


@pytest.mark.parametrize("text", [MOVED, NESTED], ids=["moved", "nested"])
def test_cpython_agrees_on_rescheduled_timeouts(text: str) -> None:
    check = check_one(scenario(text), None, loose=3.0)
    assert check.error is None
    assert [str(d) for d in check.disagreements] == []


def test_the_reference_example_runs_as_it_says() -> None:
    """docs/scenarios.md's idle timeout: five chunks 0.3 s apart under a 0.5 s deadline that
    each chunk moves on: the download returns at 1.5 s."""
    doc = (Path(__file__).parents[1] / "docs" / "scenarios.md").read_text()
    section = doc[doc.index("An idle timeout moves") : doc.index("## `shared` and `queues`")]
    example = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)[0]
    result = run("name: example\n" + example)
    assert (result.task("download")["outcome"], result.task("download")["ended"]) == (
        "ok",
        pytest.approx(1.5),
    )
