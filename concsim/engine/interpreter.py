"""Steps of a task or of the main program, executed on a lane: the program's own code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, assert_never

from concsim.events import (
    Cleanup,
    CleanupStarted,
)
from concsim.limits import DEFAULT_MAX_EVENTS
from concsim.scenario import model as m

from .flow import FLOW_STEPS, BreakLoop, ContinueLoop, Flow, Returned, Stopped
from .labels import names_its_run, per_run
from .output import Output
from .runtime import Actor, BudgetSpent, Lane, SimError, TaskRun
from .shared import SharedVariables
from .threads.acquiring import Acquiring
from .threads.queue import Queues
from .threads.stretch import Stretches
from .threads.waiting import PrimitiveStep, Waiting
from .world import World

STOP = "stop"
"""The event ``check_stop`` reads and ``set_stop`` sets: ``events: {stop: {}}`` declares it
(and makes it one a ``wait`` can use too); undeclared, it is the program's own."""
TREE_STEPS = (
    m.CreateTaskStep,
    m.AwaitStep,
    m.GatherStep,
    m.TaskGroupStep,
    m.CancelStep,
    m.WithinStep,
    m.ShieldStep,
    m.RescheduleStep,
)


@dataclass
class TaskResult:
    value: Any = None
    error: SimError | None = None
    cleanup: Cleanup = Cleanup.NONE
    stopped: bool = False  # returned early at a check_stop: reported as cancelled


Done = tuple[()]
DONE: Done = ()
"""What a step that finished at once gives to ``yield from``: nothing to wait for."""

StepCall = Callable[[Lane, "TaskRun | None", list[Any]], "Actor | Done"]
"""A step made ready to run (``Interpreter._make_call``), once per step of the scenario:
called with the lane, its task run and the items consumed so far, it returns what to
``yield from``: the step's generator, or ``DONE`` when it ran at once."""


MainStep = Callable[[Lane, Any], Actor]
"""How the main program runs one of its own steps (submit, collect, shutdown)."""


