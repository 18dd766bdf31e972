"""What pickle raises when a process pool sends a call or a result it cannot pickle
(Modules/_pickle.c: ``save_global`` for functions and lambdas, ``object.__reduce_ex__``
for a lock or a generator), as ``concurrent.futures.process`` reports it in the future."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, assert_never

from pydantic import BaseModel

from concsim.scenario.model import Python, RaiseStep, Scenario, Task, Unpicklable, Unsendable
from concsim.scenario.pynames import function_name


def _local(python: Python, qualified: str) -> tuple[str, str]:
    """A function or lambda with ``<locals>`` in its qualified name: pickle refuses it by
    name ("Can't pickle local object"; from 3.13 "Can't get local object", as the lookup
    that fails is reported)."""
    verb = "get" if python.at_least >= (3, 13) else "pickle"
    return "AttributeError", f"Can't {verb} local object '{qualified}'"


def pickling_error(task: Task, python: Python = Python.PY311) -> tuple[str, str]:
    """What pickling the call ``_CallItem(work_id, fn, args, kwargs)`` raises: the function
    is pickled first, so its error wins over an argument's. A lambda at module level is
    looked up as ``__main__.<lambda>``, which does not exist; CPython's message shows the
    lambda's address, here ``0x...``."""
    match task.unpicklable:
        case Unpicklable.NESTED:
            return _local(python, f"main.<locals>.{function_name(task.name)}")
        case Unpicklable.LAMBDA:
            return _local(python, "main.<locals>.<lambda>")
        case Unpicklable.MODULE_LAMBDA:
            return (
                "PicklingError",
                "Can't pickle <function <lambda> at 0x...>: "
                "attribute lookup <lambda> on __main__ failed",
            )
        case None:
            pass
        case unknown:
            assert_never(unknown)
    if task.unpicklable_arg is not None:
        return unsendable_error(task.unpicklable_arg, "main", python)
    return _local(python, f"main.<locals>.{function_name(task.name)}")


def cannot_send_call(task: Task) -> bool:
    """Whether the queue feeder thread fails to pickle the task's call."""
    return task.unpicklable is not None or task.unpicklable_arg is not None


def unsendable_error(value: Unsendable, owner: str, python: Python) -> tuple[str, str]:
    """What pickling ``value`` raises; a lambda is local to ``owner``, the function that
    made it (``main`` for an argument, the task's function for a result)."""
    match value:
        case Unsendable.LOCK:
            return "TypeError", "cannot pickle '_thread.lock' object"
        case Unsendable.GENERATOR:
            return "TypeError", "cannot pickle 'generator' object"
        case Unsendable.LAMBDA:
            return _local(python, f"{owner}.<locals>.<lambda>")
        case unknown:
            assert_never(unknown)


def result_error(task: Task, python: Python) -> tuple[str, str] | None:
    """What ``_sendback_result`` raises pickling the task's return value, if anything: the
    worker then sends that error instead (``_ExceptionWithTraceback``)."""
    if task.unpicklable_result is None:
        return None
    return unsendable_error(task.unpicklable_result, function_name(task.name), python)


def unpicklable_errors(scenario: Scenario) -> frozenset[str]:
    """The exception classes a process pool's parent cannot unpickle: raised somewhere with
    ``unpicklable: true``, so defined with ``def __init__(self, message, code)``."""
    return frozenset(step.raise_ for step in _raises(scenario.tasks) if step.unpicklable)


def _raises(value: Any) -> Iterator[RaiseStep]:
    """Every ``raise`` step in a value of the scenario's models, however deeply nested."""
    if isinstance(value, RaiseStep):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _raises(getattr(value, name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _raises(item)


def unpickling_error(error: str) -> tuple[str, str]:
    """What ``_ForkingPickler.loads`` raises in the parent for such a class: pickle calls
    ``error(*args)`` with the one argument ``Exception.__init__`` kept."""
    return "TypeError", f"{error}.__init__() missing 1 required positional argument: 'code'"
