"""How the program's process ends: the exit status, and what a SystemExit prints."""

from __future__ import annotations

import re
from typing import Any

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")

SIGINT_STATUS = -2
"""An uncaught KeyboardInterrupt: CPython kills its own process with SIGINT
(Modules/main.c, exit_sigint), which ``subprocess`` reports as -2 (a shell shows 130)."""


def system_exit_code(message: str) -> int | str | None:
    """The code of ``raise: SystemExit`` with this message: a whole number is an int, as
    ``sys.exit(3)`` (``raise SystemExit(3)``); no message is ``None``; else the text."""
    if not message:
        return None
    if _WHOLE_NUMBER.fullmatch(message.strip()):
        return int(message)
    return message


def exit_status(outcome: str, error: str | None, message: str) -> int | None:
    """The process's exit status once ``main`` ended this way (Python/pythonrun.c,
    _Py_HandleSystemExit): SystemExit's int code modulo 256, 0 for None, 1 for any other
    code (which is printed); 1 for any other uncaught exception; None if it never exits."""
    if outcome == "hung":
        return None
    if outcome == "exited":  # os._exit(n): the status is n
        return int(message) & 0xFF
    if error is None:
        return 0
    if error == "KeyboardInterrupt":
        return SIGINT_STATUS
    if error != "SystemExit":
        return 1
    code = system_exit_code(message)
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return 1


# The module of each exception class the simulator raises that is not a builtin, as
# ``type(e).__module__`` gives it on CPython 3.11. A traceback's last line names the class
# with its module unless that is ``builtins`` or ``__main__`` (Lib/traceback.py,
# TracebackException.format_exception_only).
_MODULES = {
    "PicklingError": "_pickle",
    "BrokenProcessPool": "concurrent.futures.process",
    "BrokenExecutor": "concurrent.futures._base",
    "BrokenBarrierError": "threading",  # threading.Barrier.wait
}
_ASYNCIO_MODULES = {
    "CancelledError": "asyncio.exceptions",
    "BrokenBarrierError": "asyncio.exceptions",  # asyncio.Barrier.wait: a class of its own
}


def traceback_line(error: str, message: str, *, in_asyncio: bool) -> str:
    """The last line of the traceback CPython prints for this exception, e.g.
    ``_pickle.PicklingError: Can't pickle ...``. CancelledError is asyncio's own class in a
    coroutine and concurrent.futures' when a future's ``result()`` raises it;
    BrokenBarrierError is asyncio's own (``asyncio.BrokenBarrierError is not
    threading.BrokenBarrierError``) where a coroutine waits on the barrier."""
    if error == "CancelledError" and not in_asyncio:
        module = "concurrent.futures._base"
    elif in_asyncio and error in _ASYNCIO_MODULES:
        module = _ASYNCIO_MODULES[error]
    else:
        module = _MODULES.get(error, "")
    name = f"{module}.{error}" if module else error
    return f"{name}: {message}" if message else name


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def traceback_text(error: Any, *, in_asyncio: bool) -> str:
    """The traceback CPython prints for an uncaught exception, frames elided: its chain
    first (``__cause__``, else ``__context__`` unless ``from`` suppressed it), each with
    the sentence that links it (Lib/traceback.py, TracebackException.format)."""
    parts: list[str] = []
    seen: set[int] = set()
    current = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        last = traceback_line(current.error, current.message, in_asyncio=in_asyncio)
        parts.append(f"Traceback (most recent call last):\n  ...\n{last}\n")
        if current.cause is not None:
            parts.append(_CAUSE)
            current = current.cause
        elif current.context is not None and not current.suppress_context:
            parts.append(_CONTEXT)
            current = current.context
        else:
            current = None
    return "".join(reversed(parts))
