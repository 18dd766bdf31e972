"""A live session: a scenario's program run on CPython, its records turned into events.

``LiveSession`` is the live counterpart of ``concsim.engine.Simulation``: the same scenario,
variant and injections in, the same event vocabulary out. Faults from the file (``at`` and
``when``), from ``--inject`` and from the app land on the real program: ``fail``, ``hang``,
``timeout`` and ``cancel`` through the probe, ``kill`` as SIGKILL to the worker process,
``interrupt`` as SIGINT to the program's main process.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from concsim.engine import Injection
from concsim.events import Event
from concsim.live.anchors import CATCH_UP, KillAnchor, kill_anchors, take_anchor
from concsim.live.interpreters import require
from concsim.live.plan import plan_of
from concsim.live.runner import LiveRun, Record
from concsim.live.translate import Translator
from concsim.scenario.model import Scenario

DEFAULT_LIMIT = 60.0
"""Seconds a headless live run may last before it is called hung and stopped."""


class LiveSession:
    """One live run. ``on_events`` (if given) gets each batch of new events, from a thread."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        variant: str | None = None,
        seed: int | None = None,
        injections: Iterable[Any] = (),
        on_events: Callable[[list[Event]], None] | None = None,
        program: Any = None,
        python: str | None = None,
    ) -> None:
        """``program`` is a ``concsim.codegen.Program``; by default, the scenario's own."""
        from concsim.codegen import program as generate

        self.source = scenario
        self.variant = variant
        self.scenario = scenario.variant(variant)
        self.seed = scenario.seed if seed is None else seed
        self.program = program if program is not None else generate(scenario, variant=variant)
        self.plan = plan_of(self.program, self.scenario)
        self.on_events = on_events
        self.translator = Translator(
            self.scenario,
            self.program.sites,
            name=scenario.name,
            variant=variant,
            seed=self.seed,
            tasks={name: site.spec for name, site in self.program.tasks.items()},
        )
        self.injections = list(injections)
        self.timed: list[tuple[float, str, str, str]] = []
        self.hooks: dict[tuple[str, int], list[tuple[str, str, str]]] = {}
        for fault in self.scenario.faults:
            if fault.at is not None:
                self.timed.append((fault.at / 1e6, fault.fault.value, fault.target, fault.error))
            elif fault.when is not None:
                key = (fault.when.task, fault.when.step)
                self.hooks.setdefault(key, []).append(
                    (fault.fault.value, fault.target, fault.error)
                )
        for injection in self.injections:
            self.timed.append((injection.at, injection.fault, injection.target, injection.error))
        self.timed.sort(key=lambda item: item[0])
        self.pids: dict[str, int] = {}  # task instance -> the pid it runs in
        self.lock = threading.RLock()
        self.caught_up = threading.Condition(self.lock)  # notified at each record
        # ``python``: the interpreter to run the program on, by default the CPython the
        # scenario's machine.python names (a 3.12 variant never runs on 3.11)
        if python is None:
            label = scenario.name + (f" --variant {variant}" if variant else "")
            python = require(self.scenario.machine.python, label)
        self.run = LiveRun(self.plan, on_record=self._record, python=python)
        self.exited = False
        self.finished = False

    @property
    def events(self) -> list[Event]:
        return self.translator.events

    # --- records in, events out ---------------------------------------------------------

    def _record(self, record: Record) -> None:
        with self.lock:
            kind = record["k"]
            if kind == "begin":
                self.pids[record["task"]] = record["pid"]
            elif kind == "line":
                self._step_hooks(record)
            new = self.translator.feed(record)
            self.caught_up.notify_all()
        if new and self.on_events is not None:
            self.on_events(new)

    def _step_hooks(self, record: Record) -> None:
        site = self.program.sites.get(record["line"])
        if site is None or site.path[:1] != ("steps",) or len(site.path) != 2:
            return
        for fault, target, error in self.hooks.pop((record["task"], int(site.path[1])), ()):
            threading.Thread(target=self.inject, args=(fault, target, error), daemon=True).start()

    # --- faults -------------------------------------------------------------------------

    def inject(
        self, fault: str, target: str, error: str = "RuntimeError", *, running: str | None = None
    ) -> None:
        """Apply a fault to the running program now. ``running``: for ``kill``, the task
        whose process dies, where the simulator has it running in the target
        (``concsim.live.anchors``)."""
        if self.run.closed or self.run.process is None:
            return
        now = time.monotonic()
        record: Record = {"k": "fault", "t": now, "fault": fault, "target": target}
        record["error"] = error
        with self.lock:
            task = self._task_of(target)
            if fault == "interrupt":
                self.run.interrupt()
            elif fault == "kill":
                pid = self.pids.get(running) if running is not None else None
                if pid is None or pid == self.translator.main_pid:
                    pid = self._pid_of(target, task)
                if pid is None:
                    record["reason"] = self._kill_refusal(target, task)
                else:
                    self._record(record)
                    self.run.signal(pid, signal.SIGKILL)
                    self._record({"k": "killed", "t": time.monotonic(), "killed": pid})
                    return
            elif fault in ("fail", "hang") and task is not None and self._pid_of(target, task):
                pid = self._pid_of(target, task)
                assert pid is not None
                record["id"] = self.run.order(pid, fault, task, error)
                if record["id"] == -1:
                    record["reason"] = f"{task} is not running in a worker process now"
            else:
                record["id"] = self.run.command(fault, task or target, error)
            self._record(record)

    def _task_of(self, target: str) -> str | None:
        if target in self.translator.tracks:
            return target
        return self.translator.lane_task.get(target)

    def _pid_of(self, target: str, task: str | None) -> int | None:
        main_pid = self.translator.main_pid
        if target.startswith("process-"):
            for pid, lane in self.translator.processes.items():
                if lane == target:
                    return pid
        found = self.pids.get(task) if task else None
        return found if found is not None and found != main_pid else None

    def _kill_refusal(self, target: str, task: str | None) -> str:
        if task is not None and task in self.pids:
            return "threads and coroutines cannot be killed; only a process can"
        return f"{target} is not running in a worker process"

    # --- running ------------------------------------------------------------------------

    def start(self) -> None:
        self.run.start()

    def run_to_end(self, limit: float = DEFAULT_LIMIT) -> list[Event]:
        """Run the program with its timed faults; returns every event."""
        self.start()
        try:
            self.drive(limit)
        finally:
            self.close()
        return self.events

    def drive(self, limit: float = DEFAULT_LIMIT) -> None:
        """Apply the timed faults as their times come; return when the program exits or
        ``limit`` seconds after it started (``exited`` says which)."""
        if not self.run.wait_started(timeout=30.0):
            raise RuntimeError(f"the program did not start:\n{self.run.stderr}")
        anchors = self._kill_anchors()
        for at, fault, target, error in self.timed:
            delay = at - self.run.now
            if delay > 0 and self.run.wait(delay):
                break
            anchor = take_anchor(anchors, at, target) if fault == "kill" else None
            if anchor is not None:
                self._catch_up(anchor)
            self.inject(fault, target, error, running=anchor.task if anchor else None)
        self.exited = self.run.wait(max(0.0, limit - self.run.now))

    def _kill_anchors(self) -> list[KillAnchor]:
        """What the simulator's timed kills land on (none to ask about: no simulation)."""
        if not any(fault == "kill" for _, fault, _, _ in self.timed):
            return []
        injections = [Injection(i.at, i.fault, i.target, i.error) for i in self.injections]
        return kill_anchors(self.scenario, self.seed, injections)

    def _catch_up(self, anchor: KillAnchor) -> None:
        """Wait (at most ``CATCH_UP`` s) until the program has started and ended every
        task the simulator had started and ended when its kill landed, or has exited."""
        tracks = self.translator.tracks

        def reached() -> bool:
            if self.run.closed or self.translator.exit_t is not None:
                return True
            started = all(
                tracks[task].started is not None or tracks[task].ended
                for task in anchor.started
                if task in tracks
            )
            return started and all(tracks[task].ended for task in anchor.ended if task in tracks)

        with self.caught_up:
            self.caught_up.wait_for(reached, timeout=CATCH_UP)

    def close(self) -> None:
        """Stop the program (if still running), then close the event stream."""
        self.run.close()
        with self.lock:
            if not self.finished and self.translator.t0 is not None:
                self.finished = True
                new = self.translator.finish(self.exited)
                if new and self.on_events is not None:
                    self.on_events(new)
