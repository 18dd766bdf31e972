"""``str()`` and ``repr()`` of exceptions as CPython writes them: a KeyError's str is the
repr of its argument, and an ExceptionGroup's repr lists its exceptions -- in results,
output and tracebacks, checked against this interpreter's own and against the program
run on CPython."""

from __future__ import annotations

import textwrap

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.engine.reprs import exception_repr, group_repr, group_str, key_error_str
from concsim.engine.runtime import GroupError, SimError
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Scenario


def _load(text: str) -> Scenario:
    return load_scenario_text(textwrap.dedent(text), "s.yaml")


def _run(text: str) -> Simulation:
    sim = Simulation(_load(text))
    sim.run()
    return sim


@pytest.mark.parametrize("written", ["id", "'id'"])
def test_a_key_error_reads_as_cpython_s(written: str) -> None:
    """``str(KeyError('id'))`` is ``'id'``, ``repr`` is ``KeyError('id')``, whichever way
    the scenario writes the message."""
    error = SimError("KeyError", written)
    assert error.message == str(KeyError("id")) == "'id'"
    assert repr(error) == repr(KeyError("id")) == "KeyError('id')"
    assert key_error_str(written) == "'id'"


@pytest.mark.parametrize(
    "real",
    [ValueError("bad"), TimeoutError(), KeyError("it's"), KeyError("a b"), RuntimeError("'x'")],
)
def test_repr_and_str_agree_with_this_interpreter(real: BaseException) -> None:
    error = SimError(type(real).__name__, str(real))
    assert (error.message, repr(error)) == (str(real), repr(real))
    assert exception_repr(type(real).__name__, str(real)) == repr(real)


def test_an_exception_group_lists_its_exceptions() -> None:
    """BaseExceptionGroup_str adds the count; its repr shows the message and the list."""
    subs = [ValueError("x"), KeyError("id")]
    real = ExceptionGroup("unhandled errors in a TaskGroup", subs)
    group = GroupError(
        "unhandled errors in a TaskGroup",
        [SimError("ValueError", "x"), SimError("KeyError", "id")],
    )
    assert group.message == str(real) == "unhandled errors in a TaskGroup (2 sub-exceptions)"
    assert repr(group) == repr(real)
    assert (
        repr(real)
        == "ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('x'), KeyError('id')])"
    )
    assert group_str("m", 1) == str(ExceptionGroup("m", [ValueError()]))
    assert group_repr("ExceptionGroup", "m", [SimError("ValueError")]) == repr(
        ExceptionGroup("m", [ValueError()])
    )


RESULTS = """\
    version: 2
    name: k
    program: {model: asyncio, collect: {pattern: gather, return_exceptions: true}}
    tasks:
      - name: lookup
        steps:
          - try:
              - {raise: KeyError, message: id}
            except:
              - {type: KeyError, as: e, steps: [{print: "caught {e}"}]}
          - {raise: KeyError, message: id}
      - name: group
        steps:
          - taskgroup: [child]
      - name: child
        steps: [{raise: ValueError, message: x}]
      - name: body
        steps:
          - taskgroup: [quick]
            steps:
              - try:
                  - {io: 100ms}
                except:
                  - {type: CancelledError, steps: [{raise: KeyError, message: "'body'"}]}
      - name: quick
        steps: [{io: 50ms}, {raise: ValueError, message: quick}]
    """


def test_results_and_output_show_cpython_s_reprs() -> None:
    """gather(return_exceptions=True) lists each exception by its repr: ``KeyError('id')``,
    and each TaskGroup's ExceptionGroup with its exceptions, in the order the group heard
    of them (``_on_task_done``), the body's own last (``__aexit__``:
    ``self._errors.append(exc)``); ``print(f"caught {e}")`` prints the str, ``'id'``."""
    sim = _run(RESULTS)
    assert outcome(sim.events)["results"] == [
        "KeyError('id')",
        "ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('x')])",
        "ExceptionGroup('unhandled errors in a TaskGroup', "
        "[ValueError('quick'), KeyError('body')])",
    ]
    assert [line for line in outcome(sim.events)["output"] if line] == ["caught 'id'"]


def test_an_uncaught_key_error_s_traceback_quotes_its_argument() -> None:
    """``raise KeyError('id')`` ends the traceback with ``KeyError: 'id'``."""
    sim = _run(
        """\
        version: 2
        name: k
        program: {model: threads, main: [{raise: KeyError, message: id}]}
        """
    )
    assert [line for line in outcome(sim.events)["output"] if line][-1] == "KeyError: 'id'"


def test_the_program_raises_key_error_with_the_argument_itself() -> None:
    """A quoted message is KeyError's str: the program passes the string inside it."""
    source = program(_load(RESULTS)).source
    assert '    raise KeyError("id")\n' in source
    assert '            raise KeyError("body")\n' in source


def test_the_program_agrees_with_the_simulator_on_cpython() -> None:
    result = check_one(_load(RESULTS), None, loose=3.0)
    assert result.error is None
    assert [str(d) for d in result.disagreements] == []
