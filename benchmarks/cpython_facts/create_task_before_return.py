"""A task created on the line just before main() returns: does it start? Does its finally run?

CPython (Lib/asyncio/runners.py, _cancel_all_tasks; Lib/asyncio/tasks.py, Task.__init__
schedules __step with call_soon): the task's first step is already in the ready queue
when main's task ends, so it runs up to its first await before asyncio.run cancels it;
the cancellation then lands at that await and the finally runs.
"""

from __future__ import annotations

import asyncio


async def worker() -> None:
    print("worker started")
    try:
        await asyncio.sleep(1)
        print("worker finished")
    finally:
        print("worker finally")


async def main() -> None:
    asyncio.create_task(worker())  # noqa: RUF006 -- the point: nothing awaits it
    print("main returns")


if __name__ == "__main__":
    asyncio.run(main())
    print("asyncio.run returned")
