"""Pydantic's validation errors, re-said for a YAML author and placed on the file's nodes."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from concsim.scenario.document import Document, Loc
from concsim.scenario.errors import Problem, describe, did_you_mean
from concsim.scenario.model import BARE_STEP_FORMS, STEP_KINDS, Scenario, kind_keys
from concsim.scenario.shapes import is_step_loc, keys_of, model_at, step_kind_of

_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
_ERROR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.]*$"
_MISSING = object()


@dataclass(frozen=True, slots=True)
class _Placed:
    """One pydantic error with pydantic's internal union tags taken out of its location."""

    loc: Loc
    value: Any  # the data at ``loc`` as read from the file (``_MISSING`` if absent)
    error: ErrorDetails
    at_key: bool
    union: tuple[Loc, str] | None  # where a plain union was tried, and which member


def translate(
    error: ValidationError, doc: Document, root: type[BaseModel] = Scenario
) -> list[Problem]:
    """Every error of ``error`` as a positioned, human problem line."""
    placed = [_place(details, doc.data) for details in error.errors()]
    problems: list[Problem] = []
    for item in _merge_unions(placed, doc):
        problems.extend(_problems(item, doc, root))
    return problems


def as_said(error: ValidationError, doc: Document) -> list[Problem]:
    """Every error of ``error`` in the validator's own words, placed: for a file refused
    with no other problem to show, so that it is never refused in silence."""
    return [
        doc.problem(item.loc, str(item.error["msg"]).removeprefix("Value error, "))
        for item in (_place(details, doc.data) for details in error.errors())
    ]


def child_of(value: Any, part: Any) -> tuple[bool, Any]:
    """``value[part]`` of a mapping or a list, and whether it is there."""
    if isinstance(value, dict) and part in value:
        return True, value[part]
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return True, value[part]
    return False, None


def _place(details: ErrorDetails, data: Any) -> _Placed:
    loc: list[Any] = []
    value = data
    at_key = details["type"] in {"extra_forbidden", "invalid_key"}
    union: tuple[Loc, str] | None = None
    parts = details["loc"]
    tagged = -1
    for index, part in enumerate(parts):
        if is_step_loc(tuple(loc)) and tagged != len(loc) and part == step_kind_of(value):
            tagged = len(loc)
            continue  # the tag of the step union, named after the step's kind
        found, child = child_of(value, part)
        if found:
            loc.append(part)
            value = child
        elif part == "[key]":
            at_key = True  # a mapping key failed, e.g. a shared variable's name
        elif index == len(parts) - 1 and details["type"] == "missing":
            loc.append(part)
            value = _MISSING
        elif isinstance(part, str) and part.isidentifier() and not isinstance(value, dict):
            continue  # a field of a shorthand (`collect: gather` for `{pattern: gather}`)
        elif union is None:
            union = (tuple(loc), str(part))  # e.g. "literal['all']": a union member, not a key
    return _Placed(tuple(loc), value, details, at_key, union)


def _merge_unions(placed: list[_Placed], doc: Document) -> list[_Placed]:
    # A value that fits no member of a union (``submit: all`` or a list of names) fails once
    # per member. If one member got further (a list with a bad item), only its errors count;
    # otherwise the members' expectations are said together as one "expected A or B".
    groups: dict[Loc, list[_Placed]] = defaultdict(list)
    result: list[_Placed] = []
    for item in placed:
        if item.union is None:
            result.append(item)
        else:
            groups[item.union[0]].append(item)
    for where, items in groups.items():
        deeper = [item for item in items if len(item.loc) > len(where)]
        if deeper:
            result.extend(deeper)
            continue
        expected = " or ".join(dict.fromkeys(_expectation(item.error) for item in items))
        first = items[0]
        merged: ErrorDetails = {**first.error, "type": "union_mismatch", "msg": expected}
        result.append(_Placed(where, first.value, merged, first.at_key, None))
    return result


def _problems(item: _Placed, doc: Document, root: type[BaseModel]) -> list[Problem]:
    kind = item.error["type"]
    loc = item.loc
    if kind == "value_error":
        return _value_problems(item, doc)
    if kind == "missing":
        return [doc.problem(loc, "required key is missing")]
    if kind == "extra_forbidden":
        key = loc[-1] if loc else item.error["loc"][-1]
        expected = keys_of(model_at(loc[:-1], doc.data, root))
        return [
            doc.problem(
                loc,
                f"unknown key `{_text(doc, loc, key)}`; " + did_you_mean(str(key), expected),
                at_key=True,
            )
        ]
    if kind == "invalid_key":
        return [
            doc.problem(
                loc,
                f"expected a key of text, got {describe(loc[-1] if loc else None)}",
                at_key=True,
            )
        ]
    if loc == ("version",) and kind == "literal_error":
        return [doc.problem(loc, f"unsupported version {describe(item.value)}; expected 1 or 2")]
    value = item.error.get("input") if item.value is _MISSING else item.value
    if item.at_key:
        value = loc[-1] if loc else value
    message = f"expected {_expectation(item.error)}, got {describe(value)}"
    if kind == "enum" and isinstance(value, str):
        hint = did_you_mean(value, _quoted(item.error), listing=False)
        message += f"; {hint}" if hint else ""
    return [doc.problem(loc, message, at_key=item.at_key)]


