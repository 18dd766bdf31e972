"""``machine.python``: the CPython a program runs on. Facts measured on 3.11.7, 3.12.1 and
3.13.0: a function defined inside main() sent to a process pool fails with "Can't pickle
local object 'main.<locals>.fetch'" up to 3.12 and "Can't get local object ..." from 3.13;
a free-threaded build (3.13t, PEP 703) has no GIL."""

from __future__ import annotations

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import PicklingFailed
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.live.interpreters import interpreter_for
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Python

NESTED = """\
version: 2
name: nested
machine: {{cores: 2, python: "{python}"}}
program: {{model: processes, max_workers: 1}}
tasks:
  - {{name: fetch, picklable: nested, steps: [{{io: 10ms}}]}}
"""


def pickling_message(python: str) -> str:
    sim = Simulation(load_scenario_text(NESTED.format(python=python), "s.yaml"))
    sim.run()
    (failed,) = [e for e in sim.events if isinstance(e, PicklingFailed)]
    return f"{failed.error}: {failed.message}"


@pytest.mark.parametrize(
    ("python", "verb"), [("3.11", "pickle"), ("3.12", "pickle"), ("3.13", "get"), ("3.14", "get")]
)
def test_a_nested_function_fails_by_version(python: str, verb: str) -> None:
    assert pickling_message(python) == (
        f"AttributeError: Can't {verb} local object 'main.<locals>.fetch'"
    )


def test_a_free_threaded_build_has_no_gil_unless_the_file_says_so() -> None:
    def machine(text: str) -> tuple[bool, Python]:
        scenario = load_scenario_text(f"version: 2\nname: m\nmachine: {text}\n", "s.yaml")
        return scenario.machine.gil, scenario.machine.python

    assert machine('{python: "3.13t"}') == (False, Python.PY313T)
    assert machine('{python: "3.13t", gil: true}') == (True, Python.PY313T)
    assert machine('{python: "3.13"}') == (True, Python.PY313)
    assert machine("{}") == (True, Python.PY311)


def test_a_variant_switches_the_build_and_its_gil() -> None:
    scenario = load_scenario_text(
        'version: 2\nname: v\nmachine: {python: "3.13t"}\nvariants:\n'
        '  - {name: old, machine: {python: "3.11"}}\n'
        '  - {name: ft, machine: {python: "3.14t"}}\n',
        "s.yaml",
    )
    assert scenario.machine.gil is False
    assert scenario.variant("old").machine.gil is True
    assert scenario.variant("ft").machine.gil is False
    # a GIL the file sets stays set: gil: false on 3.11 is kept on 3.12
    kept = load_scenario_text(
        "version: 2\nname: k\nmachine: {gil: false}\nvariants:\n"
        '  - {name: v, machine: {python: "3.12"}}\n',
        "s.yaml",
    )
    assert kept.variant("v").machine.gil is False


def test_the_program_says_which_cpython_it_is_for() -> None:
    scenario = load_scenario_text(NESTED.format(python="3.13t"), "s.yaml")
    assert "\nFor CPython 3.13t (free-threaded: no GIL).\n" in program(scenario).source
    plain = load_scenario_text(NESTED.format(python="3.11"), "s.yaml")
    assert "For CPython" not in program(plain).source


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "version: 1\nname: m\nmachine: {python: '3.12'}\n",
            "s.yaml:3:11: machine.python: `python` is a version-2 key; expected `version: 2` at "
            "the top of the file",
        ),
        (
            "version: 2\nname: m\nmachine: {python: 3.13}\n",
            "s.yaml:3:19: machine.python: expected one of 3.11, 3.12, 3.13, 3.14, 3.13t, "
            "3.14t, got 3.13",
        ),
    ],
)
def test_mistakes(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "s.yaml")
    assert str(caught.value).splitlines() == [message]


def test_check_runs_the_program_on_the_cpython_named() -> None:
    """The 3.13 message agrees only if the program really ran on 3.13."""
    if interpreter_for(Python.PY313) is None:
        pytest.skip("this machine has no CPython 3.13")
    result = check_one(load_scenario_text(NESTED.format(python="3.13"), "s.yaml"), None)
    facts = [str(d) for d in result.disagreements if not d.timing]  # a loaded machine is slow
    assert (result.skipped, result.error, facts) == ("", None, [])
    assert outcome(Simulation(result.scenario).run())["tasks"][0]["error"] == "AttributeError"


def test_check_says_when_this_machine_has_no_such_cpython() -> None:
    missing = next((p for p in Python if interpreter_for(p) is None), None)
    if missing is None:
        pytest.skip("this machine has every CPython the format names")
    scenario = load_scenario_text(NESTED.format(python=missing.value), "s.yaml")
    result = check_one(scenario, None)
    assert result.skipped == f"not run: this machine has no CPython {missing.value}"
    assert result.disagreements == []
