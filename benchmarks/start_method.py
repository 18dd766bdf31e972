"""What the start method costs and changes, measured on this machine's CPython.

    python benchmarks/start_method.py            # about 30 s
    python benchmarks/start_method.py --quick    # fewer repeats

For each start method (fork, forkserver, spawn), through ``multiprocessing.get_context``:

- ``Process.start()`` until the child runs the first line of its target (the child sends
  ``time.monotonic()``, one clock for every process of the machine), and ``start()`` +
  ``join()`` of a child that does nothing; the minimum and the median of the runs (on a
  busy machine the minimum is the better estimate of the cost itself);
- how many times the main module's top level runs: once under fork; once more in each
  child under spawn and forkserver, which import the main module as ``__mp_main__``;
- whether a function defined inside ``main()`` can be a Process target: under fork the
  child inherits it; spawn and forkserver pickle the target, which fails in ``start()``.

docs/semantics.md (Measured costs, The start method) lists the figures; concsim's
``machine.start_method`` uses them for ``process_start``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

QUICK = "--quick" in sys.argv
REPEATS = 5 if QUICK else 15
METHODS = ("fork", "forkserver", "spawn")


def _child(conn: object) -> None:
    conn.send(time.monotonic())  # type: ignore[attr-defined]


def _noop() -> None:
    pass


def first_line(method: str) -> list[float]:
    ctx = mp.get_context(method)
    if method == "forkserver":  # the server starts once, at the first start(): not counted
        warm = ctx.Process(target=_noop)
        warm.start()
        warm.join()
    times = []
    for _ in range(REPEATS):
        parent, child = ctx.Pipe()
        process = ctx.Process(target=_child, args=(child,))
        began = time.monotonic()
        process.start()
        times.append(parent.recv() - began)
        process.join()
    return times


def start_join(method: str) -> list[float]:
    ctx = mp.get_context(method)
    times = []
    for _ in range(REPEATS):
        process = ctx.Process(target=_noop)
        began = time.monotonic()
        process.start()
        process.join()
        times.append(time.monotonic() - began)
    return times


PROGRAM = textwrap.dedent(
    """
    import multiprocessing
    import sys

    print("top level runs")


    def work():
        pass


    def main():
        def local():
            pass

        ctx = multiprocessing.get_context(sys.argv[1])
        for target in (work, local):
            process = ctx.Process(target=target)
            try:
                process.start()
            except Exception as error:
                print(f"{target.__name__}: {type(error).__name__}: {error}")
                continue
            process.join()
            print(f"{target.__name__}: exitcode {process.exitcode}")


    if __name__ == "__main__":
        main()
    """
)


def consequences(method: str) -> str:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "prog.py")
        with open(path, "w", encoding="utf-8") as file:
            file.write(PROGRAM)
        out = subprocess.run(
            [sys.executable, path, method], capture_output=True, text=True, timeout=60
        ).stdout
    runs = out.count("top level runs")
    rest = [line for line in out.splitlines() if line != "top level runs"]
    return f"top level ran {runs} time(s); " + "; ".join(rest)


def _ms(values: list[float]) -> str:
    return f"min {min(values) * 1e3:7.1f} ms   median {statistics.median(values) * 1e3:7.1f} ms"


def main() -> None:
    load = os.getloadavg()[0]
    print(f"CPython {sys.version.split()[0]}, {os.cpu_count()} cores, load {load:.1f}")
    for method in METHODS:
        print(f"{method:10} start() -> first line   {_ms(first_line(method))}")
        print(f"{method:10} start() + join()        {_ms(start_join(method))}")
        print(f"{method:10} {consequences(method)}")


if __name__ == "__main__":
    main()
