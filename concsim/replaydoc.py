"""A replay file read and checked: every problem is one line ``file:LINE:COL: path: message``.

YAML replays go through the same safe reader as scenarios (no tags, no alias bombs, bounded
nesting); JSON replays through ``json`` with ``NaN`` and ``Infinity`` refused and nesting
bounded, their positions taken from the same text read as YAML when it can be. The data is
then validated by the replay file's model (concsim.replayfile.ReplayFile), each problem
placed at its value.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.nodes import ScalarNode

from concsim.files import FileRefused, NotUtf8, decode_utf8, read_small_file
from concsim.replay import FORMAT, Replay, ReplayError
from concsim.replayfile import ReplayFile, problem_message
from concsim.scenario.document import Document, Loc, Spot, read_document
from concsim.scenario.errors import FILE, Problem, ScenarioError, describe

_EXPECTED = "expected a replay file saved by concsim"
_MAX_JSON_DEPTH = 64
# A JSON string (one left open runs to the end of the text), and the brackets that nest.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def read_replay(path: str | Path) -> Replay:
    """The replay in ``path``, or ReplayError naming each problem on its own line."""
    name = str(path)
    text = _text(name, path)
    if not text.strip():
        raise ReplayError(f"{name}:1:1: {FILE}: the file is empty; {_EXPECTED}")
    doc = _document(name, text, json_file=Path(path).suffix == ".json")
    data = doc.data
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        loc: Loc = ("format",) if isinstance(data, dict) and "format" in data else ()
        problem = doc.problem(loc, f"not a replay file; expected format: {FORMAT}")
        raise ReplayError(str(problem))
    problems: list[Problem] = list(doc.problems)
    fields: ReplayFile | None = None
    try:
        fields = ReplayFile.model_validate(data)
    except ValidationError as error:
        for found in error.errors(include_url=False):
            problems.append(doc.problem(found["loc"], problem_message(found)))
    scenario = data.get("scenario")
    if isinstance(scenario, str) and scenario:
        scenario = _scenario(doc, Path(path).parent, scenario, problems)
    if fields is not None:
        problems += [doc.problem(loc, message) for loc, message in fields.branch_problems()]
    if fields is not None and not problems:
        assert scenario is not None
        problems += _aims(doc, scenario, fields)
    if problems:
        raise ReplayError("\n".join(str(p) for p in sorted(set(problems), key=_position)))
    assert fields is not None and scenario is not None
    return fields.to_replay(scenario)


def _aims(doc: Document, scenario: str, fields: ReplayFile) -> list[Problem]:
    """The variant must be the scenario's, and each fault must aim at one of its tasks or
    lanes; a scenario with problems of its own is left for loading it to report."""
    from concsim.replay import open_scenario
    from concsim.scenario.checks import injection_problem

    try:
        applied = open_scenario(scenario).variant(fields.variant)
    except ScenarioError:
        return []
    except KeyError as error:
        return [doc.problem(("variant",), str(error.args[0]))]
    lists: list[tuple[Loc, Any]] = [(("injections",), fields.injections)]
    lists += [
        (("branches", i, "injections"), b.injections) for i, b in enumerate(fields.branches or ())
    ]
    problems = []
    for where, injections in lists:
        for index, injection in enumerate(injections or ()):
            raised = injection.error or "RuntimeError"
            problem = injection_problem(applied, injection.target, raised)
            if problem:
                problems.append(doc.problem((*where, index, "target"), problem))
    return problems


def _scenario(doc: Document, folder: Path, scenario: str, problems: list[Problem]) -> str | None:
    """The scenario a replay names: a file beside the replay, any file, or a bundled name."""
    from concsim.scenario.library import find_scenario

    beside = folder / scenario
    if not Path(scenario).is_absolute() and beside.exists():
        return str(beside)  # saved relative to the replay file, so the pair can move
    try:
        find_scenario(scenario)
    except ScenarioError as error:
        reason = error.problems[0].message if error.problems else "not found"
        problems.append(doc.problem(("scenario",), f"{describe(scenario)}: {reason}"))
        return None
    return scenario


def _position(problem: Problem) -> tuple[int, int, str, str]:
    return (problem.line, problem.col, problem.dotted, problem.message)


def _text(name: str, path: str | Path) -> str:
    try:
        data = read_small_file(path)
    except FileRefused as error:
        raise ReplayError(f"{name}:1:1: {FILE}: {error.reason}; {_EXPECTED}") from None
    try:
        return decode_utf8(data)
    except NotUtf8 as error:
        raise ReplayError(f"{name}:{error.line}:{error.col}: {FILE}: {error}") from None


def _document(name: str, text: str, *, json_file: bool) -> Document:
    if not json_file:
        try:
            return read_document(text, name)
        except ScenarioError as error:
            raise ReplayError(str(error)) from None
    data = _json(name, text)
    try:
        doc = read_document(text, name)  # only for the positions of the values
        return Document(name, data, doc.spots)
    except ScenarioError:
        mark = yaml.Mark(name, 0, 0, 0, "", 0)
        top = ScalarNode("tag:yaml.org,2002:null", "", mark, mark)
        return Document(name, data, {(): Spot(None, top)})


class _Constant(ValueError):
    pass


def _refuse(constant: str) -> Any:
    raise _Constant(constant)


def _json(name: str, text: str) -> Any:
    # json.loads recurses per level, so the depth is measured before it runs; and positions
    # are found in the text with every string blanked, so nothing inside one counts.
    bare = _STRING.sub(lambda string: '"' + " " * (len(string[0]) - 2) + '"', text)
    depth = max(accumulate(1 if c in "[{" else -1 for c in _BRACKETS.findall(bare)), default=0)
    if depth > _MAX_JSON_DEPTH:
        raise ReplayError(
            f"{name}:1:1: {FILE}: nested {depth} levels deep; expected at most {_MAX_JSON_DEPTH}"
        )
    try:
        return json.loads(text, parse_constant=_refuse)
    except json.JSONDecodeError as error:
        raise ReplayError(
            f"{name}:{error.lineno}:{error.colno}: {FILE}: invalid JSON: {error.msg}"
        ) from None
    except _Constant as error:
        index = max(bare.find(str(error)), 0)
        line = bare.count("\n", 0, index) + 1
        col = index - (bare.rfind("\n", 0, index) + 1) + 1
        raise ReplayError(
            f"{name}:{line}:{col}: {FILE}: `{error}` is not a JSON number; expected a finite number"
        ) from None
