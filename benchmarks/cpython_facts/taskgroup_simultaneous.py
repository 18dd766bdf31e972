"""Two TaskGroup children fail at the same instant: how many sub-exceptions?

CPython (Lib/asyncio/taskgroups.py, TaskGroup._on_task_done; Lib/asyncio/futures.py,
Future.__schedule_callbacks uses loop.call_soon): both children's done-callbacks are
already scheduled when the first one cancels the group, so neither child is cancelled;
both errors are in the ExceptionGroup.
"""

from __future__ import annotations

import asyncio


async def fail(name: str) -> None:
    await asyncio.sleep(0.1)
    raise ValueError(name)


async def main() -> None:
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(fail("a"))
            tg.create_task(fail("b"))
    except ExceptionGroup as group:
        print(group)
        print([repr(e) for e in group.exceptions])


if __name__ == "__main__":
    asyncio.run(main())
