"""The engine's public face: build a run, step it through virtual time, inject faults."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

from concsim.durations import format_time
from concsim.events import (
    Event,
    FaultRefused,
    LaneKind,
    LaneState,
    MainEnded,
    MainOutcome,
    RunEnded,
    RunStarted,
    WarningIssued,
)
from concsim.limits import DEFAULT_MAX_EVENTS
from concsim.scenario.model import Model, Scenario

from .clock import FAULT
from .coroutines import AsyncioModel
from .faults import Faults, Injection
from .interpreter import Interpreter
from .mainprog import MainProgram
from .recording import EventLog
from .runtime import BudgetSpent
from .runtime_core import Runtime
from .threads.ties import Chance
from .world import World


def _us(seconds: float) -> int:
    return round(seconds * 1_000_000)


class Simulation:
    """One deterministic run of a scenario: same scenario, seed and injections, same events."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        variant: str | None = None,
        seed: int | None = None,
        injections: Iterable[Injection] = (),
        max_events: int = DEFAULT_MAX_EVENTS,
        rng: Chance | None = None,
        choices: Mapping[int, str] | None = None,
        keep: Collection[type[Event]] | None = None,
    ) -> None:
        """``rng``: the run's random numbers, instead of ``Chance(seed)`` (a shrunk run
        replays its draws from one, see concsim.explore.schedule). ``choices``: who goes
        first at decision points, by their number (threads/ties.py). ``keep``: keep only
        the events of these types (``events`` then holds those, with their ``seq`` in the
        whole stream), for a run that needs no more than its outcome; ``run()`` it."""
        self.source = scenario
        self.max_events = max_events
        self.exhausted: str | None = None
        """Why the run was stopped short (its budget of events or steps), else None."""
        self.variant = variant
        self.scenario = scenario.variant(variant)
        self.seed = scenario.seed if seed is None else seed
        world = self.world = World(self.scenario, self.seed, keep)
        if rng is not None:
            world.rng = rng
        if choices:
            world.choices.update(choices)
        runtime = self.runtime = Runtime(world, Interpreter(world))
        runtime.interp.max_steps = world.max_events = max_events
        program = self.scenario.program
        world.emit(
            RunStarted,
            scenario=scenario.name,
            variant=variant,
            seed=self.seed,
            model=program.model.value,
            gil=self.scenario.machine.gil,
            shared=tuple(sorted(self.scenario.shared.items())),
            tasks=tuple(run.name for run in runtime.tasks),
        )
        self.finished = False
        self._injections: list[Injection] = []
        self._pending: list[Injection] = []  # scheduled, not yet applied (in time order)
        self.faults = self._start_main(runtime)
        self._schedule_file_faults()
        for injection in injections:
            self._schedule(injection)

    def _start_main(self, runtime: Runtime) -> Faults:
        """The main lane, running main() of the program's model; the faults that act on it."""
        world = self.world
        if self.scenario.program.model is Model.ASYNCIO:
            aio = AsyncioModel(runtime)
            main = world.new_lane(
                "main",
                LaneKind.MAIN,
                world.main_proc,
                lane_id="main",
                name="main()",
                thread=aio.loop,
            )
            runtime.main_lane = main
            main.gen = aio.main(main)
            aio.make_ready(main)
            return Faults(runtime, None, aio)
        prog = MainProgram(runtime)
        main = world.new_lane(
            "main", LaneKind.MAIN, world.main_proc, lane_id="main", name="main thread"
        )
        runtime.main_lane = main
        world.start(main, prog.main(main))
        return Faults(runtime, prog, None)

    def _schedule_file_faults(self) -> None:
        """The file's ``faults:``, at a time or as a task starts a step."""
        for fault in self.scenario.faults:
            injection = Injection(0.0, fault.fault.value, fault.target, fault.error)
            if fault.at is not None:
                at = Injection(fault.at / 1_000_000, fault.fault.value, fault.target, fault.error)
                self._pending.append(at)
                self.world.clock.at(fault.at, self._apply, at, priority=FAULT)
            elif fault.when is not None:
                when = (fault.when.task, fault.when.step)
                hooks = self.runtime.interp.step_hooks.setdefault(when, [])
                hooks.append(self._hook(injection))

    def _hook(self, injection: Injection) -> Callable[[], None]:
        def fire() -> None:
            landed = Injection(self.now, injection.fault, injection.target, injection.error)
            self.world.clock.at(self.world.clock.now, self.faults.apply, landed, priority=FAULT)

        return fire

    def _schedule(self, injection: Injection) -> None:
        self._injections.append(injection)
        self._pending.append(injection)
        self.world.clock.at(_us(injection.at), self._apply, injection, priority=FAULT)

    def _apply(self, injection: Injection) -> None:
        self._pending.remove(injection)
        self.faults.apply(injection)

    # --- the API views use --------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.world.clock.now / 1_000_000

    @property
    def events(self) -> EventLog:
        """Every event so far, typed as it is read (engine/recording.py)."""
        return self.world.events

    @property
    def shared(self) -> dict[str, int]:
        """The program's shared variables as they stand: the values the file starts them
        at, with every ``SharedWritten`` so far applied."""
        return dict(self.runtime.interp.shared)

    @property
    def injections(self) -> tuple[Injection, ...]:
        return tuple(self._injections)

    def next_time(self) -> float | None:
        when = self.world.clock.next_time()
        return None if when is None or self.finished else when / 1_000_000

    def step(self) -> list[Event]:
        """Process work until at least one new event appears, or the run ends."""
        start = len(self.events)
        self.step_count()
        return self.events[start:]

    def step_count(self) -> int:
        """``step()``, returning how many events it made rather than the events: they stay
        rows until read (``recording.EventLog``)."""
        start = len(self.events)
        while not self.finished and len(self.events) == start:
            self._run_one()
        return len(self.events) - start

    @property
    def stalled(self) -> bool:
        """Nothing is left that could happen by itself: the program is deadlocked or hung.
        Time still passes in ``advance()``, and an injected fault (Ctrl-C) can still land;
        ``run()`` and ``step()`` end such a run with the main program ``hung``."""
        return not self.finished and self.world.clock.next_time() is None

    def due(self, to: float) -> bool:
        """Whether work at a time up to ``to`` is still waiting (``advance(to)`` would run it)."""
        when = self.world.clock.next_time()
        return not self.finished and when is not None and when <= _us(to)

    def advance(self, to: float, work: int | None = None) -> list[Event]:
        """Process all work at times up to ``to``; the clock then reads ``to``.

        With ``work``, stop after that many units of work (scheduled callbacks) if some are
        still due, the clock left where the last one ran: calling again carries on, and any
        split of the same advance runs the same callbacks in the same order.
        """
        start = len(self.events)
        self.advance_count(to, work)
        return self.events[start:]

    def advance_count(self, to: float, work: int | None = None) -> int:
        """``advance(to, work)``, returning how many events it made rather than the events:
        they stay rows until read (``recording.EventLog``)."""
        start = len(self.events)
        limit = _us(to)
        clock = self.world.clock
        left = -1 if work is None else work
        while not self.finished:
            when = clock.next_time()
            if when is None or when > limit:
                break
            if left == 0:
                return len(self.events) - start
            left -= 1
            self._run_one()
        if not self.finished and clock.now < limit:
            clock.now = limit
        return len(self.events) - start

    def run(self) -> EventLog:
        """Run to the end; returns the whole event stream (so outcome(sim.run()) works),
        typed as it is read. Steps of Python code that nothing can interrupt run ahead of
        the clock (engine/ahead.py): the same events, in fewer pieces of clock work."""
        self.world.ahead = True
        try:
            self._work(-1)
        finally:
            self.world.ahead = False
        return self.events

    def inject(self, fault: str, target: str, error: str = "RuntimeError") -> list[Event]:
        """Inject a fault now, after everything already due now; it is recorded so that a
        re-simulation with ``injections=sim.injections`` reproduces this run exactly."""
        if self.finished:
            return []
        self._schedule(Injection(self.now, fault, target, error))
        return self.advance(self.now)

    # --- the loop -----------------------------------------------------------------------

    def _run_one(self) -> None:
        self._work(1)

    def _work(self, units: int) -> None:
        """Run ``units`` pieces of clock work (every one left, with -1), fewer if the run
        ends first. One loop for ``run()`` and the one-at-a-time callers alike."""
        world = self.world
        clock = world.clock
        keys, pop_and_run, max_events = clock.keys, clock.pop_and_run, self.max_events
        main = self.runtime.main_lane
        assert main is not None
        try:
            while units and not self.finished:
                units -= 1
                if not keys and not clock:  # the heap empty, and no work due now (clock.head)
                    self._finish()
                    return
                pop_and_run()
                if main.gen is None:
                    self._finish()
                elif world.emitted > max_events:
                    self._stop(f"{max_events} events")
        except BudgetSpent as spent:
            self._stop(spent.args[0])

    def _stop(self, spent: str) -> None:
        """The budget is spent: end the run here, as a program that was still running."""
        self.exhausted = (
            f"the run was stopped after {spent}, at {format_time(self.now)} of virtual time; "
            "expected a smaller run, or a larger budget (--max-events)"
        )
        self.world.emit(WarningIssued, message=self.exhausted)
        self._finish()

    def _finish(self) -> None:
        """The process exited, or nothing is left that could ever happen: end the run."""
        if self.finished:
            return
        world, runtime = self.world, self.runtime
        main = runtime.main_lane
        assert main is not None
        if not runtime.main_ended:
            runtime.main_ended = True
            world.set_state(main, LaneState.HUNG, main.step)
            world.emit(MainEnded, outcome=MainOutcome.HUNG, error=None)
        elif main.gen is not None:
            world.emit(
                WarningIssued,
                message=(
                    "the program never exits: the interpreter waits at exit for threads that "
                    "will never finish"
                ),
            )
        # A fault aimed after the end never lands: say so rather than drop it.
        for injection in sorted(self._pending, key=lambda i: i.at):
            world.emit(
                FaultRefused,
                fault=injection.fault,
                target=injection.target,
                reason=(
                    f"the program ended at {format_time(self.now)}, before the fault aimed at "
                    f"{format_time(injection.at)} could land: nothing is left to act on"
                ),
            )
        self._pending.clear()
        runtime.close_unfinished()
        program = self.scenario.program
        if program.model is not Model.ASYNCIO and program.executor:
            runtime.unretrieved_warnings(asyncio=False)
        # A program that hangs never exits: its time is that of the last thing that happened.
        elapsed = self.now if main.gen is None else world.events[-1].t
        world.emit(RunEnded, elapsed=elapsed, hung=main.gen is not None)
        self.finished = True
