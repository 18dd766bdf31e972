"""The simulator against CPython: one run of each, compared fact by fact.

Discrete facts are compared exactly: main's outcome and error, each task's outcome, error
and cleanup, the results and their order, each task's printed output, warnings, and shared
values. What CPython itself leaves open is compared as a set or a range, never skipped:

- the order of results that the simulator received within one time margin of each other
  (``as_completed`` among equal finishers, ``wait``'s done set) — compared as a set;
- the order in which ``as_completed`` yields the futures already finished when it is called:
  CPython puts them in a set (Lib/concurrent/futures/_base.py, ``as_completed``:
  ``finished = set(f for f in fs if f._state in [CANCELLED_AND_NOTIFIED, FINISHED])``) and
  yields them in that set's order, which follows the objects' addresses — compared as a set,
  before every later result;
- how output from several tasks interleaves — each task's own output is compared in order,
  the interleaving is the scheduler's;
- a shared variable that the simulator shows losing updates (a race) — the real value must
  lie between the initial value and the value with no update lost;
- a shared variable whose final value changes when a decision point goes to another
  waiting thread (concsim.live.open_order) — the real value must lie within the values
  those choices give.

Times (elapsed, each task's start and end) agree within a margin: 10% + 20 ms when the work
waits (I/O, sleeps: the OS wakes a sleeper within microseconds), 25% + 20 ms when the
scenario has ``cpu`` or ``native`` work (its length is a calibrated loop whose speed varies
with the machine's load and frequency). Tracebacks are compared by their last line, without
the module prefix CPython prints before some exception names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from concsim.durations import format_time
from concsim.events import (
    Event,
    ExecutorShutdown,
    OutputWritten,
    ResultReceived,
    SharedWritten,
)
from concsim.export.outcome import outcome
from concsim.live.compare_pools import pool_threads
from concsim.scenario.model import CpuStep, NativeStep, Pattern, Scenario


@dataclass(frozen=True, slots=True)
class Margin:
    """How far a time may be off: ``relative`` of the simulated time plus ``absolute``."""

    relative: float
    absolute: float
    why: str

    def allows(self, simulated: float, real: float) -> bool:
        return abs(real - simulated) <= self.relative * abs(simulated) + self.absolute


SLEEP_BOUND = Margin(0.10, 0.020, "sleep-bound")
CPU_BOUND = Margin(0.25, 0.020, "CPU-bound")


@dataclass(frozen=True, slots=True)
class Disagreement:
    fact: str
    simulated: Any
    real: Any
    timing: bool = False

    def __str__(self) -> str:
        return (
            f"{self.fact}: simulator says {_show(self.simulated)}, CPython did {_show(self.real)}"
        )


def _show(value: Any) -> str:
    if isinstance(value, float):
        return format_time(value)
    return repr(value) if not isinstance(value, str) or not value else value


def margin_for(scenario: Scenario) -> Margin:
    """CPU-bound if any task or main step burns CPU (``cpu`` or ``native``)."""
    steps: list[Any] = list(scenario.program.main_steps)
    for task in scenario.tasks:
        steps.extend(task.steps)
        steps.extend(task.cleanup)
    while steps:
        step = steps.pop()
        if isinstance(step, CpuStep | NativeStep):
            return CPU_BOUND
        for nested in ("steps", "each", "else_"):  # repeat, with; consume; acquire's else
            steps.extend(getattr(step, nested, ()))
    return SLEEP_BOUND


def compare(
    scenario: Scenario,
    simulated: Sequence[Event],
    real: Sequence[Event],
    *,
    loose: float = 1.0,
    open_values: Mapping[str, tuple[int, int]] | None = None,
) -> list[Disagreement]:
    """Every fact on which the two runs disagree; ``loose`` multiplies the time margins;
    ``open_values``: shared values that another choice at a decision point would change."""
    base = margin_for(scenario)
    margin = Margin(base.relative * loose, base.absolute * loose, base.why)
    sim, live = outcome(simulated), outcome(real)
    found: list[Disagreement] = []
    for key in ("outcome", "error"):
        if _bare(sim["main"][key]) != _bare(live["main"][key]):
            found.append(Disagreement(f"main {key}", sim["main"][key], live["main"][key]))
    # The cause of a ``raise ... from e`` the program wrote, as written (a repr). A cause
    # CPython's library sets (wait_for's TimeoutError from CancelledError, a process pool's
    # _RemoteTraceback) is not simulated: compared only where the simulator has one.
    if "cause" in sim["main"] and sim["main"]["cause"] != live["main"].get("cause"):
        found.append(Disagreement("main cause", sim["main"]["cause"], live["main"].get("cause")))
    found += _results(scenario, sim, live, simulated, real, margin)
    live_tasks = {task["name"]: task for task in live["tasks"]}
    racing = _racing_shutdown(simulated, sim, margin)
    flipped = False
    for task in sim["tasks"]:
        other = live_tasks.get(task["name"], {})
        if task["name"] in racing and other.get("outcome") in ("ok", "cancelled"):
            flipped = flipped or other.get("outcome") != task["outcome"]
            continue  # either way is CPython's (see _racing_shutdown)
        for key in ("outcome", "error", "cleanup"):
            if _bare(task[key]) != _bare(other.get(key)):
                found.append(Disagreement(f"{task['name']} {key}", task[key], other.get(key)))
        if task.get("future") != other.get("future"):  # it returned, its future failed
            found.append(Disagreement(f"{task['name']} future", _future(task), _future(other)))
        if "exitcode" in task and task["exitcode"] != other.get("exitcode"):
            found.append(
                Disagreement(f"{task['name']} exitcode", task["exitcode"], other.get("exitcode"))
            )
        for key in ("started", "ended"):
            a, b = task[key], other.get(key)
            if (a is None) != (b is None):
                found.append(Disagreement(f"{task['name']} {key}", a, b))
            elif a is not None and not margin.allows(a, b):
                found.append(Disagreement(f"{task['name']} {key} ({margin.why})", a, b, True))
    if not flipped and not margin.allows(sim["elapsed"], live["elapsed"]):
        found.append(Disagreement(f"elapsed ({margin.why})", sim["elapsed"], live["elapsed"], True))
    found += _output(simulated, real)
    found += [Disagreement(*fact) for fact in pool_threads(scenario, simulated, real)]
    if Counter(sim["warnings"]) != Counter(live["warnings"]):
        found.append(Disagreement("warnings", sim["warnings"], live["warnings"]))
    found += _shared(scenario, simulated, sim["shared"], live["shared"], open_values or {})
    return found


def _future(task: Mapping[str, Any]) -> str:
    """A task's future, where it can end otherwise than the task: failed with the
    exception (its ``repr``), or as the task itself ended."""
    future = task.get("future")
    if future is None:
        return f"as the task ended ({task.get('outcome')})"
    return f"{future['outcome']}: {future['repr']}"


def _bare(value: Any) -> Any:
    """An exception's name as ``type(e).__name__`` gives it: ``queue.Empty`` is ``Empty``."""
    return value.rsplit(".", 1)[-1] if isinstance(value, str) else value