class Interpreter(Waiting, Acquiring, Queues, Flow, Stretches, SharedVariables, Output):
    """Runs steps; owns the program's shared variables, locks, queues and output."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        scenario = world.scenario
        self.shared: dict[str, int] = dict(scenario.shared)
        self.locals: dict[tuple[str, str], int] = {}
        self.step_hooks: dict[tuple[str, int], list[Callable[[], None]]] = {}
        self.stop_set = False  # the program's shared threading.Event
        self._labels: dict[int, str] = {}  # step_label per step object (they live as long)
        self._waits: dict[int, tuple[tuple[int, str], ...]] = {}  # per repeat step: _waits_of
        self._calls: dict[int, StepCall] = {}  # how each step runs, per step object
        self.steps_run = 0
        self.max_steps = DEFAULT_MAX_EVENTS  # the simulation sets its own budget
        self.main_step: MainStep | None = None  # the model's submit/collect/shutdown

    # --- a task's life ------------------------------------------------------------------

    def run_task(self, lane: Lane, run: TaskRun) -> Actor:
        """The task's function: its steps in ``try``, its cleanup in ``finally``."""
        consumed: list[Any] = []
        # The result is made once the body is done, not before: one object fewer per
        # running task for the garbage collector to track.
        try:
            yield from self.run_body(lane, run, run.spec.steps, consumed, True)
            result = TaskResult(consumed if consumed and run.spec.returns is None else run.value)
        except Stopped:
            # ``if stop.is_set(): return`` -- returns None, no error
            result = TaskResult(stopped=True)
        except Returned as returned:
            result = TaskResult(self.fill_value(lane, run, returned.value))
        except SimError as error:
            if error.error in run.spec.catches:
                # except (...): pass -- swallowed; the function returns normally
                result = TaskResult(
                    consumed if consumed and run.spec.returns is None else run.value
                )
            else:
                result = TaskResult(error=error)
        if run.spec.cleanup:
            self.world.emit(CleanupStarted, task=run.name, lane=lane.id)
            lane.in_cleanup = True
            try:
                yield from self.run_body(lane, run, run.spec.cleanup, consumed, False)
            except Stopped:
                # a return inside finally: returns None and drops any exception in flight
                result.stopped, result.error, result.value = True, None, None
            except Returned as returned:
                result.error = None
                result.value = self.fill_value(lane, run, returned.value)
            except SimError as error:
                result.error = error  # an exception in finally replaces the one in flight
            finally:
                lane.in_cleanup = False
            result.cleanup = Cleanup.RAN
        return result

    def run_body(
        self, lane: Lane, run: TaskRun, steps: Sequence[Any], consumed: list[Any], top: bool
    ) -> Actor | Done:
        """``run_steps``, yielded from at once: a block of one step (and no step hooks) is
        that step's own actor, so a function of one statement resumes through a frame less."""
        if len(steps) != 1 or (top and self.step_hooks):
            return self.run_steps(lane, run, steps, consumed, top=top)
        self._count_step()
        return (self._calls.get(id(steps[0])) or self._call(steps[0]))(lane, run, consumed)

    def run_steps(
        self,
        lane: Lane,
        run: TaskRun | None,
        steps: Sequence[Any],
        consumed: list[Any],
        *,
        top: bool = False,
    ) -> Actor:
        hooks = self.step_hooks if top and run is not None else None
        calls = self._calls
        for index, step in enumerate(steps):
            if hooks:
                assert run is not None
                for hook in hooks.get((run.name, index), ()):
                    hook()
            self._count_step()
            yield from (calls.get(id(step)) or self._call(step))(lane, run, consumed)

    def step(self, lane: Lane, run: TaskRun | None, step: m.Step, consumed: list[Any]) -> Actor:
        """One step of the program's code on ``lane``."""
        self._count_step()
        yield from (self._calls.get(id(step)) or self._call(step))(lane, run, consumed)

    def _count_step(self) -> None:
        # A loop of steps that take no time and record nothing runs inside one piece of
        # clock work, so only a count of the steps themselves can stop it.
        self.steps_run += 1
        if self.steps_run > self.max_steps:
            raise BudgetSpent(f"{self.max_steps} steps")

    def _call(self, step: m.Step) -> StepCall:
        """How ``step`` runs (calls.py), made once per step of the scenario: dispatching on
        its type once, not at every run of it, keeps a loop of steps cheap."""
        label, make = self._label(step), partial(self._make_call, step)
        per_task = self.fills and names_its_run(step.label)  # {i}, {name}: labels.py
        call: StepCall = per_run(make, label) if per_task else make(label)
        self._calls[id(step)] = call
        return call

    def _make_call(self, step: m.Step, label: str) -> StepCall:
        """``step`` as a ``StepCall``: ``(lane, run, consumed)`` in, what to ``yield from`` out."""
        world = self.world
        with_gil = self._with_gil
        if isinstance(step, TREE_STEPS):  # asyncio's task tree: coroutines/children.py
            return lambda lane, run, _: self._tree(lane, run, step, label)
        if self.fills and isinstance(step, m.RaiseStep | m.PutStep | m.PrintStep):
            return self.filled_call(step, label)  # version 2: {i}, {name}, {e} filled
        if isinstance(step, FLOW_STEPS):
            return self.flow_call(step)
        if isinstance(step, PrimitiveStep):  # an event, a barrier or a condition
            return self.primitive_call(step, label)
        if isinstance(step, m.MAIN_ONLY_STEPS):  # the model's own: in a block of main
            return lambda lane, run, _: self._main_step(lane, step, label)
        if isinstance(step, m.WithStep | m.TaskDoneStep | m.JoinStep | m.ExitStep):
            return self._more_call(step, label)
        match step:
            case m.CpuStep():
                return self._cpu_call(step.cpu, label)
            case m.ReadStep():
                return with_gil(self.read, step.read)
            case m.WriteStep():
                return with_gil(self.write, step.write, step.add)
            case m.RepeatStep():
                return lambda lane, run, consumed: self.repeat(lane, run, step, consumed)
            case m.SleepStep():
                return lambda lane, run, _: self.sleep(lane, step.sleep, label)
            case m.IoStep():
                return lambda lane, run, _: self.sleep(lane, step.io, label)
            case m.NativeStep():
                return lambda lane, run, _: world.native(lane, step.native, label)
            case m.BlockingStep():
                return lambda lane, run, _: self.off_the_loop(lane, step.blocking, label, False)
            case m.ToThreadStep():
                return lambda lane, run, _: self.off_the_loop(lane, step.to_thread, label, True)
            case m.RaiseStep():
                return with_gil(
                    lambda lane, run: self.raise_in(lane, run, step.raise_, step.message, label)
                )
            case m.AcquireStep():
                return self.acquire_call(step, label)
            case m.ReleaseStep():
                return with_gil(lambda lane, run: self.give_back(lane, step.release))
            case m.PutStep():
                return lambda lane, run, _: self.put(lane, step.put, step.value, label, *step.waits)
            case m.GetStep():
                return lambda lane, run, _: self.get(lane, step.get, label, *step.waits)
            case m.ConsumeStep():
                return lambda lane, run, consumed: self.consume(lane, run, step, consumed, label)
            case m.PrintStep():
                return lambda lane, run, _: self.write_output(lane, run, [step.print, "\n"], label)
            case m.LogStep():
                return lambda lane, run, _: self.write_log(lane, run, step, label)
            case m.SetStopStep():
                return with_gil(lambda lane, run: self._set_stop(lane))
            case m.CheckStopStep():
                return with_gil(self._check_stop)
            case _:
                assert_never(step)

    def _cpu_call(self, cpu: int, label: str) -> StepCall:
        """A ``cpu`` step: Python code for ``cpu`` us, varied by ``machine.cpu_jitter``."""
        world = self.world
        run_cpu, varied, at_once = world.cpu, world.cpu_varied, world.cpu_at_once
        jitter = bool(world.machine.cpu_jitter)  # without, the same duration every time

        def call(lane: Lane, run: TaskRun | None, consumed: list[Any]) -> Actor | Done:
            duration = varied(cpu) if jitter else cpu
            if at_once(lane, duration, label):  # nothing can interrupt it: done (ahead.py)
                return DONE
            return run_cpu(lane, duration, label)

        return call

    def _more_call(
        self, step: m.WithStep | m.TaskDoneStep | m.JoinStep | m.ExitStep, label: str
    ) -> StepCall:
        """How a ``with`` block, a queue's ``task_done`` or ``join``, or ``sys.exit`` runs."""
        match step:
            case m.WithStep():
                return self.with_call(step, label)
            case m.TaskDoneStep():
                return self._with_gil(lambda lane, run: self.task_done(lane, step.task_done))
            case m.JoinStep():
                return lambda lane, run, _: self.join(lane, step.join, label)
            case m.ExitStep():
                code = str(step.exit)
                return self._with_gil(
                    lambda lane, run: self.raise_in(lane, run, "SystemExit", code, label)
                )
            case _:
                assert_never(step)

    def _tree(self, lane: Lane, run: TaskRun | None, step: m.Step, label: str) -> Actor:
        """A step of the asyncio task tree (coroutines/children.py)."""
        aio = self.aio
        assert aio is not None, "the task tree is asyncio's (checked when the file is read)"
        return aio.tree_step(lane, run, step, label)

    def _with_gil(self, action: Callable[..., None], *args: Any) -> StepCall:
        """A step of Python code that takes no time: ``action(lane, run, *args)`` runs once
        the lane's thread holds the GIL, at once (no generator) when it already does."""
        gil_ready = self.world.gil_ready

        def call(lane: Lane, run: TaskRun | None, consumed: list[Any]) -> Actor | Done:
            if gil_ready(lane):
                action(lane, run, *args)
                return DONE
            return self._after_gil(lane, run, action, args)

        return call

    def _after_gil(
        self, lane: Lane, run: TaskRun | None, action: Callable[..., None], args: tuple[Any, ...]
    ) -> Actor:
        yield from self.world.ensure_gil(lane)
        action(lane, run, *args)

    def _main_step(self, lane: Lane, step: Any, label: str) -> Actor:
        if self.main_step is None:
            raise AssertionError(f"step {label!r} belongs to the main program's model")
        return self.main_step(lane, step)

    def _set_stop(self, lane: Lane) -> None:
        self.stop_set = True
        if STOP in self.events:  # a declared event named ``stop`` is the same Event
            self.set_event(lane, STOP)

    def _check_stop(self, lane: Lane, run: TaskRun | None) -> None:
        if run is not None and (run.stop_requested or self.stop_set or self.is_set(STOP)):
            raise Stopped()

    def consume(
        self, lane: Lane, run: TaskRun | None, step: m.ConsumeStep, consumed: list[Any], label: str
    ) -> Actor:
        """``for item in iter(q.get, None): <each>``."""
        while True:
            item = yield from self.get(lane, step.consume, label)
            if item is None:
                break
            consumed.append(item)
            try:
                yield from self.run_steps(lane, run, step.each, consumed)
            except BreakLoop:
                break
            except ContinueLoop:
                continue

    def repeat(
        self, lane: Lane, run: TaskRun | None, step: m.RepeatStep, consumed: list[Any]
    ) -> Actor:
        """``for _ in range(n): <steps>``."""
        aio = self.aio
        waits = self._waits_of(step)
        if waits and aio is not None and lane.thread is aio.loop:
            # ``for _ in range(n): await asyncio.sleep(...)``, the inner loop of most
            # asyncio models: all n rounds park in one generator instead of a new
            # ``step`` and ``await_io`` generator per await. Nothing between two awaits
            # changes (no step hooks run inside a repeat), so the events are the same.
            return aio.await_io(lane, waits, step.repeat)
        return self._rounds(lane, run, step, consumed)

    def _label(self, step: Any) -> str:
        label = self._labels.get(id(step))
        if label is None:
            label = self._labels[id(step)] = m.step_label(step)
        return label

    def _waits_of(self, repeat: m.RepeatStep) -> tuple[tuple[int, str], ...]:
        """(duration, label) of each nested step if all are sleeps or I/O waits, else ()."""
        waits = self._waits.get(id(repeat))
        if waits is None:
            found: list[tuple[int, str]] = []
            for inner in repeat.steps:
                if type(inner) is m.SleepStep:
                    found.append((inner.sleep, self._label(inner)))
                elif type(inner) is m.IoStep:
                    found.append((inner.io, self._label(inner)))
                else:
                    found.clear()
                    break
            if self.fills and any(names_its_run(inner.label) for inner in repeat.steps):
                found.clear()  # a label filled per task instance: each inner step's own call
            waits = self._waits[id(repeat)] = tuple(found)
        return waits
