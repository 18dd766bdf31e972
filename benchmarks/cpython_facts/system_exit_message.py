"""The exit status and stderr of a program whose main thread ends with an exception.

CPython (Python/pythonrun.c, _Py_HandleSystemExit; Modules/main.c, exit_sigint): for
SystemExit an int code is the status (modulo 256) and nothing is printed, None is 0, any
other code is printed (its str) and the status is 1; any other exception prints its
traceback and the status is 1; an uncaught KeyboardInterrupt kills the process with
SIGINT (status -2 here; a shell shows 130).
"""

from __future__ import annotations

import subprocess
import sys

PROGRAMS = [
    "sys.exit(3)",
    "sys.exit()",
    "sys.exit(0)",
    "sys.exit(-1)",
    "sys.exit(256)",
    "raise SystemExit(3)",
    "raise SystemExit('3')",
    "raise SystemExit('bye')",
    "raise ValueError('bad')",
    "raise KeyboardInterrupt",
]

if __name__ == "__main__":
    for code in PROGRAMS:
        done = subprocess.run(
            [sys.executable, "-c", f"import sys; {code}"], capture_output=True, text=True
        )
        last = done.stderr.splitlines()[-1] if done.stderr else ""
        traceback = "Traceback" in done.stderr
        print(f"{code} | exit {done.returncode} | traceback {traceback} | last {last!r}")
