"""The probe's records, turned into the simulator's events (``concsim.events``).

A record says what one process or thread of the real program did, stamped with
``time.monotonic()``; the translator gives it a lane (``main``, ``thread-N`` in the order
threads first run program code, ``process-N`` in the order workers were forked, and in
asyncio each task's own lane), a time ``t`` in seconds since the program started, and a
place in the total order. What the probe cannot see is not invented: there are no
``GilChanged`` events (who holds the GIL is not observable from Python), no ``GIL_WAIT`` or
``CORE_WAIT`` states, and a lane is ``running`` from the line of a ``cpu`` step until its
next line, even while the thread waits for the GIL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from concsim.events import (
    CancelDelivered,
    CancelRequested,
    CleanupStarted,
    Event,
    ExceptionChained,
    ExceptionRaised,
    FaultInjected,
    FaultRefused,
    FutureChanged,
    FutureState,
    LaneKind,
    LaneState,
    LockAcquired,
    LockReleased,
    LockWaited,
    MainEnded,
    OutputWritten,
    Phase,
    PhaseBegan,
    PhaseEnded,
    ProcessExited,
    ProcessKilled,
    QueueGot,
    QueuePut,
    ResultPicklingFailed,
    ResultReceived,
    RunEnded,
    RunStarted,
    SharedWritten,
    TaskEnded,
    TaskStarted,
    TaskSubmitted,
    TimeoutExpired,
    WarningIssued,
)
from concsim.live.lanes import STATE_OF_KIND, Record, TaskTrack
from concsim.live.pool_records import PoolRecords
from concsim.scenario.model import Model, Scenario


class Translator(PoolRecords):
    """Folds records, in arrival order, into events with non-decreasing ``t``."""

    def __init__(
        self,
        scenario: Scenario,
        sites: Mapping[int, Any],
        *,
        name: str,
        variant: str | None,
        seed: int,
        tasks: Mapping[str, str],
    ) -> None:
        super().__init__()
        self.scenario = scenario
        self.sites = sites
        self.asyncio = scenario.program.model is Model.ASYNCIO
        self.header = {"scenario": name, "variant": variant, "seed": seed, "tasks": tuple(tasks)}
        self.tracks = {task: TaskTrack(task, spec) for task, spec in tasks.items()}
        self.coroutines: dict[str, str] = {}  # asyncio task name (Task-3) -> task instance
        self.holders: dict[str, str] = {}  # lock -> lane holding it
        self.main_end: Record | None = None
        self.main_reported = False
        self.exit_t: float | None = None
        self.faults: dict[int, tuple[str, str]] = {}
        self.last_task: dict[str, str] = {}  # lane -> the last task it started

    # --- records ------------------------------------------------------------------------

    def feed(self, record: Record) -> list[Event]:
        """Translate one record; returns the events it produced."""
        start = len(self.events)
        t = self._t(record)
        handler = getattr(self, f"_on_{record['k']}", None)
        if handler is not None:
            handler(record, t)
        return self.events[start:]

    def _on_start(self, record: Record, t: float) -> None:
        self.main_pid, self.main_tid = record["pid"], record["main_tid"]
        self.lanes[(self.main_pid, self.main_tid)] = "main"
        scenario = self.scenario
        self.emit(
            RunStarted,
            t,
            model=scenario.program.model.value,
            gil=True,  # CPython as it is run here has a GIL, whatever the file says
            shared=tuple(sorted(scenario.shared.items())),
            **self.header,
        )
        if self.asyncio:
            self._lane("loop", t, LaneKind.LOOP, "event loop", "main")
            self._lane("main", t, LaneKind.MAIN, "main()", "main")
        else:
            self._lane("main", t, LaneKind.MAIN, "main thread", "main")
        self._state("main", t, LaneState.RUNNING, None)

    def _on_fork(self, record: Record, t: float) -> None:
        self._process(record["pid"], t)

    def _on_submit(self, record: Record, t: float) -> None:
        task = record["task"]
        self.emit(TaskSubmitted, t, task=task, how=record["how"])
        self.emit(FutureChanged, t, task=task, state=FutureState.PENDING)
        if record.get("coro"):
            self.coroutines[record["coro"]] = task
            # asyncio.create_task(coro, name=...) names the task only once the loop has
            # made it (Lib/asyncio/tasks.py): from then on it prints under that name
            self.coroutines[task] = task
            self._lane(task, t, LaneKind.COROUTINE, task, "main")
            self.lane_task[task] = task
            self._state(task, t, LaneState.QUEUED, "created")

    def _on_begin(self, record: Record, t: float) -> None:
        task = record["task"]
        track = self.tracks[task]
        if record.get("coro"):
            # an eager task (3.12's eager_task_factory) begins inside create_task, before
            # its submit is recorded: what it prints then is the task's
            self.coroutines.setdefault(record["coro"], task)
            lane = self._lane(task, t, LaneKind.COROUTINE, task, "main")
        else:
            lane = self.lane_of(record, t)
        track.lane, track.pid, track.started = lane, record["pid"], t
        self.last_task[lane] = task
        self.lane_task[lane] = task
        self.emit(TaskStarted, t, task=task, lane=lane)
        self.emit(FutureChanged, t, task=task, state=FutureState.RUNNING)
        self._state(lane, t, LaneState.RUNNING, task)

    def _on_line(self, record: Record, t: float) -> None:
        site = self.sites.get(record["line"])
        if site is None:
            return
        task = record["task"]
        if task == "main":
            lane = "main"
        else:
            track = self.tracks[task]
            lane = track.lane or self.lane_of(record, t)
            kind = str(site.kind)
            if site.path[:1] == ("steps",):
                track.last_kind = kind
            if site.path[:1] == ("cleanup",) and not track.cleanup:
                track.cleanup = True
                self.emit(CleanupStarted, t, task=task, lane=lane)
                self._state(lane, t, LaneState.CLEANUP, site.label)
                return
        state = STATE_OF_KIND.get(str(site.kind))
        if state is not None:
            if self.asyncio and str(site.kind) in ("blocking", "cpu", "native"):
                state = LaneState.RUNNING
            self._state(lane, t, state, site.label)

    def _on_exc(self, record: Record, t: float) -> None:
        task = record["task"]
        lane = "main" if task == "main" else (self.tracks[task].lane or "main")
        track = self.tracks.get(task)
        if track is not None:
            if track.raised == (record["error"], record["message"]):
                return  # the same exception, passing through a finally block
            track.raised = (record["error"], record["message"])
        site = self.sites.get(record.get("line", 0))
        self.emit(
            ExceptionRaised,
            t,
            lane=lane,
            task=None if task == "main" else task,
            error=record["error"],
            message=record["message"],
            step=site.label if site is not None else None,
        )

    def _on_end(self, record: Record, t: float) -> None:
        track = self.tracks[record["task"]]
        error = record["error"]
        if error == "?":
            # It left by an exception the tracer did not see (thrown in at an await): the
            # task's future, reported next, says which.
            track.unknown_end = t
            return
        if error is None:
            track.value = record["value"]
            stopped = record.get("stopped") and track.last_kind == "check_stop"
            outcome = "cancelled" if stopped else "ok"
        elif error == "CancelledError":
            outcome = "cancelled"
        else:
            outcome = "failed"
        self._end(track, t, outcome, error)

    def _end(self, track: TaskTrack, t: float, outcome: str, error: str | None) -> None:
        if track.ended:
            return
        track.ended, track.outcome = True, outcome
        cleanup = "ran" if track.cleanup else "none"
        if outcome == "killed" and self._has_cleanup(track.name):
            cleanup = "skipped"
        lane = track.lane
        if lane is not None:
            final = {
                "ok": LaneState.DONE,
                "failed": LaneState.FAILED,
                "cancelled": LaneState.CANCELLED,
                "killed": LaneState.KILLED,
                "hung": LaneState.HUNG,
            }.get(outcome)
            if outcome == "cancelled" and error is None:
                final = LaneState.STOPPED  # returned at its stop check, as the simulator says
            if final is not None:
                self._state(lane, t, final, track.name)
        self.emit(TaskEnded, t, task=track.name, outcome=outcome, error=error, cleanup=cleanup)
        if lane == "main":
            self.lane_task[lane] = None  # a sequential program's main goes on by itself
        elif lane is not None and lane.startswith(("thread-", "process-")) and outcome != "hung":
            self.lane_task[lane] = None
            self._state(lane, t, LaneState.IDLE, None)

    def _has_cleanup(self, task: str) -> bool:
        spec = self.tracks[task].spec
        return any(
            site.owner == spec and site.path[:1] == ("cleanup",) for site in self.sites.values()
        )

    def _on_future(self, record: Record, t: float) -> None:
        track = self.tracks[record["task"]]
        state = FutureState(record["state"])
        if self._unsent(track, state, record["error"]):
            self.emit(
                ResultPicklingFailed,
                t,
                lane=track.lane,
                task=track.name,
                error=record["error"],
                message=record["message"],
            )
        self.emit(FutureChanged, t, task=track.name, state=state, error=record["error"])
        if track.ended:
            return
        if track.unknown_end is not None:
            outcome = {"cancelled": "cancelled", "failed": "failed"}.get(state.value, "ok")
            error = "CancelledError" if outcome == "cancelled" else record["error"]
            self._end(track, t, outcome, error)
        elif track.killed or (track.started is not None and record["error"] == "BrokenProcessPool"):
            self._end(track, t, "killed", record["error"])
        elif track.started is None:
            if state is FutureState.CANCELLED:
                self._end(track, t, "cancelled", "CancelledError")
            else:
                self._end(track, t, "never_started", record["error"])

    def _unsent(self, track: TaskTrack, state: FutureState, error: str | None) -> bool:
        """A task that returned in a worker process, whose future failed all the same: the
        worker could not pickle the value and sent the pickling error instead (CPython
        3.11-3.13, ``_sendback_result``: ``_ExceptionWithTraceback``); the pool goes on. A
        pool that broke (``BrokenProcessPool``) is told otherwise."""
        in_worker = track.pid is not None and track.pid != self.main_pid
        return (
            in_worker
            and track.outcome == "ok"
            and state is FutureState.FAILED
            and error not in (None, "BrokenProcessPool")
        )

    def _on_received(self, record: Record, t: float) -> None:
        value = record["value"]
        task = next(
            (
                track.name
                for track in self.tracks.values()
                if track.value == value and not track.received
            ),
            None,
        )
        if task is not None:
            self.tracks[task].received = True
        self.emit(ResultReceived, t, task=task or "?", value=value)

    def _on_value(self, record: Record, t: float) -> None:
        self.tracks[record["task"]].value = record["value"]

    def _on_read(self, record: Record, t: float) -> None:
        if record["error"] is not None:
            self.emit(ResultReceived, t, task=record["task"], error=record["error"])

    def _on_shared(self, record: Record, t: float) -> None:
        task = record["task"]
        lane = "main" if task == "main" else (self.tracks[task].lane or "main")
        self.emit(
            SharedWritten,
            t,
            lane=lane,
            task=None if task == "main" else task,
            name=record["name"],
            value=record["value"],
        )

    def _on_lock(self, record: Record, t: float) -> None:
        lane = self.lane_of(record, t)
        lock = record["lock"]
        match record["op"]:
            case "acquired":
                self.holders[lock] = lane
                self.emit(LockAcquired, t, lane=lane, lock=lock)
            case "waited":
                self.emit(LockWaited, t, lane=lane, lock=lock, holder=self.holders.get(lock, "?"))
                self._state(lane, t, LaneState.BLOCKED, f"acquire {lock}")
            case _:
                self.holders.pop(lock, None)
                self.emit(LockReleased, t, lane=lane, lock=lock)

    def _on_queue(self, record: Record, t: float) -> None:
        lane = self.lane_of(record, t)
        kind = QueuePut if record["op"] == "put" else QueueGot
        self.emit(kind, t, lane=lane, queue=record["queue"], value=record["value"])

    def _on_out(self, record: Record, t: float) -> None:
        coro = self.coroutines.get(record.get("coro") or "")
        if coro is not None:  # printed by a task's coroutine (asyncio.current_task())
            self.emit(OutputWritten, t, lane=coro, task=coro, text=record["text"])
            return
        lane = self.lane_of(record, t)
        task = self.lane_task.get(lane)
        if task is None and lane.startswith(("thread-", "process-")):
            # What a thread or process prints as it exits (threading.excepthook,
            # multiprocessing's traceback) belongs to the last task it ran.
            task = self.last_task.get(lane)
        self.emit(OutputWritten, t, lane=lane, task=task, text=record["text"])

    def _on_main_end(self, record: Record, t: float) -> None:
        self.main_end = {**record, "at": t}
        if record.get("cause") is not None:  # raise ... from e: what the outcome's cause reads
            self.emit(
                ExceptionChained,
                t,
                lane="main",
                task=None,
                error=record["error"],
                cause=record["cause"],
            )
        if not self.asyncio:
            self._main_ended(t, record["error"], record["message"])
        # asyncio: Runner.run takes main()'s outcome, and asyncio.run() returns or raises
        # it only after Runner.close, the teardown (Lib/asyncio/runners.py): told at its end.

    def _main_ended(self, t: float, error: str | None, message: str) -> None:
        if self.main_reported:
            return
        self.main_reported = True
        step = "main() ended"
        if self.asyncio:
            step = "asyncio.run() raised" if error else "asyncio.run() returned"
        self._state("main", t, LaneState.FAILED if error else LaneState.DONE, step)
        self.emit(MainEnded, t, outcome="raised" if error else "ok", error=error, message=message)

    def _on_uncaught(self, record: Record, t: float) -> None:
        if record["error"] != "SystemExit" or not self.main_reported:
            self._main_ended(t, record["error"], record["message"])

    def _on_returned(self, record: Record, t: float) -> None:
        if self.main_end is not None:
            self._main_ended(t, self.main_end["error"], self.main_end["message"])

    def _on_unretrieved(self, record: Record, t: float) -> None:
        note = (
            " (asyncio logs 'Task exception was never retrieved' when the task is "
            "garbage-collected)"
            if self.asyncio
            else " (concurrent.futures says nothing: it is silently lost)"
        )
        self.emit(
            WarningIssued,
            t,
            message=f"exception in task {record['task']} was never retrieved: "
            f"{record['error']}{note}",
        )

    def _on_phase(self, record: Record, t: float) -> None:
        """A wind-down call began or ended (concsim.live.phases). The simulator tells no
        interpreter exit after ``asyncio.run()``, so neither does this."""
        phase = Phase(record["phase"])
        if phase is Phase.EXIT and self.asyncio:
            return
        lane = self.coroutines.get(record.get("coro") or "") or "main"
        kind = PhaseBegan if record["op"] == "begin" else PhaseEnded
        self.emit(kind, t, lane=lane, phase=phase, step=record["step"])
        end = self.main_end
        # After Ctrl-C, Runner.run turns main's CancelledError into KeyboardInterrupt: what
        # asyncio.run() raised is then told by the uncaught record.
        told = end is not None and end["error"] != "CancelledError"
        if phase is Phase.TEARDOWN and kind is PhaseEnded and told:
            assert end is not None
            self._main_ended(t, end["error"], end["message"])

    def _on_exit(self, record: Record, t: float) -> None:
        self.exit_t = t

    def _on_cancel_delivered(self, record: Record, t: float) -> None:
        coro: str = record["coro"]
        task = self.coroutines.get(coro) or coro
        track = self.tracks.get(task)
        if track is None:
            return
        site = self.sites.get(record["line"])
        self.emit(
            CancelDelivered,
            t,
            task=task,
            lane=track.lane or task,
            step=site.label if site is not None else None,
        )

    def _on_timed_out(self, record: Record, t: float) -> None:
        self.emit(TimeoutExpired, t, waiter=record["waiter"], on=record["on"])

    def _on_cancel(self, record: Record, t: float) -> None:
        accepted = bool(record["accepted"])
        reason = "it had not started, so it never will" if accepted else "it is running or done"
        self.emit(CancelRequested, t, task=record["task"], accepted=accepted, reason=reason)

    # --- what the parent adds: faults and kills -----------------------------------------

    def _on_fault(self, record: Record, t: float) -> None:
        self.faults[record.get("id", -1)] = (record["fault"], record["target"])
        error = record.get("error") if record["fault"] == "fail" else None
        self.emit(FaultInjected, t, fault=record["fault"], target=record["target"], error=error)
        if record.get("reason"):
            self._refused(t, record["fault"], record["target"], record["reason"])

    def _on_applied(self, record: Record, t: float) -> None:
        fault = self.faults.get(record["id"])
        if fault is not None and record.get("reason"):
            self._refused(t, fault[0], fault[1], record["reason"])

    def _refused(self, t: float, fault: str, target: str, reason: str) -> None:
        self.emit(FaultRefused, t, fault=fault, target=target, reason=reason)

    def _on_killed(self, record: Record, t: float) -> None:
        lane = self._process(record["killed"], t)
        running = [k for k in self.tracks.values() if k.pid == record["killed"] and not k.ended]
        task = running[0].name if running else None
        self.emit(ProcessKilled, t, lane=lane, task=task)
        for track in running:
            track.killed = True
        self._state(lane, t, LaneState.KILLED, None)

    def _on_os_exit(self, record: Record, t: float) -> None:
        """main called ``os._exit(n)``: the process ends now, its threads with it."""
        for track in self.tracks.values():
            if track.started is not None and not track.ended and track.pid == self.main_pid:
                track.killed = True
                self._end(track, t, "killed", None)
        self.main_reported = True
        self.exit_t = t
        self._state("main", t, LaneState.DONE, f"os._exit({record['code']})")
        self.emit(MainEnded, t, outcome="exited", error=None, message=str(record["code"]))

    def _on_exited(self, record: Record, t: float) -> None:
        """The parent joined a ``multiprocessing.Process``: its exitcode. A negative one is
        the signal that ended it; a task it ran that never reported its end was killed."""
        track = self.tracks[record["task"]]
        code = record["exitcode"]
        lane = self._process(record["child"], t)
        if code < 0:
            track.killed = True
            self._end(track, t, "killed", None)
        signal = {-15: "SIGTERM", -9: "SIGKILL"}.get(code)
        self.emit(ProcessExited, t, lane=lane, task=track.name, exitcode=code, signal=signal)

    # --- the end ------------------------------------------------------------------------

    def finish(self, exited: bool) -> list[Event]:
        """Close the run: what never ended is ``hung`` or ``never_started``."""
        start = len(self.events)
        t = self.exit_t if self.exit_t is not None else self.last
        if not self.main_reported:
            if self.main_end is not None:
                self._main_ended(
                    self.main_end["at"], self.main_end["error"], self.main_end["message"]
                )
            elif not exited:
                self.main_reported = True
                self._state("main", self.last, LaneState.HUNG, None)
                self.emit(MainEnded, self.last, outcome="hung", error=None)
        elif not exited:
            self.emit(
                WarningIssued,
                self.last,
                message=(
                    "the program never exits: the interpreter waits at exit for threads that "
                    "will never finish"
                ),
            )
        for track in self.tracks.values():
            if not track.ended:
                if track.killed:
                    self._end(track, self.last, "killed", None)
                elif track.started is not None:
                    self._end(track, self.last, "hung", None)
                else:
                    self._end(track, self.last, "never_started", None)
        elapsed = t if exited else self.last
        self.emit(
            RunEnded, max(t, self.last) if exited else self.last, elapsed=elapsed, hung=not exited
        )
        return self.events[start:]
