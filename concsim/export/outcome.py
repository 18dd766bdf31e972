"""The headless outcome (the ``--json`` contract), folded from the event stream alone."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from concsim.engine.exits import exit_status
from concsim.events import (
    Event,
    FutureChanged,
    FutureState,
    MainEnded,
    OutputWritten,
    ProcessExited,
    ResultPicklingFailed,
    ResultReceived,
    RunEnded,
    RunStarted,
    SharedWritten,
    TaskEnded,
    TaskStarted,
    WarningIssued,
)
from concsim.export.causes import CAUSE_EVENTS, MAIN, Causes

OUTCOME_EVENTS: frozenset[type[Event]] = frozenset(
    {
        RunStarted,
        TaskStarted,
        TaskEnded,
        ResultReceived,
        SharedWritten,
        OutputWritten,
        WarningIssued,
        MainEnded,
        RunEnded,
        ProcessExited,
        ResultPicklingFailed,
        FutureChanged,
        *CAUSE_EVENTS,
    }
)
"""The only events ``outcome`` reads: a run that needs no more than its outcome keeps these
(``Simulation(..., keep=OUTCOME_EVENTS)``) and skips building the rest."""


def outcome(events: Iterable[Event]) -> dict[str, Any]:
    """What happened, as documented in docs/outcome.md."""
    result: dict[str, Any] = {
        "scenario": None,
        "variant": None,
        "seed": None,
        "elapsed": None,
        "exit_code": None,
        "main": {"outcome": None, "error": None},
        "results": [],
        "tasks": [],
        "warnings": [],
        "shared": {},
        "output": [],
    }
    tasks: dict[str, dict[str, Any]] = {}
    text: list[str] = []
    causes = Causes()
    unsent: dict[str, str] = {}  # a result's pickling error -> its message
    for event in events:
        causes.feed(event)
        if isinstance(event, TaskStarted):
            tasks[event.task]["started"] = event.t
        elif isinstance(event, TaskEnded):
            record = tasks[event.task]
            record.update(outcome=event.outcome, error=event.error, cleanup=event.cleanup)
            if (cause := causes.of(event.task, event.error)) is not None:
                record["cause"] = cause  # raise ... from e: its __cause__
            # A task that never started, or never finished (hung), has no end time.
            if record["started"] is not None and event.outcome != "hung":
                record["ended"] = event.t
        elif isinstance(event, ResultReceived):
            if event.error is None:  # a re-raised exception is not a result
                result["results"].append(event.value)
        elif isinstance(event, SharedWritten):
            result["shared"][event.name] = event.value
        elif isinstance(event, OutputWritten):
            text.append(event.text)
        elif isinstance(event, WarningIssued):
            result["warnings"].append(event.message)
        elif isinstance(event, MainEnded):
            result["main"] = {"outcome": event.outcome, "error": event.error}
            if (cause := causes.of(MAIN, event.error)) is not None:
                result["main"]["cause"] = cause  # raise ... from e: its __cause__
            result["exit_code"] = exit_status(event.outcome, event.error, event.message)
        elif isinstance(event, RunEnded):
            result["elapsed"] = event.elapsed
        elif isinstance(event, ResultPicklingFailed):
            unsent[event.error] = event.message
        elif isinstance(event, FutureChanged):
            # The task returned, but its worker could not pickle the value (or, in a
            # chunk of map(), another's): CPython's _sendback_result sends the pickling
            # error instead, and the future holds it.
            record = tasks[event.task]
            failed = event.state is FutureState.FAILED and record["outcome"] == "ok"
            if failed and event.error in unsent:
                record["future"] = future_failed(event.error, unsent[event.error])
        elif isinstance(event, ProcessExited):
            if event.task is not None:  # only a plain multiprocessing.Process has one
                tasks[event.task]["exitcode"] = event.exitcode
        elif isinstance(event, RunStarted):
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


def future_failed(error: str, message: str) -> dict[str, str]:
    """``tasks[].future`` of a task whose future failed after the task itself returned:
    the exception as CPython's ``repr`` shows an exception of one argument, the message
    (``TypeError("cannot pickle '_thread.lock' object")``)."""
    return {"outcome": "failed", "error": error, "repr": f"{error}({message!r})"}
