"""The rounds of a ``repeat``, and a stretch of plain Python code run in one frame.

``for _ in range(n): <steps>`` runs its rounds in one generator (``Stretches._rounds``):
each inner step's call (``Interpreter._make_call``) either ran at once or gives what to
``yield from``.

Most of a race lesson is a loop of plain Python code: ``tmp = counter``, some work,
``counter = tmp + 1``. A thread that holds the GIL and a core runs such code back to back
until its eval breaker is tripped: CPython's ``take_gil`` (Python/ceval_gil.c) has a waiter
set ``gil_drop_request`` when its timed wait runs out, and the holder's next check in
``_Py_HandlePending`` calls ``drop_gil``. Until then nothing can stop it. The model does the
same: while a thread's ``cpu`` steps run ahead of the clock (engine/ahead.py), its ``read``,
``write`` and further ``cpu`` steps run in this one frame, without a call through each
step's closure, as long as each ends before the first work due on the clock. That instant
(the drop timer of a waiter's ``take_gil``, a time slice, a fault, another lane's timer)
is read once, when the first step runs ahead (``RunAhead.horizon``), and each later step
is a comparison against it. The events, their order and the random draws are those of the
steps run one call at a time: only the calls are fewer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from concsim.events import LaneState, LaneStateChanged, SharedRead, SharedWritten
from concsim.scenario import model as m

from ..code import Code
from ..flow import BreakLoop, ContinueLoop
from ..labels import fill_label, names_its_run
from ..runtime import Actor, BudgetSpent, Lane, TaskRun
from ..world import World
from .ties import Chance


class Plain(Enum):
    """A step of plain Python code: what a stretch runs in its own frame."""

    CPU = "cpu"
    READ = "read"
    WRITE = "write"


Op = tuple[Plain, Any, int, str, bool]
"""(kind, the ``cpu`` microseconds or the variable's name, ``add`` of a write, label,
whether the label is filled per task instance)."""

_RUNNING = LaneState.RUNNING
_CPU, _READ = Plain.CPU, Plain.READ  # module constants: no attribute lookup per step


class Stretches(Code):
    """``repeat``'s rounds; those of plain Python code as a stretch (see the module)."""

    fills: bool
    shared: dict[str, int]
    locals: dict[tuple[str, str], int]
    steps_run: int
    max_steps: int
    _calls: dict[int, Any]

    if TYPE_CHECKING:

        def _call(self, step: m.Step) -> Any: ...

        def _label(self, step: Any) -> str: ...

        def read(self, lane: Lane, run: TaskRun | None, name: str) -> None: ...

        def write(self, lane: Lane, run: TaskRun | None, name: str, add: int) -> None: ...

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self._plain: dict[int, tuple[Op, ...] | None] = {}  # per repeat step: _plain_ops

    def _rounds(
        self, lane: Lane, run: TaskRun | None, step: m.RepeatStep, consumed: list[Any]
    ) -> Actor:
        """The rounds of a ``repeat``, each inner step run in this one generator."""
        ops = self._plain_ops(step)
        if ops is not None:
            return self._stretch(lane, run, ops, step.repeat)
        return self._called_rounds(lane, run, step, consumed)

    def _called_rounds(
        self, lane: Lane, run: TaskRun | None, step: m.RepeatStep, consumed: list[Any]
    ) -> Actor:
        body = [self._calls.get(id(inner)) or self._call(inner) for inner in step.steps]
        for _ in range(step.repeat):
            try:
                for call in body:
                    self.steps_run += 1  # _count_step, inline: the innermost loop of most runs
                    if self.steps_run > self.max_steps:
                        raise BudgetSpent(f"{self.max_steps} steps")
                    got = call(lane, run, consumed)
                    if got:  # a step that ran at once gives DONE, (): nothing to wait for
                        yield from got
            except BreakLoop:
                break
            except ContinueLoop:
                continue

    def _plain_ops(self, step: m.RepeatStep) -> tuple[Op, ...] | None:
        """The inner steps of ``step`` as ops if all are plain Python code, else None;
        worked out once per ``repeat`` of the scenario."""
        cache, key = self._plain, id(step)
        if key in cache:
            return cache[key]
        ops: list[Op] = []
        for inner in step.steps:
            # A label with {i} or {name} is filled per task instance (labels.py), when run.
            per_run = self.fills and names_its_run(inner.label)
            label = self._label(inner)
            match inner:
                case m.CpuStep():
                    ops.append((Plain.CPU, inner.cpu, 0, label, per_run))
                case m.ReadStep():
                    ops.append((Plain.READ, inner.read, 0, label, per_run))
                case m.WriteStep():
                    ops.append((Plain.WRITE, inner.write, inner.add, label, per_run))
                case _:
                    cache[key] = None
                    return None
        found = cache[key] = tuple(ops)
        return found

    def _stretch(self, lane: Lane, run: TaskRun | None, ops: Sequence[Op], times: int) -> Actor:
        """``times`` rounds of ``ops``: each step as its call would run it (ahead of the
        clock when nothing can interrupt it, else through ``Cores.cpu`` and ``ensure_gil``),
        the steps after one that ran ahead checked against the horizon read then."""
        world = self.world
        clock = world.clock
        body = [(k, a, n, fill_label(s, run) if filled else s) for k, a, n, s, filled in ops]
        vary, seeded = _cpu_draw(world)
        low, span, random = seeded if seeded is not None else (0.0, 0.0, None)
        quiet_states, quiet_reads, quiet_writes = _unkept(world)
        shared, values = self.shared, self.locals
        max_steps, max_events = self.max_steps, world.max_events
        horizon = -1  # while >= 0: this frame runs ahead, and nothing is due until then
        for _ in range(times):
            for kind, arg, add, label in body:
                self.steps_run += 1
                if self.steps_run > max_steps:
                    raise BudgetSpent(f"{max_steps} steps")
                if kind is _CPU:
                    if random is not None:  # Cores.cpu_varied, inline (_cpu_draw)
                        duration = round(arg * (1 + (low + span * random()))) if arg else arg
                    else:
                        duration = vary(arg) if vary is not None else arg
                    until = clock.now + duration
                    if horizon >= 0 and until <= horizon and world.emitted < max_events:
                        # RunAhead.cpu_at_once's round trip, inline: its conditions hold
                        # since the first step of this stretch ran ahead.
                        if quiet_states and not lane.in_cleanup:
                            # Driver.set_state of a thread when the run keeps no
                            # LaneStateChanged: the lane's state, and the event's number.
                            if lane.state is not _RUNNING or lane.step != label:
                                lane.state, lane.step = _RUNNING, label
                                world.emitted += 1
                        else:
                            world.set_state(lane, _RUNNING, label)
                        clock.now = until
                        lane.epoch += 1
                        world.steps_ahead += 1
                    elif world.cpu_at_once(lane, duration, label):
                        horizon = world.horizon()
                    else:
                        horizon = -1
                        yield from world.cpu(lane, duration, label)
                    continue
                if horizon < 0 and not world.gil_ready(lane):
                    yield from world.ensure_gil(lane)
                # SharedVariables.read and .write, inline when the run keeps not their
                # events (concsim explore): the values, and the event's number.
                if kind is _READ:
                    if quiet_reads:
                        values[(lane.id, arg)] = shared.get(arg, 0)
                        world.emitted += 1
                    else:
                        self.read(lane, run, arg)
                elif quiet_writes:
                    before = shared.get(arg, 0)
                    shared[arg] = values.pop((lane.id, arg), before) + add
                    world.emitted += 1
                else:
                    self.write(lane, run, arg, add)


def _unkept(world: World) -> tuple[bool, bool, bool]:
    """Whether the run keeps no LaneStateChanged, no SharedRead, no SharedWritten: a run
    that needs only its outcome (``Simulation(keep=...)``) counts them and builds none."""
    keep = world.keep
    if keep is None:
        return False, False, False
    return LaneStateChanged not in keep, SharedRead not in keep, SharedWritten not in keep


def _cpu_draw(
    world: World,
) -> tuple[Callable[[int], int] | None, tuple[float, float, Callable[[], float]] | None]:
    """How a stretch varies its ``cpu`` steps (``Cores.cpu_varied``): not at all without
    ``machine.cpu_jitter``; with the seed's own generator, by its formula inline (the
    second item: ``random.Random.uniform(a, b)`` is ``a + (b - a) * random()``, so the
    same floats, two calls less per step); with a recorded or scheduled generator
    (explore/schedule.py), through its own ``uniform`` (the first item)."""
    jitter = world.machine.cpu_jitter
    if not jitter:
        return None, None
    rng = world.rng
    if type(rng) is not Chance:
        return world.cpu_varied, None
    return None, (-jitter, jitter - -jitter, rng.random)
