"""Two outcomes of one program told apart in one line: a branch against the run it left.

Both are outcomes as ``concsim run --json`` gives them (docs/outcome.md). The line says
what a learner asks first, in this order: how main ended, which tasks ended otherwise, how
many tasks still started after the fork, the results, shared values and the end time::

    main raised ConnectionError instead of returning; job-2 failed (ConnectionError)
    instead of ok; 4 more tasks started after 0.3s (4 instead of 0); ended 1.3s later
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from concsim.durations import format_time

Outcome = Mapping[str, Any]
_LISTED = 3  # tasks named one by one; more are counted


def difference(before: Outcome, after: Outcome, at: float) -> str:
    """How ``after`` (the branch) differs from ``before`` (the run it was forked from at
    ``at`` seconds), or ``the same outcome``."""
    parts = [
        *_main(before["main"], after["main"]),
        *_tasks(before["tasks"], after["tasks"]),
        *_started(before["tasks"], after["tasks"], at),
        *_results(before["results"], after["results"]),
        *_shared(before["shared"], after["shared"]),
        *_ended(before["elapsed"], after["elapsed"]),
    ]
    return "; ".join(parts) if parts else "the same outcome"


def _main(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    if before == after:
        return []
    return [f"main {_how(after)} instead of {_how(before, again=True)}"]


def _how(main: Mapping[str, Any], *, again: bool = False) -> str:
    """``raised ValueError``, ``returning``/``returned``, ``hung``, ``interrupted``."""
    outcome, error = main.get("outcome"), main.get("error")
    if outcome in (None, "returned", "ok"):
        return "returning" if again else "returned"
    if error:
        return f"raising {error}" if again else f"raised {error}"
    if outcome == "hung":
        return "hanging" if again else "hung"
    return f"ending {outcome}" if again else f"ended {outcome}"


def _tasks(before: list[Mapping[str, Any]], after: list[Mapping[str, Any]]) -> list[str]:
    was = {task["name"]: task for task in before}
    changed = [
        (task, was[task["name"]])
        for task in after
        if task["name"] in was and _end(task) != _end(was[task["name"]])
    ]
    if not changed:
        return []
    if len(changed) > _LISTED:
        return [f"{len(changed)} tasks ended otherwise"]
    return [f"{now['name']} {_end(now)} instead of {_end(then)}" for now, then in changed]


def _end(task: Mapping[str, Any]) -> str:
    outcome = task.get("outcome") or "never ran"
    error = task.get("error")
    return f"{outcome} ({error})" if error else str(outcome)


def _started(
    before: list[Mapping[str, Any]], after: list[Mapping[str, Any]], at: float
) -> list[str]:
    def count(tasks: list[Mapping[str, Any]]) -> int:
        return sum(1 for t in tasks if t.get("started") is not None and t["started"] >= at)

    then, now = count(before), count(after)
    if then == now:
        return []
    more = "more" if now > then else "fewer"
    tasks = "task" if abs(now - then) == 1 else "tasks"
    after_fork = f"started after {format_time(at)}"
    return [f"{abs(now - then)} {more} {tasks} {after_fork} ({now} instead of {then})"]


def _results(before: list[Any], after: list[Any]) -> list[str]:
    if before == after:
        return []
    if len(before) != len(after):
        return [f"{len(after)} results instead of {len(before)}"]
    return [f"results {_short(after)} instead of {_short(before)}"]


def _shared(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [
        f"{name} = {_short(after[name])} instead of {_short(before.get(name))}"
        for name in after
        if after[name] != before.get(name)
    ]


def _ended(before: float | None, after: float | None) -> list[str]:
    if before is None or after is None:
        if before == after:
            return []
        return ["never ended" if after is None else f"ended at {format_time(after)}"]
    gap = after - before
    if abs(gap) < 1e-9:
        return []
    return [f"ended {format_time(abs(gap))} {'later' if gap > 0 else 'earlier'}"]


def _short(value: Any, limit: int = 24) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
