"""The shape of the format as the models define it: which model reads which mapping."""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from concsim.scenario.document import Loc
from concsim.scenario.model import BARE_STEP_FORMS, STEP_KINDS, kind_keys, resolve_steps

resolve_steps()  # the walks below read the steps' annotations

STEP_LISTS = frozenset(
    {
        "main",
        "on_result",
        "steps",
        "cleanup",
        "each",
        "try",
        "else",
        "finally",
        "loop",
        "atexit",
        "action",
    }
)
"""Keys whose value is a list of steps, wherever they appear."""


def step_kind_of(value: Any) -> str | None:
    """The kind of a step as written: its one kind key, or a bare ``submit``."""
    if isinstance(value, str):
        return value if value in BARE_STEP_FORMS else None
    if isinstance(value, dict):
        kinds = kind_keys(value)
        return kinds[0] if len(kinds) == 1 else None
    return None


def is_step_loc(loc: Loc) -> bool:
    """Whether ``loc`` names one step of a step list (``tasks[0].steps[2]``)."""
    return len(loc) >= 2 and isinstance(loc[-1], int) and loc[-2] in STEP_LISTS


def keys_of(model: type[BaseModel] | None) -> list[str]:
    """The keys a mapping read by ``model`` may have, as written in a file."""
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def model_at(loc: Loc, data: Any, root: type[BaseModel]) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc``, found by walking the types."""
    current: Any = root
    value = data
    for part in loc:
        current, value = child_of(current, value, part)
        if current is None:
            return None
    return as_model(current, value)


def child_of(annotation: Any, value: Any, part: Any) -> tuple[Any, Any]:
    """The type and value of ``value[part]``, where ``value`` is read as ``annotation``
    (``None`` for the type when nothing reads it)."""
    current = _unwrap(annotation, value)
    if isinstance(current, type) and issubclass(current, BaseModel):
        field = next(
            (info for name, info in current.model_fields.items() if part in {name, info.alias}),
            None,
        )
        if field is None:
            return None, None
        current = field.annotation
    elif get_origin(current) in {tuple, list}:
        current = get_args(current)[0]
    elif get_origin(current) is dict:
        current = get_args(current)[1]
    else:
        return None, None
    child = (
        value.get(part)
        if isinstance(value, dict)
        else (
            value[part]
            if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
            else None
        )
    )
    return current, child


def as_model(annotation: Any, value: Any) -> type[BaseModel] | None:
    """The model class that reads ``value`` as ``annotation``, if one does."""
    current = _unwrap(annotation, value)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


_UNWRAPPED: dict[tuple[int, str | None], tuple[Any, Any]] = {}
"""``_unwrap`` by annotation (they live as long as the models) and the value's step kind,
all it reads of the value: a file's thousands of steps unwrap the union of steps once."""


def _unwrap(annotation: Any, value: Any) -> Any:
    """Strip Annotated and Optional; of a union of steps, pick the one ``value`` is."""
    key = (id(annotation), step_kind_of(value))
    found = _UNWRAPPED.get(key)
    if found is None or found[0] is not annotation:  # the id of another, since freed
        found = _UNWRAPPED[key] = (annotation, _unwrap_uncached(annotation, value))
    return found[1]


def _unwrap_uncached(annotation: Any, value: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in {Union, types.UnionType}:
            members = [_unwrap(arg, value) for arg in get_args(annotation) if arg is not type(None)]
            kind = step_kind_of(value)
            if kind is not None and STEP_KINDS[kind] in members:
                return STEP_KINDS[kind]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            return models[0] if len(models) == 1 else (members[0] if len(members) == 1 else None)
        else:
            return annotation
