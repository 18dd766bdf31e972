"""Each scenario task as a function: its steps in ``try``, ``catches`` as ``except``,
``cleanup`` as ``finally``, then its ``return``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from concsim.scenario import model as m

from .names import literal, name_expr, returns_expr
from .pickling import arg_param, result_expr
from .sites import SiteKind
from .steps import Frame, Resources, error_expr, walk, write_steps
from .writer import INDENT, Writer, display


@dataclass(frozen=True)
class TaskFn:
    """A scenario task and the function that stands for it."""

    spec: m.Task
    function: str
    """The name main hands to the executor: the ``def``, or the lambda that calls it."""
    passes: tuple[str, ...] = ()
    """The locks, queues and events a spawned process is given as arguments (passed.py)."""

    @property
    def takes_index(self) -> bool:
        return self.spec.repeat > 1

    @property
    def nested(self) -> bool:
        """Written inside ``main()``: a nested function, or a lambda there."""
        return self.spec.unpicklable in (m.Unpicklable.NESTED, m.Unpicklable.LAMBDA)

    @property
    def is_lambda(self) -> bool:
        return self.spec.unpicklable in (m.Unpicklable.LAMBDA, m.Unpicklable.MODULE_LAMBDA)

    @property
    def params(self) -> str:
        """The function's parameters: the copy number, the unpicklable argument."""
        names = ["i"] if self.takes_index else []
        extra = arg_param(self.spec)
        return ", ".join(names + ([extra] if extra else []) + list(self.passes))

    @property
    def defined(self) -> str:
        """The ``def`` that does the steps (behind the lambda, when main hands over one)."""
        return f"{self.function}_body" if self.is_lambda else self.function


def write_task(w: Writer, res: Resources, fn: TaskFn) -> None:
    _write_def(w, res, fn)
    if fn.is_lambda:  # what a process pool is handed: a lambda, which pickle cannot send
        param = fn.params
        head = f"lambda {param}: " if param else "lambda: "
        w.line(f"{fn.function} = {head}{fn.defined}({param})")


def _write_def(w: Writer, res: Resources, fn: TaskFn) -> None:
    spec = fn.spec
    owner = spec.name
    is_async = res.is_async
    consumes = any(isinstance(s, m.ConsumeStep) for s in walk(spec.steps))
    handled = "handled" if consumes and spec.returns is None else None
    frame = Frame(owner, is_async, name_expr(spec), handled, fills=res.fills)
    frame.copy = "i" if spec.repeat > 1 else "1"
    frame.name_text = spec.name + ("-{i}" if spec.repeat > 1 else "")
    head = f"{'async ' if is_async else ''}def {fn.defined}({fn.params}):"
    w.line(head)
    with w.indented():
        written = sorted(
            {
                res.shared[s.write]
                for s in walk((*spec.steps, *spec.cleanup))
                if isinstance(s, m.WriteStep)
            }
        )
        if written:
            w.line("global " + ", ".join(written))
        if handled:
            w.line(f"{handled} = []")
        guarded = bool(spec.catches or spec.cleanup)
        if guarded:
            w.line("try:")
            with w.indented():
                write_steps(w, res, frame, spec.steps, ("steps",))
        else:
            write_steps(w, res, frame, spec.steps, ("steps",))
        if spec.catches:
            names = [error_expr(name, w, res) for name in spec.catches]
            caught = names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"
            w.line(f"except {caught}:", owner=owner, kind=SiteKind.CATCH, label="catches")
            with w.indented():
                w.line("pass")
        if spec.cleanup:
            w.line("finally:", owner=owner, kind=SiteKind.CLEANUP, label="cleanup")
            with w.indented():
                write_steps(w, res, frame, spec.cleanup, ("cleanup",))
        if not _always_raises(spec):
            value = returns_expr(spec)
            if handled:
                value = f"{handled} or {value}"
            if spec.unpicklable_result is not None:
                value = result_expr(spec.unpicklable_result, w)
            w.line(f"return {value}", owner=owner, kind=SiteKind.RETURN, label="return")


def _always_raises(spec: m.Task) -> bool:
    """The last step raises and nothing catches it: a ``return`` after it would be dead."""
    return (
        bool(spec.steps)
        and isinstance(spec.steps[-1], m.RaiseStep | m.ExitStep)
        and not spec.catches
    )


