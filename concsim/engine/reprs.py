"""``str()`` and ``repr()`` of an exception as CPython writes them (Objects/exceptions.c,
``BaseException_repr``, ``KeyError_str``, ``BaseExceptionGroup_str``), for the simulator's
exceptions, which keep ``str(e)`` as their message.

``repr`` is the class's own name and its argument's repr, ``ValueError('bad')``, or
``TimeoutError()`` with none. A KeyError's ``str`` is the ``repr`` of its argument:
``str(KeyError('id'))`` is ``'id'`` (quoted) and its repr ``KeyError('id')``; a scenario
may write the message either way (``message: id`` or ``message: "'id'"``), both raise
``KeyError('id')``. An ExceptionGroup's ``str`` adds how many exceptions it holds,
``unhandled errors in a TaskGroup (1 sub-exception)``; its repr shows them,
``ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('x')])``."""

from __future__ import annotations

import ast
from collections.abc import Sequence


def key_error_str(message: str) -> str:
    """``str(KeyError(arg))``, ``repr(arg)``, for the message a scenario wrote: a quoted
    literal stands for itself (``"'id'"``), any other text is the argument (``id``)."""
    if not message or _quoted(message) is not None:
        return message
    return repr(message)


def _quoted(message: str) -> str | None:
    """The string a quoted literal stands for, if ``message`` is one as ``repr`` writes it."""
    if len(message) < 2 or message[0] != message[-1] or message[0] not in "'\"":
        return None
    try:
        value = ast.literal_eval(message)
    except (SyntaxError, ValueError):
        return None
    return value if isinstance(value, str) and repr(value) == message else None


def exception_repr(error: str, message: str) -> str:
    """``repr(exception)`` from its class name and its ``str``: ``ValueError('bad')``,
    ``KeyError('id')`` (its str is ``'id'``), ``TimeoutError()``."""
    name = error.rpartition(".")[2]
    if not message:
        return f"{name}()"
    if name == "KeyError" and (argument := _quoted(message)) is not None:
        return f"{name}({argument!r})"
    return f"{name}({message!r})"


def group_str(message: str, count: int) -> str:
    """``str(ExceptionGroup(message, exceptions))``: the message and the count."""
    return f"{message} ({count} sub-exception{'s' if count > 1 else ''})"


def group_repr(name: str, message: str, exceptions: Sequence[object]) -> str:
    """``repr(ExceptionGroup(message, exceptions))``: the message and the list, each
    exception by its own repr."""
    return f"{name}({message!r}, [{', '.join(repr(error) for error in exceptions)}])"


TASKGROUP_MESSAGE = "unhandled errors in a TaskGroup"
"""``BaseExceptionGroup('unhandled errors in a TaskGroup', self._errors)`` in
``TaskGroup.__aexit__`` (Lib/asyncio/taskgroups.py)."""
