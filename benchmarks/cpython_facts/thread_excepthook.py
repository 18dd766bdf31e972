"""What threading.excepthook prints for an uncaught exception in a thread.

CPython (Lib/threading.py, excepthook / _make_invoke_excepthook; Thread._newname and
Thread.__init__ name a thread "Thread-N (target)" since 3.10): the header
"Exception in thread Thread-1 (fetch_page):", the traceback, then "ValueError: message".
"""

from __future__ import annotations

import threading


def fetch_page() -> None:
    raise ValueError("bad page")


if __name__ == "__main__":
    thread = threading.Thread(target=fetch_page)
    thread.start()
    thread.join()
    print("main goes on", flush=True)
