"""A replay file read and checked: every problem is one line ``file:LINE:COL: path: message``.

YAML replays go through the same safe reader as scenarios (no tags, no alias bombs, bounded
nesting); JSON replays through ``json`` with ``NaN`` and ``Infinity`` refused and nesting
bounded, their positions taken from the same text read as YAML when it can be.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import ScalarNode

from concsim.files import FileRefused, NotUtf8, decode_utf8, read_small_file
from concsim.limits import MAX_DURATION_S, MAX_SEED
from concsim.replay import FORMAT, Replay, ReplayError
from concsim.scenario.document import Document, Loc, Spot, read_document
from concsim.scenario.errors import FILE, Problem, ScenarioError, describe

_EXPECTED = "expected a replay file saved by concsim"
_MAX_JSON_DEPTH = 64


def read_replay(path: str | Path) -> Replay:
    """The replay in ``path``, or ReplayError naming each problem on its own line."""
    from concsim.engine import FAULTS, Injection

    name = str(path)
    text = _text(name, path)
    if not text.strip():
        raise ReplayError(f"{name}:1:1: {FILE}: the file is empty; {_EXPECTED}")
    doc = _document(name, text, json_file=Path(path).suffix == ".json")
    data = doc.data
    problems: list[Problem] = list(doc.problems)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        loc: Loc = ("format",) if isinstance(data, dict) and "format" in data else ()
        problems = [doc.problem(loc, f"not a replay file; expected format: {FORMAT}")]
        raise ReplayError("\n".join(map(str, problems)))
    scenario = _text_field(doc, ("scenario",), problems, required=True)
    if scenario is not None:
        scenario = _scenario(doc, Path(path).parent, scenario, problems)
    variant = _text_field(doc, ("variant",), problems, required=False)
    seed: Any = data.get("seed")
    if "seed" not in data:
        problems.append(doc.problem(("seed",), "required key is missing"))
    elif not _is_int(seed) or not 0 <= seed <= MAX_SEED:
        problems.append(
            doc.problem(("seed",), f"expected an integer 0 to 2**64-1, got {describe(seed)}")
        )
    items = data.get("injections")
    injections = []
    if items is not None and not isinstance(items, list):
        problems.append(
            doc.problem(("injections",), f"expected a list of faults, got {describe(items)}")
        )
        items = []
    for index, item in enumerate(items or []):
        where: Loc = ("injections", index)
        if not isinstance(item, dict):
            problems.append(
                doc.problem(where, f"expected a mapping (at, fault, target), got {describe(item)}")
            )
            continue
        found = len(problems)
        at: Any = item.get("at")
        if not _is_number(at) or not 0 <= at <= MAX_DURATION_S:
            problems.append(
                doc.problem(
                    (*where, "at"),
                    f"expected a time in seconds, 0 to {MAX_DURATION_S}, got {describe(at)}",
                )
            )
        fault = item.get("fault")
        if fault not in FAULTS:
            problems.append(
                doc.problem(
                    (*where, "fault"),
                    f"expected one of {', '.join(FAULTS)}, got {describe(fault)}",
                )
            )
        target = _text_field(doc, (*where, "target"), problems, required=True)
        error = _text_field(doc, (*where, "error"), problems, required=False)
        if len(problems) == found:
            injections.append(
                Injection(float(at), str(fault), str(target), error or "RuntimeError")
            )
    ended_at: Any = data.get("ended_at")
    if ended_at is not None and (not _is_number(ended_at) or not 0 <= ended_at <= MAX_DURATION_S):
        problems.append(
            doc.problem(
                ("ended_at",),
                f"expected a time in seconds, 0 to {MAX_DURATION_S}, got {describe(ended_at)}",
            )
        )
    if not problems:
        assert scenario is not None
        problems += _aims(doc, scenario, variant, injections)
    if problems:
        raise ReplayError("\n".join(str(p) for p in sorted(set(problems), key=_position)))
    assert scenario is not None and _is_int(seed)
    ended = None if ended_at is None else float(ended_at)
    return Replay(scenario, int(seed), variant, tuple(injections), ended)


def _aims(
    doc: Document, scenario: str, variant: str | None, injections: list[Any]
) -> list[Problem]:
    """The variant must be the scenario's, and each fault must aim at one of its tasks or
    lanes; a scenario with problems of its own is left for loading it to report."""
    from concsim.replay import open_scenario
    from concsim.scenario.checks import injection_problem

    try:
        applied = open_scenario(scenario).variant(variant)
    except ScenarioError:
        return []
    except KeyError as error:
        return [doc.problem(("variant",), str(error.args[0]))]
    problems = []
    for index, injection in enumerate(injections):
        problem = injection_problem(applied, injection.target, injection.error)
        if problem:
            problems.append(doc.problem(("injections", index, "target"), problem))
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


def _position(problem: Problem) -> tuple[int, int, str]:
    return (problem.line, problem.col, problem.message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _text_field(doc: Document, loc: Loc, problems: list[Problem], *, required: bool) -> str | None:
    owner: Any = doc.data
    for part in loc[:-1]:
        owner = owner[part]
    value = owner.get(loc[-1])
    if value is None and not required:
        return None
    if loc[-1] not in owner:
        problems.append(doc.problem(loc, "required key is missing"))
    elif not isinstance(value, str) or not value:
        problems.append(doc.problem(loc, f"expected text, got {describe(value)}"))
    else:
        return value
    return None


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
    depth = _json_depth(text)
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
        line, col = _find(text, str(error))
        raise ReplayError(
            f"{name}:{line}:{col}: {FILE}: `{error}` is not a JSON number; expected a finite number"
        ) from None


def _json_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings, found without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _find(text: str, word: str) -> tuple[int, int]:
    """Line and column of the first ``word`` outside a string (``NaN``, ``-Infinity``)."""
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif text.startswith(word, index):
            before = text[:index]
            return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1
    return 1, 1
