"""A run as a Chrome trace (the Trace Event Format that Perfetto and chrome://tracing open).

Each simulated process is a trace process, each of its lanes a thread track in the lanes
view's order, and its GIL a track of its own. The lanes' intervals come from the fold the app
draws with (``concsim.ui.timeline.Timeline``); the step labels, which that fold does not keep,
only cut an interval where the task or step changes. Faults, raises and cancels are instant
events, and a flow arrow joins each exception to the place where reading its future re-raised
it. Everything is read from the events alone, so a live run exports the same way.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import count, pairwise
from pathlib import Path
from typing import Any

from concsim.durations import MICROSECONDS, format_duration
from concsim.events import (
    AwaitReraised,
    CancelDelivered,
    CancelRequested,
    DeadlockDetected,
    Event,
    ExceptionRaised,
    FaultInjected,
    FaultRefused,
    InterruptDelivered,
    LaneState,
    LaneStateChanged,
    PoolBroken,
    ProcessKilled,
    ResultReceived,
    RunEnded,
    RunStarted,
    TimeoutExpired,
)
from concsim.files import write_atomically
from concsim.palette import LOOKS
from concsim.ui.timeline import BLANK, GIL_FREE, STATES, Timeline, Track

SLIVER = 1.0  # µs: the length of the slices that anchor an exception's flow arrow

# A lane in one of these states is not doing anything worth a slice: it has not started, sits
# idle in a pool, or has ended (its ending is an instant event or a mark of its own).
_NO_SLICE = frozenset(
    {
        LaneState.IDLE,
        LaneState.DONE,
        LaneState.FAILED,
        LaneState.CANCELLED,
        LaneState.STOPPED,
        LaneState.KILLED,
    }
)


@dataclass(frozen=True, slots=True)
class _Label:
    task: str | None
    step: str | None


@dataclass(slots=True)
class _Place:
    pid: int
    tid: int


def chrome_trace(events: Sequence[Event], *, now: float | None = None) -> dict[str, Any]:
    """The run so far as a Trace Event Format object (``{"traceEvents": [...], ...}``).

    ``now`` is where an unfinished run stands (the app's playhead); a finished run ends at
    its ``RunEnded``.
    """
    timeline = Timeline()
    timeline.feed(list(events))
    start = next((e for e in events if isinstance(e, RunStarted)), None)
    end = _end(events, timeline, now)
    places = _places(timeline)
    labels = _labels(events)
    body: list[dict[str, Any]] = []
    for track in timeline.rows:
        place = places[track.row_id]
        if track.is_gil:
            body.extend(_gil_slices(track, place, end))
        else:
            body.extend(_lane_slices(track, place, end, labels.get(track.row_id)))
    body.extend(_instants(events, timeline, places))
    body.extend(_flows(events, places))
    body.sort(key=_order)
    return {
        "traceEvents": [*_metadata(timeline, places), *body],
        "displayTimeUnit": "ms",
        "otherData": _about(start, events),
    }


def _end(events: Sequence[Event], timeline: Timeline, now: float | None) -> float:
    ended = next((e for e in reversed(events) if isinstance(e, RunEnded)), None)
    if ended is not None:
        return max(ended.elapsed, ended.t)
    return max(timeline.now, now or 0.0)


def _ts(t: float) -> float:
    return round(t * MICROSECONDS, 3)


def _order(record: dict[str, Any]) -> tuple[float, float, int]:
    # By time; at one instant the longer slice first, so an enclosing slice precedes the
    # slices nested in it, as the format requires of complete events on one thread.
    return record["ts"], -record.get("dur", 0.0), 0 if record["ph"] == "X" else 1


# --- tracks ---------------------------------------------------------------------------------


def _places(timeline: Timeline) -> dict[str, _Place]:
    """A pid per simulated process and a tid per row, both in the lanes view's order.

    The first row of a process is its main thread, whose tid is the pid: Perfetto, like Linux,
    takes the thread whose tid is the pid for a process's main thread, and makes an unnamed
    one when there is none. The other rows are numbered after the last pid, so no two rows,
    in one process or in two, share a tid.
    """
    pids: dict[str, int] = {}
    for track in timeline.rows:
        pids.setdefault(track.process, len(pids) + 1)
    others = count(len(pids) + 1)
    started: set[int] = set()
    places: dict[str, _Place] = {}
    for track in timeline.rows:
        pid = pids[track.process]
        tid = next(others) if pid in started else pid
        started.add(pid)
        places[track.row_id] = _Place(pid, tid)
    return places


def _metadata(timeline: Timeline, places: dict[str, _Place]) -> Iterator[dict[str, Any]]:
    named: set[int] = set()
    for index, track in enumerate(timeline.rows):
        place = places[track.row_id]
        if place.pid not in named:
            named.add(place.pid)
            process = "main process" if track.process == "main" else track.process
            yield _meta("process_name", place.pid, 0, {"name": process})
            yield _meta("process_sort_index", place.pid, 0, {"sort_index": place.pid})
        yield _meta("thread_name", place.pid, place.tid, {"name": track.name})
        yield _meta("thread_sort_index", place.pid, place.tid, {"sort_index": index})


def _meta(name: str, pid: int, tid: int, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "ph": "M", "pid": pid, "tid": tid, "args": args}


def _about(start: RunStarted | None, events: Sequence[Event]) -> dict[str, Any]:
    """The run's identity: enough to reproduce it with ``concsim run``."""
    faults = [
        f"{format_duration(round(e.t * MICROSECONDS))}:{e.fault}:{e.target}"
        + (f":{e.error}" if e.error else "")
        for e in events
        if isinstance(e, FaultInjected)
    ]
    return {
        "scenario": start.scenario if start else None,
        "variant": start.variant if start else None,
        "seed": start.seed if start else None,
        "model": start.model if start else None,
        "faults": faults,
        "clock": "virtual seconds, written as microseconds",
    }


# --- slices ---------------------------------------------------------------------------------


def _labels(events: Sequence[Event]) -> dict[str, tuple[list[float], list[_Label]]]:
    """Each lane's (task, step) over time; at one instant the last change wins, as in the
    timeline."""
    found: dict[str, tuple[list[float], list[_Label]]] = {}
    for event in events:
        if isinstance(event, LaneStateChanged):
            times, labels = found.setdefault(event.lane, ([], []))
            label = _Label(event.task, event.step)
            if times and times[-1] == event.t:
                labels[-1] = label
            else:
                times.append(event.t)
                labels.append(label)
    return found


def _intervals(track: Track, end: float) -> Iterator[tuple[float, float, int]]:
    """(start, end, code) of each interval of a row, the last one running to ``end``."""
    starts = track.starts
    for k, t0 in enumerate(starts):
        t1 = starts[k + 1] if k + 1 < len(starts) else end
        if t1 > t0:
            yield t0, t1, track.codes[k + 1]


def _lane_slices(
    track: Track,
    place: _Place,
    end: float,
    labels: tuple[list[float], list[_Label]] | None,
) -> Iterator[dict[str, Any]]:
    times, marks = labels or ([], [])
    for t0, t1, code in _intervals(track, end):
        if code == BLANK:
            continue
        state = STATES[code - 1]
        if state in _NO_SLICE:
            continue
        # Cut the interval wherever the lane's task or step changes inside it.
        cuts = [t0]
        k = bisect_right(times, t0)
        while k < len(times) and times[k] < t1:
            if marks[k] != marks[k - 1]:
                cuts.append(times[k])
            k += 1
        cuts.append(t1)
        for a, b in pairwise(cuts):
            index = bisect_right(times, a) - 1
            label = marks[index] if index >= 0 else _Label(None, None)
            args = {"state": state.value}
            if label.task:
                args["task"] = label.task
            if label.step:
                args["step"] = label.step
            yield _slice(LOOKS[state].words, "state", a, b, place, args)


def _gil_slices(track: Track, place: _Place, end: float) -> Iterator[dict[str, Any]]:
    for t0, t1, code in _intervals(track, end):
        if code in (BLANK, GIL_FREE):
            continue
        holder = track.holders[code - 2]
        yield _slice(holder, "gil", t0, t1, place, {"holder": holder})


def _slice(
    name: str, cat: str, t0: float, t1: float, place: _Place, args: dict[str, Any]
) -> dict[str, Any]:
    ts = _ts(t0)
    return {
        "name": name,
        "cat": cat,
        "ph": "X",
        "ts": ts,
        "dur": round(_ts(t1) - ts, 3),
        "pid": place.pid,
        "tid": place.tid,
        "args": args,
    }


# --- instants and flows ---------------------------------------------------------------------


def _instant_of(event: Event) -> tuple[str, str, str | None, str | None] | None:
    """(name, category, lane, task) of an event shown as an instant, or None."""
    match event:
        case FaultInjected():
            return f"{event.fault} {event.target}", "fault", event.target, event.target
        case FaultRefused():
            return f"{event.fault} refused", "fault", event.target, event.target
        case ExceptionRaised():
            return f"raise {event.error}", "exception", event.lane, None
        case AwaitReraised():
            return f"{event.step} re-raised {event.error}", "exception", event.lane, None
        case CancelRequested():
            return f"cancel() → {event.accepted}", "cancel", None, event.task
        case CancelDelivered():
            return "CancelledError delivered", "cancel", event.lane, None
        case ProcessKilled():
            return "killed", "fault", event.lane, None
        case PoolBroken():
            return "BrokenProcessPool", "exception", event.lane, None
        case TimeoutExpired():
            return "timeout expired", "timeout", event.waiter, event.waiter
        case InterruptDelivered():
            return "KeyboardInterrupt", "fault", event.lane, None
        case DeadlockDetected():
            return "deadlock", "fault", None, None
        case _:
            return None


def _instants(
    events: Sequence[Event], timeline: Timeline, places: dict[str, _Place]
) -> Iterator[dict[str, Any]]:
    for event in events:
        found = _instant_of(event)
        if found is None:
            continue
        name, cat, lane, task = found
        place = places.get(lane or "")
        if place is None and task is not None:
            # The lane the task last ran on; the task asyncio.run made of main() runs on
            # main's own row, which no TaskSubmitted names.
            lanes = timeline.task_lanes.get(task)
            place = places.get(lanes[-1]) if lanes else places.get(task)
        record: dict[str, Any] = {
            "name": name,
            "cat": cat,
            "ph": "i",
            "ts": _ts(event.t),
            "args": {"why": event.why},
        }
        if place is None:
            record.update(s="g", pid=1, tid=0)  # run-wide: a line across the whole trace
        else:
            record.update(s="t", pid=place.pid, tid=place.tid)
        yield record


def _flows(events: Sequence[Event], places: dict[str, _Place]) -> Iterator[dict[str, Any]]:
    """An arrow from each raise to every read of its future that re-raised it.

    Flow events bind to the slice around them, and at the instant of a raise the lane's
    slices end and begin, so each end of the arrow gets a one-microsecond slice of its own:
    the raise ends at the instant, the re-raise starts there.
    """
    raised: dict[str, ExceptionRaised] = {}
    main = places.get("main")
    flow = 0
    for event in events:
        if isinstance(event, ExceptionRaised) and event.task is not None:
            raised[event.task] = event
        elif isinstance(event, ResultReceived) and event.error is not None:
            origin = raised.get(event.task)
            source = places.get(origin.lane) if origin is not None else None
            if origin is None or source is None or main is None:
                continue
            flow += 1
            at = max(_ts(origin.t) - SLIVER, 0.0)  # a raise at 0 s anchors just after it
            back = _ts(event.t)
            why = {"why": event.why}
            yield _anchor(f"raise {origin.error}", at, source, {"why": origin.why})
            yield _flow("s", flow, at + SLIVER / 2, source, origin.error)
            yield _anchor(f"re-raise {event.error}", back, main, why)
            yield _flow("f", flow, back + SLIVER / 2, main, origin.error)


def _anchor(name: str, ts: float, place: _Place, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "cat": "exception",
        "ph": "X",
        "ts": round(ts, 3),
        "dur": SLIVER,
        "pid": place.pid,
        "tid": place.tid,
        "args": args,
    }


def _flow(phase: str, flow: int, ts: float, place: _Place, error: str) -> dict[str, Any]:
    record = {
        "name": error,
        "cat": "exception",
        "ph": phase,
        "id": flow,
        "ts": round(ts, 3),
        "pid": place.pid,
        "tid": place.tid,
    }
    if phase == "f":
        record["bp"] = "e"  # bind to the enclosing slice (the re-raise), not the next one
    return record


def write_trace(
    path: str | Path, events: Sequence[Event], *, now: float | None = None, overwrite: bool = True
) -> Path:
    """Write ``chrome_trace(events)`` to ``path`` as JSON; return the absolute path. With
    ``overwrite=False`` an existing file is never replaced: FileExistsError."""
    target = Path(path).expanduser().resolve()
    text = json.dumps(chrome_trace(events, now=now), default=str, ensure_ascii=False)
    write_atomically(target, text + "\n", overwrite=overwrite)
    return target
