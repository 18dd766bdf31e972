"""How the program's process ends: the exit status, and what a SystemExit prints."""

from __future__ import annotations

import re

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
