"""``asyncio.Barrier`` when a party is cancelled (Lib/asyncio/locks.py, ``Barrier.wait``:
``finally: self._count -= 1; self._exit()``; the same code in 3.11, 3.12 and 3.13), beside
tests/test_asyncio_barrier.py. Measured on CPython 3.11.7, 3.12.1 and 3.13.0 with the
programs below (``concsim code`` of each scenario; REAL for the barrier's own counts):

- cancelled while filling: the party leaves, ``n_waiting`` goes from 2 to 1, the barrier
  stays filling, and the next arrival takes the index the one that left had freed;
- cancelled while draining (notified, before it runs again): CancelledError, not its index;
  the last to leave makes it fill again (``[filling, waiters:0/2]``) and a later round passes;
- cancelled just after ``abort()`` or ``reset()`` woke it: CancelledError, not
  BrokenBarrierError; an aborted barrier stays broken, a reset one fills again;
- from 3.13 a cancelled ``Condition.wait`` first wakes the next waiter (gh-112202), which
  parks again behind the others: the parties then pass in another order."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import BarrierBroken, BarrierPassed, ExceptionRaised
from concsim.export.outcome import outcome
from concsim.live.check import check_one
from concsim.live.interpreters import interpreter_for
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import Python, Scenario


def _load(text: str) -> Scenario:
    return load_scenario_text(textwrap.dedent(text), "s.yaml")


def _run(text: str) -> Simulation:
    sim = Simulation(_load(text))
    sim.run()
    return sim


def _passed(sim: Simulation) -> list[tuple[str, int]]:
    return [(e.lane, e.index) for e in sim.events if isinstance(e, BarrierPassed)]


def _said(sim: Simulation) -> list[str]:
    return [line for line in outcome(sim.events)["output"] if line]


def _tasks(sim: Simulation) -> dict[str, tuple[str, str | None]]:
    return {t["name"]: (t["outcome"], t["error"]) for t in outcome(sim.events)["tasks"]}


def _party(name: str) -> str:
    return f"  - name: {name}\n    steps: [{{wait: step}}, {{print: {name} passed}}]\n"


def _scenario(parties: int, main: str, names: str, python: str = "3.11") -> str:
    return (
        f'version: 2\nname: s\nmachine: {{python: "{python}"}}\n'
        f"barriers: {{step: {{parties: {parties}}}}}\n"
        "program:\n  model: asyncio\n  main:\n"
        + textwrap.indent(textwrap.dedent(main), "    ")
        + "tasks:\n"
        + "".join(_party(name) for name in names)
    )


CAUGHT = """\
- try: [{await: TASK}]
  except:
    - {type: CancelledError, steps: [{print: TASK cancelled}]}
    - {type: BrokenBarrierError, steps: [{print: TASK broken}]}
"""

DRAINING = _scenario(
    2,
    """\
- {create_task: a}
- {io: 10ms}
- {wait: step}
- {print: main passed}
- {cancel: a}
"""
    + CAUGHT.replace("TASK", "a")
    + """\
- {create_task: b}
- {io: 10ms}
- {wait: step}
- {print: main passed again}
- {await: b}
""",
    "ab",
)


def test_a_party_cancelled_while_the_barrier_drains_raises_cancelled_error() -> None:
    """``a`` was notified (the barrier drains) but has not run again when main cancels it:
    the cancel is thrown at ``await fut`` in ``Condition.wait``; ``a`` leaves with
    CancelledError, not its index, and as the last to leave it makes the barrier fill
    again: the next round passes (main 1, b 0). CPython: main passed 1, a cancelled
    ``[filling, waiters:0/2]``, main passed 1, b passed 0."""
    sim = _run(DRAINING)
    assert _passed(sim) == [("main", 1), ("main", 1), ("b", 0)]
    assert _tasks(sim) == {"a": ("cancelled", "CancelledError"), "b": ("ok", None)}
    assert _said(sim) == ["main passed", "a cancelled", "main passed again", "b passed"]


FILLING = _scenario(
    3,
    """\
