"""Done-callbacks as Python: ``def NAME_done(future): ...`` at the top of ``main()`` and
``future.add_done_callback(NAME_done)`` where main registers it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from concsim.scenario import model as m
from concsim.scenario.pynames import callback_functions

from .sites import Path, SiteKind
from .steps import Frame, Resources, write_step
from .writer import Writer

THREAD = "{thread}"
THREAD_EXPR = "threading.current_thread().name"


def callbacks_of(program: m.Program) -> list[tuple[int, m.AddDoneCallbackStep, str]]:
    """Each ``add_done_callback`` step of main: its index, the step, its function's name."""
    found = [(i, s) for i, s in enumerate(program.main) if isinstance(s, m.AddDoneCallbackStep)]
    names = callback_functions([step.add_done_callback for _, step in found])
    return [(index, step, name) for (index, step), name in zip(found, names, strict=True)]


def write_callbacks(w: Writer, res: Resources, program: m.Program) -> None:
    """``def NAME(future):`` for each callback, its steps as the body."""
    for index, step, name in callbacks_of(program):
        w.line(f"def {name}(future):")
        frame = Frame("main", False, repr("main"))
        with w.indented():
            if not step.steps:
                w.line("pass")
            for number, inner in enumerate(step.steps):
                path: Path = ("main", index, "steps", number)
                if isinstance(inner, m.PrintStep) and THREAD in inner.print:
                    w.need("threading")
                    w.line(
                        f"print({thread_fstring(inner.print)})",
                        owner="main",
                        kind=SiteKind.PRINT,
                        label=m.step_label(inner),
                        path=path,
                        comment=inner.label,
                    )
                else:
                    write_step(w, res, frame, inner, path)
        w.blank()


def thread_fstring(text: str) -> str:
    """``text`` as an f-string where ``{thread}`` is the current thread's name."""
    parts = [_escaped(part) for part in text.split(THREAD)]
    return 'f"' + ("{" + THREAD_EXPR + "}").join(parts) + '"'


def _escaped(part: str) -> str:
    body = repr(part)[1:-1]  # backslashes, newlines and the quote repr chose, escaped
    if repr(part)[0] == "'":
        body = body.replace("\\'", "'").replace('"', '\\"')
    return body.replace("{", "{{").replace("}", "}}")


def write_add(
    w: Writer, step: m.AddDoneCallbackStep, name: str, order: Sequence[str], site: dict[str, Any]
) -> None:
    """``future.add_done_callback(name)`` on each future of the task, found by its place in
    ``futures`` (``order``: the task instance of each future, in submit order)."""
    task = step.add_done_callback
    places = [i for i, instance in enumerate(order) if instance == task]
    if not places:
        places = [i for i, instance in enumerate(order) if instance.rpartition("-")[0] == task]
    if len(places) == 1:
        w.line(f"futures[{places[0]}].add_done_callback({name})", **site)
        return
    first, last = places[0], places[-1]
    if places != list(range(first, last + 1)):
        for place in places:
            w.line(f"futures[{place}].add_done_callback({name})", **site)
        return
    w.line(f"for future in futures[{first}:{last + 1}]:")
    with w.indented():
        w.line(f"future.add_done_callback({name})", **site)
