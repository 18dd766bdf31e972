"""``within`` and ``reschedule`` as Python: ``async with asyncio.timeout(d) as cm:`` and
``cm.reschedule(loop.time() + d)`` (Lib/asyncio/timeouts.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from concsim.scenario import model as m

from .names import seconds
from .writer import Writer

Line = Callable[[str], None]


def write_within(
    w: Writer,
    names: list[str | None],
    step: m.WithinStep,
    line: Line,
    body: Callable[[Sequence[Any]], None],
) -> None:
    """The block; named ``cm`` (``cm2`` inside another named one) only when a
    ``reschedule`` of its own is in it. ``names`` holds the enclosing blocks' names."""
    name = None
    if _moves(step):
        taken = sum(1 for other in names if other is not None)
        name = "cm" if taken == 0 else f"cm{taken + 1}"
    line(f"async with asyncio.timeout({seconds(step.within)})" + (f" as {name}:" if name else ":"))
    names.append(name)
    try:
        with w.indented():
            body(step.steps)
    finally:
        names.pop()


def write_reschedule(names: list[str | None], step: m.RescheduleStep, line: Line) -> None:
    """``cm.reschedule(...)`` of the innermost block: ``None``, or a deadline ``d`` from now
    on the loop's clock."""
    name = names[-1]
    assert name is not None, "a block is named when a reschedule of its own is in it"
    if step.reschedule is None:
        line(f"{name}.reschedule(None)")
        return
    now = "asyncio.get_running_loop().time()"
    when = now if step.reschedule == 0 else f"{now} + {seconds(step.reschedule)}"
    line(f"{name}.reschedule({when})")


def _moves(block: m.WithinStep) -> bool:
    """Whether a ``reschedule`` in ``block`` is its own, not an inner block's."""
    from .steps import walk  # steps.py imports this module

    inner = [step for step in walk(block.steps) if isinstance(step, m.WithinStep)]
    theirs = {id(step) for within in inner for step in walk(within.steps)}
    return any(
        isinstance(step, m.RescheduleStep) and id(step) not in theirs for step in walk(block.steps)
    )
