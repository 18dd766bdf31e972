"""sys.exit(3) in the main thread while a non-daemon thread runs.

CPython (Python/pythonrun.c, _Py_HandleSystemExit; Python/pylifecycle.c,
Py_FinalizeEx -> wait_for_thread_shutdown): no traceback is printed, the exit code is
the integer, and the interpreter still joins non-daemon threads before exiting.
Run with --child to be the program; without, it runs itself and reports.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time


def worker() -> None:
    try:
        time.sleep(0.3)
        print("worker finished", flush=True)
    finally:
        print("worker finally", flush=True)


def child() -> None:
    threading.Thread(target=worker).start()
    print("main exits", flush=True)
    sys.exit(3)


def main() -> None:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child"], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    print(f"exit code {done.returncode}; stdout {done.stdout!r}; stderr {done.stderr!r}")
    print(f"elapsed {elapsed:.2f} s (the 0.3 s worker was waited for)")


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
