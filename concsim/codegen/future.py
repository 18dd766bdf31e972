"""The ``future`` step as Python: ``print(f"slow.cancel() -> {futures[1].cancel()}")``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from concsim.scenario import model as m

from .writer import Writer


def write_future_calls(
    w: Writer, step: m.FutureStep, order: Sequence[str], site: dict[str, Any]
) -> None:
    """One ``print`` per call, the future found by its place in ``futures`` (``order``: the
    task instance of each future, in submit order). ``exception()`` prints its ``repr``."""
    future = f"futures[{order.index(step.future)}]"
    for call in step.calls:
        shown = "!r" if call is m.FutureCall.EXCEPTION else ""
        text = f"{step.future}.{call.value}() -> ".replace("{", "{{").replace("}", "}}")
        w.line(f'print(f"{text}{{{future}.{call.value}(){shown}}}")', **site, comment=step.label)
