"""Shared variables: ``tmp = counter`` and ``counter = tmp + 1``, the read and the write of
a read-modify-write that another thread can split (the lost update)."""

from __future__ import annotations

from concsim.events import SharedRead, SharedWritten

from .code import Code
from .runtime import Lane, TaskRun


class SharedVariables(Code):
    """The program's module-level integers, and each lane's last read of them."""

    shared: dict[str, int]
    locals: dict[tuple[str, str], int]  # (lane, name) -> the value it read

    def read(self, lane: Lane, run: TaskRun | None, name: str) -> None:
        value = self.shared.get(name, 0)
        self.locals[(lane.id, name)] = value
        self.world.emit(
            SharedRead, lane=lane.id, task=run.name if run else None, name=name, value=value
        )

    def write(self, lane: Lane, run: TaskRun | None, name: str, add: int) -> None:
        before = self.shared.get(name, 0)
        local = self.locals.pop((lane.id, name), before)
        value = local + add
        self.shared[name] = value
        self.world.emit(
            SharedWritten,
            lane=lane.id,
            task=run.name if run else None,
            name=name,
            value=value,
            # What others added since this lane read, now erased. A stale write that is
            # itself overwritten is counted again by the write that erases it, so the sum
            # over a run can exceed (initial + all adds) - final (ui/ledger.py counts that).
            lost=before - local if before > local else 0,
        )