def _value_problems(item: _Placed, doc: Document) -> list[Problem]:
    """Errors raised by the model's own validators, made specific and well placed."""
    loc, value = item.loc, item.value
    text = str(item.error["msg"]).removeprefix("Value error, ")
    if is_step_loc(loc) and "step" in text:
        return [doc.problem(loc, _step_message(value))]
    if "step of the main program" in text:
        return []  # the semantic checks say this at the step itself
    if loc and loc[-1] == "program" and text.startswith("collect pattern"):
        place = next((key for key in ("collect", "model") if key in (value or {})), None)
        return [doc.problem((*loc, place) if place else loc, text)]
    if loc == ("tasks",) and text.startswith("task name"):
        return []  # the semantic checks say this at the repeated name itself
    if text.startswith("a fault needs exactly one"):
        both = isinstance(value, dict) and "at" in value and "when" in value
        return [
            doc.problem(
                loc,
                "a fault has both `at` and `when`; expected exactly one"
                if both
                else "a fault needs a trigger; expected `at: <time>` or "
                "`when: {task: <name>, step: <index>}`",
            )
        ]
    return [doc.problem(loc, text)]


def _step_message(value: Any) -> str:
    bare = ", ".join(BARE_STEP_FORMS)
    if isinstance(value, dict):
        kinds = kind_keys(value)
        if len(kinds) > 1:
            named = ", ".join(f"`{kind}`" for kind in kinds)
            return f"one step has {len(kinds)} kinds ({named}); expected one kind per step"
        for key in value:
            hint = did_you_mean(str(key), STEP_KINDS, listing=False)
            if hint:
                return f"unknown step kind `{key}`; {hint}"
        return "a step needs a kind; expected one key of: " + ", ".join(STEP_KINDS)
    if isinstance(value, str) and value in STEP_KINDS:
        return f"a `{value}` step needs a value; expected `{value}: <value>`"
    if isinstance(value, str):
        hint = did_you_mean(value, STEP_KINDS, listing=False)
        return f"unknown step `{value}`; " + (
            hint or f"expected a mapping such as `cpu: 10ms`, or one of: {bare}"
        )
    return f"expected a step (a mapping such as `cpu: 10ms`, or {bare}), got {describe(value)}"


_EXPECTED: dict[str, str] = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _expectation(error: ErrorDetails) -> str:
    """What the value should have been, in a few words."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "union_mismatch":
        return str(error["msg"])
    if kind in {"literal_error", "enum"}:
        options = _quoted(error)
        texts = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))  # quoted: strings
        options = [{"True": "true", "False": "false"}.get(o, o) for o in options]
        if len(options) == 1:
            return f"`{options[0]}`" if texts else options[0]
        return "one of " + ", ".join(options)
    bounds = {
        "greater_than_equal": ("ge", "{} or more"),
        "greater_than": ("gt", "more than {}"),
        "less_than_equal": ("le", "{} or less"),
        "less_than": ("lt", "less than {}"),
    }
    if kind in bounds:
        name, words = bounds[kind]
        bound = ctx.get(name)
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)  # 1000000, not 1000000.0
        if isinstance(error.get("input"), float) and math.isnan(error["input"]):
            return "a finite number, " + words.format(bound)
        return "a number " + words.format(bound)
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern")
        if pattern == _NAME_PATTERN:
            return "a name of letters, digits, `_`, `.` and `-` that starts with a letter or `_`"
        if pattern == _ERROR_PATTERN:
            return "an exception type name such as ValueError"
        return f"text matching {pattern}"
    return str(error["msg"])[:1].lower() + str(error["msg"])[1:]


def _quoted(error: ErrorDetails) -> list[str]:
    expected = str((error.get("ctx") or {}).get("expected", ""))
    quoted = re.findall(r"'([^']*)'", expected)
    return quoted or [part for part in re.split(r", | or ", expected) if part]


def _text(doc: Document, loc: Loc, key: Any) -> str:
    spot = doc.spots.get(loc)
    if spot is not None and spot.key is not None:
        return str(getattr(spot.key, "value", key))
    return str(key)
