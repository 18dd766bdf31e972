"""Values a process pool cannot pickle, as a program would hold them: the extra argument
main passes (``executor.submit(save, i, threading.Lock())``) and the value a task returns
in place of its result (``return threading.Lock()``)."""

from __future__ import annotations

from typing import assert_never

from concsim.scenario import model as m

from .writer import Writer

LAMBDA_ARG = "on_done"
"""The lambda main passes: ``on_done = lambda: None``, defined in main() itself."""


def arg_param(spec: m.Task) -> str | None:
    """The parameter that receives the unpicklable argument, if the task takes one."""
    match spec.unpicklable_arg:
        case None:
            return None
        case m.Unsendable.LOCK:
            return "lock"
        case m.Unsendable.LAMBDA:
            return "callback"
        case m.Unsendable.GENERATOR:
            return "items"
        case unknown:
            assert_never(unknown)


def unsendable_expr(value: m.Unsendable, w: Writer) -> str:
    """An expression for a value pickle refuses."""
    match value:
        case m.Unsendable.LOCK:
            w.need("threading")
            return "threading.Lock()"
        case m.Unsendable.LAMBDA:
            return LAMBDA_ARG  # defined in main() before the submit
        case m.Unsendable.GENERATOR:
            return "(n for n in range(3))"
        case unknown:
            assert_never(unknown)


def with_arg(spec: m.Task, args: str, w: Writer) -> str:
    """The call's arguments (``i`` or nothing) and the unpicklable one, if any."""
    if spec.unpicklable_arg is None:
        return args
    extra = unsendable_expr(spec.unpicklable_arg, w)
    return f"{args}, {extra}" if args else extra


def result_expr(value: m.Unsendable, w: Writer) -> str:
    """What the task returns in place of its result: made in the task's function (a lambda
    there is ``FN.<locals>.<lambda>``)."""
    if value is m.Unsendable.LAMBDA:
        return "lambda: None"
    return unsendable_expr(value, w)