- {create_task: c}
- {create_task: d}
- {io: 10ms}
- {cancel: c}
"""
    + CAUGHT.replace("TASK", "c")
    + """\
- {create_task: e}
- {io: 10ms}
- {wait: step}
- {print: main passed}
- {await: d}
- {await: e}
""",
    "cde",
)


def test_a_party_cancelled_while_filling_leaves_and_its_index_is_taken_again() -> None:
    """``c`` (index 0) is cancelled while the barrier fills: ``_count`` goes back to 1
    (``n_waiting`` 2 -> 1), nothing breaks, ``e`` arrives with index 1 as ``d`` had, and
    main trips it with 2. CPython: c cancelled ``[filling, waiters:1/3]``, main passed 2,
    d passed 1, e passed 1."""
    sim = _run(FILLING)
    assert _passed(sim) == [("main", 2), ("d", 1), ("e", 1)]
    assert not [e for e in sim.events if isinstance(e, BarrierBroken)]
    assert _said(sim) == ["c cancelled", "main passed", "d passed", "e passed"]


def _breaking(how: str, then: str = "") -> str:
    return _scenario(
        2,
        f"""\
- {{create_task: f}}
- {{io: 10ms}}
- {{{how}: step}}
- {{cancel: f}}
"""
        + CAUGHT.replace("TASK", "f")
        + textwrap.dedent(then),
        "fh",
    )


ABORTED = _breaking(
    "abort",
    """\
- try: [{wait: step}]
  except: [{type: BrokenBarrierError, as: e, steps: [{print: "main: {e}"}]}]
""",
)
RESET = _breaking(
    "reset",
    """\
- {create_task: h}
- {io: 10ms}
- {wait: step}
- {print: main passed}
- {await: h}
""",
)


def test_a_cancel_as_the_barrier_aborts_raises_cancelled_error_not_broken_barrier() -> None:
    """``abort()`` notified ``f``, then main cancels it before it runs: ``f`` leaves with
    CancelledError (the cancel is thrown where it waits, before ``_wait`` looks at the
    state); the barrier stays broken, and main's own wait raises ``Barrier aborted``.
    CPython: f cancelled ``[broken]``."""
    sim = _run(ABORTED)
    assert _tasks(sim)["f"] == ("cancelled", "CancelledError")
    assert _said(sim) == ["f cancelled", "main: Barrier aborted"]


def test_a_cancel_as_the_barrier_resets_raises_cancelled_error_and_it_fills_again() -> None:
    """``reset()`` with ``f`` inside: resetting; ``f``, cancelled before it runs, leaves
    with CancelledError and, the last out, makes it fill (``_exit``): the next round passes
    (main 1, h 0). CPython: f cancelled ``[filling, waiters:0/2]``, main passed 1, h passed 0."""
    sim = _run(RESET)
    assert _tasks(sim) == {"f": ("cancelled", "CancelledError"), "h": ("ok", None)}
    assert _passed(sim) == [("main", 1), ("h", 0)]
    assert _said(sim) == ["f cancelled", "main passed", "h passed"]


def _order(python: str) -> str:
    return _scenario(
        4,
        """\
- {create_task: x}
- {create_task: y}
- {create_task: z}
- {io: 10ms}
- {cancel: x}
"""
        + CAUGHT.replace("TASK", "x")
        + """\