def _racing_shutdown(simulated: Sequence[Event], sim: dict[str, Any], margin: Margin) -> set[str]:
    """Tasks that race ``shutdown(cancel_futures=True)``: queued work a pool thread takes
    at the very moment main cancels the queue (main's ``finally`` after a task's failure
    woke it). Whether the thread's ``work_queue.get()`` or main's cancelling comes first is
    the OS scheduler's choice, so such a task may run (``ok``) or be ``cancelled``; when
    the race goes the other way, the program's end moves with it and elapsed is not
    compared."""
    times = [e.t for e in simulated if isinstance(e, ExecutorShutdown) and e.cancel_futures]
    racing = set()
    for at in times:
        for task in sim["tasks"]:
            started = task["started"]
            if task["outcome"] == "ok" and started is not None and margin.allows(at, started):
                racing.add(task["name"])
        for event in simulated:
            if isinstance(event, ExecutorShutdown) and event.t == at:
                racing.update(event.cancelled[:1])  # the next in the queue
    return racing


def _results(
    scenario: Scenario,
    sim_outcome: dict[str, Any],
    live_outcome: dict[str, Any],
    simulated: Sequence[Event],
    real: Sequence[Event],
    margin: Margin,
) -> list[Disagreement]:
    sim = [(e.t, e.value) for e in simulated if isinstance(e, ResultReceived) and e.error is None]
    live = [e.value for e in real if isinstance(e, ResultReceived) and e.error is None]
    values = [value for _, value in sim]
    if Counter(map(repr, values)) != Counter(map(repr, live)):
        if _cut_short(scenario, sim_outcome, live_outcome):
            # as_completed yields the futures already done when it is called in set order
            # (CPython: concurrent/futures/_base.py, ``finished = set(fs) - ...``): when one
            # of them raises, which values came before it is CPython's choice.
            done = {task["name"] for task in sim_outcome["tasks"] if task["outcome"] == "ok"}
            received = [e.task for e in real if isinstance(e, ResultReceived) and e.error is None]
            if all(task in done for task in received):
                return []
        return [Disagreement("results", values, live)]
    # Order matters only between results the simulator received more than a margin apart,
    # and not among the futures as_completed found finished.
    position = {repr(value): i for i, value in enumerate(live)}
    tasks = [e.task for e in simulated if isinstance(e, ResultReceived) and e.error is None]
    already = _finished_before_as_completed(scenario, sim_outcome, simulated)
    for i, (t1, a) in enumerate(sim):
        for j, (t2, b) in enumerate(sim[i + 1 :], i + 1):
            if tasks[i] in already and tasks[j] in already:
                continue
            if not margin.allows(t1, t2) and position[repr(a)] > position[repr(b)]:
                return [Disagreement("results order", values, live)]
    return []


