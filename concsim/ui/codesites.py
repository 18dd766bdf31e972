"""A program's site map turned round, for the code view's fold: the lines of each owner's
step labels and kinds, and the line of the ``__main__`` guard's call of ``main()``."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from concsim.codegen import Program, SiteKind
from concsim.codegen.barriers import ACTION_OWNER
from concsim.engine.labels import fill_for, names_its_run


class SiteIndex:
    """A program's site map turned round: the lines of each owner's label and kind."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.labels: dict[tuple[str, str], list[int]] = {}
        self.kinds: dict[tuple[str, SiteKind], list[int]] = {}
        self.anywhere: dict[str, list[int]] = {}
        instances: dict[str, list[tuple[int, str]]] = {}
        for name, task in program.tasks.items():
            copy = task.index if isinstance(task.index, int) else 1
            instances.setdefault(task.spec, []).append((copy, name))
        for line in sorted(program.sites):
            site = program.sites[line]
            self.labels.setdefault((site.owner, site.label), []).append(line)
            if names_its_run(site.label):  # version 2: the lane shows it filled per copy
                for filled in {fill_for(site.label, *one) for one in instances.get(site.owner, [])}:
                    if filled != site.label:
                        self.labels.setdefault((site.owner, filled), []).append(line)
            self.kinds.setdefault((site.owner, site.kind), []).append(line)
            self.anywhere.setdefault(site.label, []).append(line)
        self.owners = {name: task.spec for name, task in program.tasks.items()}
        self.guard = guard_line(program.source)

    def owner(self, task: str) -> str:
        """The scenario task (the function) a task instance runs: ``request-3`` -> ``request``."""
        return self.owners.get(task, task)

    def labelled(self, owner: str, label: str, after: int | None) -> int | None:
        """The first line of ``owner`` with ``label`` after line ``after`` (else its first);
        else a barrier action's line with that label (it runs in the task that trips it)."""
        lines = self.labels.get((owner, label)) or self.labels.get((ACTION_OWNER, label)) or []
        return _next(lines, after, strict=True)

    def of_kind(self, owner: str, kind: SiteKind, at: int | None = None) -> int | None:
        """The first line of ``owner`` of ``kind`` at or after ``at`` (else its first)."""
        return _next(self.kinds.get((owner, kind), ()), at, strict=False)

    def lines_of(self, owner: str, kind: SiteKind) -> Sequence[int]:
        return self.kinds.get((owner, kind), ())


def _next(lines: Sequence[int], after: int | None, *, strict: bool) -> int | None:
    if not lines:
        return None
    if after is None:
        return lines[0]
    k = (bisect_right if strict else bisect_left)(lines, after)
    return lines[k] if k < len(lines) else lines[0]


def guard_line(source: str) -> int | None:
    """The line of the ``if __name__ == "__main__":`` block that calls ``main()``: where the
    main thread stands in ``asyncio.run``'s teardown and at interpreter exit."""
    lines = source.splitlines()
    found = None
    for number, text in enumerate(lines, 1):
        if text.startswith("if __name__ =="):
            found = number
        elif found is not None and "main()" in text:
            return number
    return found