- {create_task: w}
- {io: 20ms}
- {wait: step}
- {print: main passed}
- {await: y}
- {await: z}
- {await: w}
""",
        "xyzw",
        python,
    )


@pytest.mark.parametrize(
    ("python", "order"),
    [
        ("3.11", ["y", "z", "w"]),
        ("3.12", ["y", "z", "w"]),
        ("3.13", ["z", "y", "w"]),
    ],
)
def test_from_3_13_a_cancelled_party_wakes_the_next_which_parks_again_behind(
    python: str, order: list[str]
) -> None:
    """gh-112202 (3.13): ``Condition.wait`` that raises calls ``self._notify(1)``. ``x``'s
    cancel wakes ``y``, whose ``wait_for`` finds the barrier filling and parks it again,
    now behind ``z``: the barrier's ``notify_all`` wakes z before y. 3.11 and 3.12 wake
    them in arrival order. CPython 3.11.7/3.12.1: y 1, z 2, w 2; 3.13.0: z 2, y 1, w 2."""
    sim = _run(_order(python))
    assert _passed(sim) == [("main", 3)] + [
        (name, {"y": 1, "z": 2, "w": 2}[name]) for name in order
    ]
    assert _said(sim) == ["x cancelled", "main passed"] + [f"{name} passed" for name in order]


@pytest.mark.parametrize(
    "text",
    [DRAINING, FILLING, ABORTED, RESET, _order("3.13")],
    ids=["draining", "filling", "aborted", "reset", "order-3.13"],
)
def test_the_program_agrees_with_the_simulator_on_cpython(text: str) -> None:
    """Each program above, run for real (``order-3.13`` on CPython 3.13 when installed)."""
    result = check_one(_load(text), None, loose=3.0)
    assert result.error is None
    assert [str(d) for d in result.disagreements] == []


ORDER = """
import asyncio

async def party(name, barrier):
    index = await barrier.wait()
    print(name, "passed", index)

async def main():
    barrier = asyncio.Barrier(4)
    tasks = {n: asyncio.create_task(party(n, barrier)) for n in "xyz"}
    await asyncio.sleep(0.01)
    tasks["x"].cancel()
    await asyncio.gather(tasks["x"], return_exceptions=True)
    print("n_waiting", barrier.n_waiting)
    w = asyncio.create_task(party("w", barrier))
    await asyncio.sleep(0.01)
    print("main passed", await barrier.wait())
    await asyncio.gather(tasks["y"], tasks["z"], w)
    print(repr(barrier).split(" [")[1])

asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("python", "order"),
    [("3.11", ["y passed 1", "z passed 2"]), ("3.13", ["z passed 2", "y passed 1"])],
)
def test_cpython_passes_the_parties_in_this_order(
    tmp_path: Path, python: str, order: list[str]
) -> None:
    """The tiny real program, on the CPython named (skipped when it is not installed)."""
    interpreter = interpreter_for(Python(python))
    if interpreter is None:
        pytest.skip(f"no CPython {python} here")
    path = tmp_path / "order.py"
    path.write_text(ORDER)
    done = subprocess.run(
        [interpreter, str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.splitlines() == [
        "n_waiting 2",
        "main passed 3",
        *order,
        "w passed 2",
        "filling, waiters:0/4]>",
    ]


def test_exceptions_raised_name_only_the_cancel() -> None:
    """No party that was cancelled is also said to have raised BrokenBarrierError."""
    for text in (ABORTED, RESET):
        sim = _run(text)
        raised = [(e.task, e.error) for e in sim.events if isinstance(e, ExceptionRaised)]
        assert ("f", "BrokenBarrierError") not in raised


@pytest.mark.parametrize(("model", "module"), [("asyncio", "asyncio"), ("threads", "threading")])
def test_the_program_catches_the_model_s_broken_barrier_error(model: str, module: str) -> None:
    """``except: [{type: BrokenBarrierError}]`` is the library's class, as the simulator
    matches it: ``asyncio.BrokenBarrierError`` (its own class in asyncio) or
    ``threading.BrokenBarrierError``, not a class of the program's own."""
    text = ABORTED if model == "asyncio" else _THREADS
    source = program(_load(text)).source
    assert f"    except {module}.BrokenBarrierError as e:\n" in source
    assert "class BrokenBarrierError" not in source


_THREADS = """\
version: 2
name: s
barriers: {step: {parties: 2}}
program:
  model: threads
  main:
    - {abort: step}
    - try: [{wait: step}]
      except: [{type: BrokenBarrierError, as: e, steps: [{print: "main: {e}"}]}]
"""


def test_a_threads_program_catching_broken_barrier_error_agrees_on_cpython() -> None:
    result = check_one(_load(_THREADS), None, loose=3.0)
    assert result.error is None
    assert [str(d) for d in result.disagreements] == []
