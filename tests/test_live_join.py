"""Main's ``Thread.join`` under the probe (concsim.live.expiry): it sleeps until the thread's
run is over or the ``timeout`` fault expires it, and never wakes just to look (a join that
woke every 10 ms took the GIL from the CPU-bound threads it waited for)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

JOIN = textwrap.dedent(
    """
    import threading, time
    from concsim.live.expiry import Expiry, _JOIN_SLICE

    class Out:  # the probe's Reporter: its records printed
        def emit(self, kind, **fields):
            print(kind, sorted(fields.items()))

    expiry = Expiry(Out(), {}, {})
    expiry.patch_thread()
    waits = []
    wait = expiry.joins.wait
    expiry.joins.wait = lambda timeout=None: (waits.append(timeout), wait(timeout))[1]
    worker = threading.Thread(target=time.sleep, args=(SECONDS,), name="worker", daemon=True)

    def expire_once_joining():
        while not expiry.timed:  # main is in its join
            time.sleep(0.01)
        expiry.expire("main")

    start = time.monotonic()
    worker.start()
    if EXPIRE:
        threading.Thread(target=expire_once_joining, daemon=True).start()
    worker.join()
    elapsed = time.monotonic() - start
    print("waits", len(waits), all(w == _JOIN_SLICE for w in waits), len(waits) <= 1 + elapsed)
    print("alive", worker.is_alive(), elapsed < SECONDS)
    """
)


def _run(seconds: float, expire: bool) -> list[str]:
    code = JOIN.replace("SECONDS", str(seconds)).replace("EXPIRE", str(expire))
    ran = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return ran.stdout.splitlines()


def test_a_join_wakes_when_the_thread_ends_not_every_few_milliseconds() -> None:
    """0.3 s of joining: one wait (of the 1 s safety slice), woken by the thread's end,
    where a join in 10 ms slices took the GIL thirty times."""
    assert _run(0.3, expire=False) == ["waits 1 True True", "alive False False"]


def test_the_timeout_fault_ends_a_join_at_once() -> None:
    """The fault while main joins a thread sleeping 5 s: the join returns then, reports
    its timeout, and the thread goes on."""
    lines = _run(5.0, expire=True)
    assert lines[0] == "timed_out [('on', 'join worker'), ('waiter', 'main')]"
    assert lines[1:] == ["waits 1 True True", "alive True True"]
