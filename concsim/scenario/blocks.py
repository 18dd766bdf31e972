"""Checks of the program's control flow that field validation cannot make, as CPython's
compiler makes them (Python/compile.c): ``break`` and ``continue`` only inside a loop, a bare
``raise`` only where an exception is being handled, ``raise ... from NAME`` only with a name
an enclosing ``except ... as NAME`` binds; ``reschedule`` (``cm.reschedule``) only inside an
``async with asyncio.timeout(...) as cm:`` block."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from concsim.scenario.document import Document, Loc
from concsim.scenario.errors import Problem, did_you_mean
from concsim.scenario.shapes import step_kind_of

_PROGRAM = ("main", "on_result", "on_error")
"""main()'s step lists (``on_error`` is its ``except BaseException:`` block)."""
_TASK = ("steps", "cleanup")


@dataclass(frozen=True)
class Context:
    """What encloses a step: a loop, an ``except`` block, the names ``as`` bound."""

    in_loop: bool = False
    in_except: bool = False
    bound: tuple[str, ...] = ()
    in_timeout: bool = False


def check_blocks(doc: Document) -> list[Problem]:
    """One positioned problem per misplaced ``break``/``continue``/``reraise``/``from``/
    ``reschedule``."""
    data = doc.data if isinstance(doc.data, dict) else {}
    problems: list[Problem] = []
    for loc, owner in _owners(data):
        if not isinstance(owner, dict):
            continue
        for key in _PROGRAM if loc[-1] == "program" else _TASK:
            context = Context(in_except=key == "on_error")
            problems += _steps(doc, (*loc, key), owner.get(key), context)
    return problems


def _owners(data: dict[Any, Any]) -> list[tuple[Loc, Any]]:
    """The program and each task, the variants' too."""
    found: list[tuple[Loc, Any]] = [(("program",), data.get("program"))]
    tasks = data.get("tasks")
    for index, task in enumerate(tasks if isinstance(tasks, list) else []):
        found.append((("tasks", index), task))
    variants = data.get("variants")
    for number, variant in enumerate(variants if isinstance(variants, list) else []):
        if not isinstance(variant, dict):
            continue
        found.append((("variants", number, "program"), variant.get("program")))
        own = variant.get("tasks")
        for index, task in enumerate(own if isinstance(own, list) else []):
            found.append((("variants", number, "tasks", index), task))
    return found


def _steps(doc: Document, loc: Loc, steps: Any, context: Context) -> list[Problem]:
    problems: list[Problem] = []
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        problems += _step(doc, (*loc, index), step, context)
    return problems


def _step(doc: Document, loc: Loc, step: Any, context: Context) -> list[Problem]:
    kind = step_kind_of(step)
    if kind in ("break", "continue") and not context.in_loop:
        return [
            doc.problem(
                loc, f"`{kind}` outside a loop; expected it inside `loop`, `repeat` or `consume`"
            )
        ]
    if kind == "reraise" and not context.in_except:
        return [
            doc.problem(
                loc,
                "`reraise` (a bare `raise`) outside an `except` block; expected it in the "
                "steps of an `except` clause",
            )
        ]
    if kind == "reschedule" and not context.in_timeout:
        return [
            doc.problem(
                loc,
                "`reschedule` outside a `within` block; expected it in the steps of a "
                "`within` (async with asyncio.timeout(...) as cm), whose deadline it moves",
            )
        ]
    if not isinstance(step, dict):
        return []
    problems: list[Problem] = []
    cause = step.get("from") if kind == "raise" else None
    if isinstance(cause, str) and cause != "none" and cause not in context.bound:
        hint = did_you_mean(cause, context.bound, listing=False)
        bound = ", ".join(f"`{name}`" for name in context.bound)
        expected = (
            hint
            or (f"expected one of: {bound}, or `none`" if bound else "")
            or "expected the name an enclosing `except` binds with `as`, or `none`"
        )
        problems.append(
            doc.problem((*loc, "from"), f"`from: {cause}` names no caught exception; {expected}")
        )
    looping = replace(context, in_loop=True)
    match kind:
        case "loop":
            problems += _steps(doc, (*loc, "loop"), step.get("loop"), looping)
        case "repeat":
            problems += _steps(doc, (*loc, "steps"), step.get("steps"), looping)
        case "consume":
            problems += _steps(doc, (*loc, "each"), step.get("each"), looping)
        case "try":
            for key in ("try", "else", "finally"):
                problems += _steps(doc, (*loc, key), step.get(key), context)
            clauses = step.get("except")
            for number, clause in enumerate(clauses if isinstance(clauses, list) else []):
                if not isinstance(clause, dict):
                    continue
                name = clause.get("as")
                names = (*context.bound, name) if isinstance(name, str) else context.bound
                inner = replace(context, in_except=True, bound=names)
                problems += _steps(
                    doc, (*loc, "except", number, "steps"), clause.get("steps"), inner
                )
        case "within":
            timed = replace(context, in_timeout=True)
            problems += _steps(doc, (*loc, "steps"), step.get("steps"), timed)
        case "with" | "taskgroup":
            problems += _steps(doc, (*loc, "steps"), step.get("steps"), context)
    return problems
