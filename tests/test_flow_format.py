"""The control-flow steps in the format (version 2): one positioned line per mistake, as
CPython's compiler refuses the same program, and the JSON Schema that shows them."""

from __future__ import annotations

import textwrap

import pytest

from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text
from concsim.scenario.model import LoopStep, RaiseStep, TryStep
from concsim.scenario.schema import json_schema


def lines(body: str, version: int = 2) -> list[str]:
    text = f"version: {version}\nname: t\n" + textwrap.dedent(body)
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "f.yaml")
    return str(caught.value).splitlines()


def test_break_and_continue_outside_a_loop() -> None:
    """``'break' outside loop`` is a SyntaxError; a function's body starts outside any loop."""
    assert lines("""
        program:
          main: [submit, break, {loop: [break, {try: [continue], finally: [break]}]}]
        tasks:
          - name: a
            steps: [{repeat: 2, steps: [continue]}, {consume: q, each: [break]}, continue]
        queues: {q: {}}
        """) == [
        "f.yaml:5:18: program.main[1]: `break` outside a loop; expected it inside `loop`, "
        "`repeat` or `consume`",
        "f.yaml:8:74: tasks[0].steps[2]: `continue` outside a loop; expected it inside `loop`, "
        "`repeat` or `consume`",
    ]


def test_reraise_outside_an_except_block() -> None:
    """A bare ``raise`` with no exception being handled: CPython raises RuntimeError('No
    active exception to reraise'); the format refuses it where it stands."""
    assert lines("""
        program:
          main:
            - reraise
            - try: [reraise]
              except: [{type: ValueError, steps: [{loop: [reraise], times: 1}]}]
              finally: [reraise]
          on_error: [reraise]
        """) == [
        "f.yaml:6:7: program.main[0]: `reraise` (a bare `raise`) outside an `except` block; "
        "expected it in the steps of an `except` clause",
        "f.yaml:7:13: program.main[1].try[0]: `reraise` (a bare `raise`) outside an `except` "
        "block; expected it in the steps of an `except` clause",
        "f.yaml:9:17: program.main[1].finally[0]: `reraise` (a bare `raise`) outside an "
        "`except` block; expected it in the steps of an `except` clause",
    ]


def test_raise_from_a_name_no_except_binds() -> None:
    """``from NAME`` must name the exception an enclosing ``except ... as NAME`` bound (it is
    unbound after its clause: ``del NAME``); a near miss gets a did-you-mean."""
    assert lines("""
        program:
          main:
            - try: [submit]
              except:
                - type: ValueError
                  as: err
                  steps: [{raise: RuntimeError, from: eror}, {raise: RuntimeError, from: none}]
            - {raise: RuntimeError, from: err}
        """) == [
        "f.yaml:10:47: program.main[0].except[0].steps[0].from: `from: eror` names no caught "
        "exception; did you mean `err`?",
        "f.yaml:11:35: program.main[1].from: `from: err` names no caught exception; expected "
        "the name an enclosing `except` binds with `as`, or `none`",
    ]


def test_try_shapes_python_refuses() -> None:
    """A ``try`` needs a handler or a ``finally``; ``else`` needs an ``except``; a bare
    ``except:`` must be last ('default 'except:' must be last')."""
    assert lines("""
        program:
          main:
            - try: [submit]
            - {try: [submit], else: [collect], finally: []}
            - {try: [submit], except: [{as: e}, {type: ValueError}]}
            - {loop: [{cpu: 1ms}], times: 2, until: stop}
            - {loop: [{cpu: 1ms}], until: go}
            - {try: [submit], except: [{type: 3}]}
        """) == [
        "f.yaml:6:7: program.main[0]: a `try` needs an `except` or a `finally` (or both)",
        "f.yaml:7:7: program.main[1]: `else` of a `try` needs an `except` clause",
        "f.yaml:8:7: program.main[2]: a bare `except` (no type) must be the last clause",
        "f.yaml:9:7: program.main[3]: a `loop` takes `times` or `until`, not both",
        "f.yaml:10:35: program.main[4].until: no event `go`; "
        "declare it under `events:` (or use `stop`)",
        "f.yaml:11:39: program.main[5].except[0].type: expected text or a list, got 3",
    ]


def test_a_version_1_file_is_told_to_say_version_2() -> None:
    assert lines(
        """
        program:
          main:
            - try: [submit]
              finally: [{raise: RuntimeError, from: none}]
        """,
        version=1,
    ) == [
        "f.yaml:6:7: program.main[0].try: `try` is a version-2 step; expected `version: 2` at "
        "the top of the file",
        "f.yaml:7:39: program.main[0].finally[0].from: `from` is a version-2 key; expected "
        "`version: 2` at the top of the file",
    ]


def test_the_json_schema_shows_the_steps_since_version_2() -> None:
    defs = json_schema()["$defs"]
    for cls in (TryStep, LoopStep):
        assert defs[cls.__name__]["since"] == 2
    assert set(defs["TryStep"]["properties"]) == {"label", "try", "except", "else", "finally"}
    assert set(defs["ExceptClause"]["properties"]) == {"type", "as", "steps"}
    assert defs[RaiseStep.__name__]["properties"]["from"]["since"] == 2
    assert "reraise, break, continue" in defs["Step"]["description"]


def test_a_sequential_program_collects_once_even_in_blocks() -> None:
    """``results = [task() for task in tasks]`` calls every task: a second ``collect``, or
    one that a ``loop`` repeats, would call them again; each task here runs once."""
    assert lines("""
        program:
          model: sequential
          main:
            - try: [collect]
              except: [{type: ValueError, steps: [collect]}]
            - loop: [collect]
              times: 2
        tasks:
          - name: a
            steps: [{io: 10ms}]
        """) == [
        "f.yaml:8:43: program.main[0].except[0].steps[0]: a second `collect` in a sequential "
        "program would call every task again; expected one `collect` (each task runs once)",
        "f.yaml:9:14: program.main[1].loop[0]: a `collect` in a `loop` of a sequential program "
        "would call every task again at its second round; expected it outside the loop (each "
        "task runs once)",
    ]


def test_a_taskgroup_collect_stands_once_at_the_top() -> None:
    """``async with asyncio.TaskGroup()`` wraps main's steps up to ``collect``: a
    ``collect`` inside a ``try`` or a second one has no block to close."""
    assert lines("""
        program:
          model: asyncio
          collect: taskgroup
          main:
            - submit
            - try: [collect]
              except: [{type: Exception}]
            - collect
        tasks:
          - name: a
            steps: [{io: 10ms}]
        """) == [
        "f.yaml:9:13: program.main[1].try[0]: with collect `taskgroup`, `collect` closes `async "
        "with asyncio.TaskGroup()` around main's steps before it; expected one `collect`, at "
        "main's top level",
        "f.yaml:11:7: program.main[2]: with collect `taskgroup`, `collect` closes `async with "
        "asyncio.TaskGroup()` around main's steps before it; expected one `collect`, at main's "
        "top level",
    ]