def _finished_before_as_completed(
    scenario: Scenario, sim: dict[str, Any], simulated: Sequence[Event]
) -> set[str]:
    """The tasks whose futures were already finished when main called ``as_completed``
    (in the simulation): those that ended by the first result it yielded. CPython yields
    them first, in set order."""
    if scenario.program.collect.pattern is not Pattern.AS_COMPLETED:
        return set()
    first = next((e.t for e in simulated if isinstance(e, ResultReceived)), None)
    if first is None:
        return set()
    return {
        task["name"]
        for task in sim["tasks"]
        if task["ended"] is not None and task["ended"] <= first
    }


def _cut_short(scenario: Scenario, sim: dict[str, Any], live: dict[str, Any]) -> bool:
    """Both mains raised while reading ``as_completed`` results."""
    return (
        scenario.program.collect.pattern is Pattern.AS_COMPLETED
        and sim["main"]["outcome"] == live["main"]["outcome"] == "raised"
    )


_QUALIFIED = re.compile(r"^(?:[a-z_][\w]*\.)+([A-Z]\w*(?::.*)?)$")
_CHAINS = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)


def normalise(lines: Iterable[str]) -> list[str]:
    """Output lines with each traceback reduced to the simulator's three lines.

    CPython prints frames, chained exceptions (``raise ... from``, a worker's
    ``_RemoteTraceback``) and each sub-exception of an ``ExceptionGroup``; the simulator
    prints ``Traceback (most recent call last):``, ``  ...`` and the exception that
    reached the top, without its module prefix. That last line is what is compared. An
    address in a repr is written ``0x...``, as the simulator writes it.
    """
    text = [_ADDRESS.sub(" at 0x...", line) for line in lines]
    out: list[str] = []
    i = 0
    while i < len(text):
        line = text[i]
        if line.startswith("  + Exception Group Traceback"):
            i += 1
            top = None
            while i < len(text) and (not text[i] or text[i][0] == " "):
                if top is None and text[i].startswith("  | ") and text[i][4:5] not in (" ", ""):
                    top = text[i][4:]
                i += 1
            out += [_HEADER, "  ...", _unqualified(top or "")]
            continue
        if not line.startswith((_HEADER, _REMOTE)):
            out.append(_ADDRESS.sub(" at 0x...", line))  # <function f at 0x7f3e...>
            i += 1
            continue
        last = ""
        i += 1
        while i < len(text):
            line = text[i]
            i += 1
            if not line or line[0] == " " or line in _QUOTES or line.startswith(_HEADER):
                continue
            if line in _CHAINS or line.startswith(_REMOTE):
                continue
            last = line  # an exception's own line; a chain may still follow
            ahead = i
            while ahead < len(text) and text[ahead] in ("", *_QUOTES):
                ahead += 1
            if ahead < len(text) and text[ahead] in _CHAINS:
                continue
            break
        out += [_HEADER, "  ...", _unqualified(last)]
    return out


_HEADER = "Traceback (most recent call last):"
_QUOTES = ('"""', "'''")
"""What a ``_RemoteTraceback`` wraps the worker's traceback in: ``\"\"\"`` for an error the
worker sent, ``'''`` for the cause of a broken pool (``terminate_broken``)."""
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
"""An object's address in its repr (``<Future at 0x7f...>``): the simulator writes ``0x...``."""
_REMOTE = "concurrent.futures.process._RemoteTraceback"


def _unqualified(line: str) -> str:
    match = _QUALIFIED.match(line)
    return match.group(1) if match else line


def _by_task(events: Sequence[Event]) -> dict[str, list[str]]:
    text: dict[str, list[str]] = {}
    for event in events:
        if isinstance(event, OutputWritten):
            text.setdefault(event.task or "main", []).append(event.text)
    return {task: normalise("".join(parts).splitlines()) for task, parts in text.items()}


def _output(simulated: Sequence[Event], real: Sequence[Event]) -> list[Disagreement]:
    sim, live = _by_task(simulated), _by_task(real)
    found = []
    for task in sorted(set(sim) | set(live)):
        if sim.get(task, []) != live.get(task, []):
            found.append(Disagreement(f"output of {task}", sim.get(task, []), live.get(task, [])))
    if len(sim) <= 1 and not found:
        all_sim = normalise(outcome(simulated)["output"])
        all_live = normalise(outcome(real)["output"])
        if all_sim != all_live:
            found.append(Disagreement("output", all_sim, all_live))
    return found


def _shared(
    scenario: Scenario,
    simulated: Sequence[Event],
    sim: dict[str, Any],
    live: dict[str, Any],
    open_values: Mapping[str, tuple[int, int]],
) -> list[Disagreement]:
    found = []
    for name, value in sim.items():
        real = live.get(name)
        lost = sum(e.lost for e in simulated if isinstance(e, SharedWritten) and e.name == name)
        if lost:
            low, high = scenario.shared[name], value + lost
            if not (isinstance(real, int) and low <= real <= high):
                found.append(Disagreement(f"{name} (racy: {low}..{high})", value, real))
        elif name in open_values:
            low, high = open_values[name]
            if not (isinstance(real, int) and low <= real <= high):
                found.append(Disagreement(f"{name} (open order: {low}..{high})", value, real))
        elif real != value:
            found.append(Disagreement(name, value, real))
    return found
