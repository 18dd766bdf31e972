"""Which version of the format each key belongs to, and the check that a file declares it.

Version 2 adds constructs to version 1 and changes none: a version-1 file means the same
under both. A step kind or key added in version 2 says so where it is defined,
``since: ClassVar[int] = 2`` on a step class or ``Field(json_schema_extra=SINCE_2)`` on a
field, and a file that uses one must say ``version: 2``: an older concsim then refuses it
in one line (``unsupported version 2``) instead of misreading it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from concsim.scenario.document import Document, Loc
from concsim.scenario.errors import Problem
from concsim.scenario.model import STEP_KINDS, Scenario
from concsim.scenario.shapes import as_model, child_of, step_kind_of

SINCE_2: dict[str, Any] = {"since": 2}
"""``json_schema_extra`` of a field added in version 2 (shown in the JSON Schema too)."""


def since(model: type[BaseModel], key: str) -> int:
    """The version that added ``key`` of a mapping read by ``model`` (1 if not marked)."""
    if key in STEP_KINDS and STEP_KINDS[key] is model:
        return int(getattr(model, "since", 1))
    for name, info in model.model_fields.items():
        if key in {name, info.alias}:
            extra = info.json_schema_extra
            return int(extra.get("since", 1)) if isinstance(extra, dict) else 1  # type: ignore[arg-type]
    return 1


def check_version(doc: Document) -> list[Problem]:
    """A problem at each key of a later version than the file declares."""
    data = doc.data if isinstance(doc.data, dict) else {}
    declared = data.get("version", 1)
    if not isinstance(declared, int) or isinstance(declared, bool) or declared >= 2:
        return []  # version 2 reads everything; a bad version is the field's own error
    problems: list[Problem] = []
    # Each location's type and value, from its parent's: one step per location, so the
    # check is linear in the file (60,000 values: well under a second).
    types: dict[Loc, tuple[Any, Any]] = {(): (Scenario, data)}
    for loc in doc.spots:  # a parent's location comes before its children's
        if not loc:
            continue
        parent = types.get(loc[:-1])
        if parent is None:
            continue
        annotation, value = parent
        types[loc] = (None, None) if annotation is None else child_of(annotation, value, loc[-1])
        if not isinstance(loc[-1], str):
            continue
        model = as_model(annotation, value)
        if model is None:
            continue
        added = since(model, loc[-1])
        if added > declared:
            what = "step" if step_kind_of(value) == loc[-1] else "key"
            problems.append(
                doc.problem(
                    loc,
                    f"`{loc[-1]}` is a version-{added} {what}; expected `version: {added}` "
                    "at the top of the file",
                    at_key=True,
                )
            )
    return problems