@dataclass(frozen=True)
class Call:
    """One task instance to hand over: its function and copy number (``None``: no argument)."""

    fn: TaskFn
    index: int | None


def calls_for(
    fns: Sequence[TaskFn], wanted: Callable[[str, str], bool] | None = None
) -> list[Call]:
    """Every task instance in file order (``wanted(spec_name, instance_name)`` filters)."""
    calls = []
    for fn in fns:
        for i in range(1, fn.spec.repeat + 1):
            instance = fn.spec.name if fn.spec.repeat == 1 else f"{fn.spec.name}-{i}"
            if wanted is None or wanted(fn.spec.name, instance):
                calls.append(Call(fn, i if fn.takes_index else None))
    return calls


def call_items(calls: Sequence[Call], one: Callable[[TaskFn, str | None], str]) -> list[str]:
    """The calls as list items; a run of copies ``a..b`` of one task becomes
    ``*(one(fn, "i") for i in range(a, b + 1))``."""
    items: list[str] = []
    for fn, indexes in _runs(calls):
        if indexes == [None]:
            items.append(one(fn, None))
        elif len(indexes) == 1:
            items.append(one(fn, str(indexes[0])))
        else:
            first, last = indexes[0], indexes[-1]
            assert first is not None and last is not None
            items.append(f"*({one(fn, 'i')} for i in range({first}, {last + 1}))")
    return items


def list_expr(calls: Sequence[Call], one: Callable[[TaskFn, str | None], str]) -> str:
    """``[one(fn, "i") for i in range(1, 6)]`` for one run of copies, else a list display."""
    runs = _runs(calls)
    if len(runs) == 1 and len(runs[0][1]) > 1:
        fn, indexes = runs[0]
        first, last = indexes[0], indexes[-1]
        assert first is not None and last is not None
        return f"[{one(fn, 'i')} for i in range({first}, {last + 1})]"
    return "[" + ", ".join(call_items(calls, one)) + "]"


def _runs(calls: Sequence[Call]) -> list[tuple[TaskFn, list[Any]]]:
    runs: list[tuple[TaskFn, list[Any]]] = []
    for call in calls:
        if (
            runs
            and runs[-1][0] is call.fn
            and call.index is not None
            and runs[-1][1][-1] is not None
            and runs[-1][1][-1] + 1 == call.index
        ):
            runs[-1][1].append(call.index)
        else:
            runs.append((call.fn, [call.index]))
    return runs


def instance_name_expr(fn: TaskFn, arg: str | None) -> str:
    """The task instance's name for ``name=``: ``"job-1"``, ``f"fetch-{i}"``."""
    if arg is None:
        return literal(fn.spec.name)
    if arg == "i":
        return name_expr(fn.spec)
    return literal(f"{fn.spec.name}-{arg}")


def write_list(
    w: Writer,
    head: str,
    calls: Sequence[Call],
    one: Callable[[TaskFn, str | None], str],
    tail: str = "",
    **site: Any,
) -> None:
    """``head<list of calls>tail``: a comprehension for copies of one task, else a display
    (one item a line when long)."""
    runs = _runs(calls)
    if len(runs) == 1 and len(runs[0][1]) > 1:
        text = head + list_expr(calls, one) + tail
        if len(INDENT * w.depth + text) <= 100:
            w.line(text, **site)
            return
        fn, indexes = runs[0]
        w.line(head + "[", **site)
        with w.indented():
            w.line(one(fn, "i"))
            w.line(f"for i in range({indexes[0]}, {indexes[-1] + 1})")
        w.line("]" + tail)
    else:
        display(w, head, call_items(calls, one), tail, **site)


def write_each(
    w: Writer, calls: Sequence[Call], one: Callable[[TaskFn, str | None], str], site: Any
) -> None:
    """Each call as a statement of its own; copies of one task in a ``for i`` loop."""
    for fn, indexes in _runs(calls):
        if indexes == [None]:
            w.line(one(fn, None), **site)
        elif len(indexes) == 1:
            w.line(one(fn, str(indexes[0])), **site)
        else:
            w.line(f"for i in range({indexes[0]}, {indexes[-1] + 1}):")
            with w.indented():
                w.line(one(fn, "i"), **site)
