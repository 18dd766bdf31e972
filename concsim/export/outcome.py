"""The headless outcome (the ``--json`` contract), folded from the event stream alone."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from concsim.events import (
    Event,
    MainEnded,
    OutputWritten,
    ResultReceived,
    RunEnded,
    RunStarted,
    SharedWritten,
    TaskEnded,
    TaskStarted,
    WarningIssued,
)


def outcome(events: Iterable[Event]) -> dict[str, Any]:
    """What happened, as documented in docs/outcome.md."""
    result: dict[str, Any] = {
        "scenario": None,
        "variant": None,
        "seed": None,
        "elapsed": None,
        "main": {"outcome": None, "error": None},
        "results": [],
        "tasks": [],
        "warnings": [],
        "shared": {},
        "output": [],
    }
    tasks: dict[str, dict[str, Any]] = {}
    text: list[str] = []
    for event in events:
        kind = type(event)
        if kind is TaskStarted:
            tasks[event.task]["started"] = event.t  # type: ignore[attr-defined]
        elif kind is TaskEnded:
            record = tasks[event.task]  # type: ignore[attr-defined]
            record.update(
                outcome=event.outcome,
                error=event.error,  # type: ignore[attr-defined]
                cleanup=event.cleanup,
            )  # type: ignore[attr-defined]
            if event.outcome != "never_started":  # type: ignore[attr-defined]
                record["ended"] = event.t
        elif kind is ResultReceived and event.error is None:  # type: ignore[attr-defined]
            result["results"].append(event.value)  # type: ignore[attr-defined]
        elif kind is SharedWritten:
            result["shared"][event.name] = event.value  # type: ignore[attr-defined]
        elif kind is OutputWritten:
            text.append(event.text)  # type: ignore[attr-defined]
        elif kind is WarningIssued:
            result["warnings"].append(event.message)  # type: ignore[attr-defined]
        elif kind is MainEnded:
            result["main"] = {"outcome": event.outcome, "error": event.error}  # type: ignore[attr-defined]
        elif kind is RunEnded:
            result["elapsed"] = event.elapsed  # type: ignore[attr-defined]
        elif kind is RunStarted:
            assert isinstance(event, RunStarted)
            result.update(scenario=event.scenario, variant=event.variant, seed=event.seed)
            result["shared"] = dict(event.shared)
            for name in event.tasks:
                tasks[name] = {
                    "name": name,
                    "outcome": None,
                    "error": None,
                    "started": None,
                    "ended": None,
                    "cleanup": "none",
                }
    result["tasks"] = list(tasks.values())
    result["output"] = "".join(text).splitlines()
    return result
