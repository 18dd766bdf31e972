"""Locks, queues and events handed to each ``multiprocessing.Process`` as arguments, or to
each worker of a ``ProcessPoolExecutor`` by its initializer, under ``spawn`` and
``forkserver`` (and a ``fork`` the program sets).

A spawned child imports the program again (``multiprocessing.spawn``, as ``__mp_main__``):
a module-level ``stop = multiprocessing.Event()`` would be made once more in each child, a
different event from main's. So, as a person writes it under spawn, main() makes them and
passes each to the processes whose target uses it: ``Process(target=polite, args=(stop,))``,
``def polite(stop):``. ``Process.start()`` pickles them with the Process object, which
``SemLock`` allows only while spawning (``context.assert_spawning``). A pool's ``submit``
pickles its arguments later, into the call queue, where a ``SemLock`` raises RuntimeError
('Lock objects should only be shared between processes through inheritance'); the pool's
``initializer`` and ``initargs`` travel with each worker's ``Process`` instead
(``_spawn_process`` in Lib/concurrent/futures/process.py), and the initializer makes them
the worker's globals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from concsim.scenario import model as m
from concsim.scenario.startmethod import passes_primitives

from .steps import Resources, walk
from .writer import Writer


def passed_by_task(scenario: m.Scenario, res: Resources) -> dict[str, tuple[str, ...]]:
    """Each task's primitives, as the names its function takes them by, in the order they are
    declared; empty when the processes fork (module-level objects are inherited)."""
    if not passes_primitives(scenario) or scenario.program.executor:
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for task in scenario.tasks:
        used = set(_used(walk((*task.steps, *task.cleanup)), res))
        found[task.name] = tuple(name for name in _order(res) if name in used)
    return found


def pool_shared(scenario: m.Scenario, res: Resources) -> tuple[str, ...]:
    """The primitives a process pool's initializer gives each worker, in the order they are
    declared: those any task uses; empty when the workers fork (they inherit them)."""
    if not passes_primitives(scenario) or not scenario.program.executor:
        return ()
    steps = [step for task in scenario.tasks for step in (*task.steps, *task.cleanup)]
    used = set(_used(walk(steps), res))
    return tuple(name for name in _order(res) if name in used)


def _order(res: Resources) -> list[str]:
    order = [*res.locks.values(), *res.queues.values(), *res.events.values()]
    if res.stop is not None and res.stop not in order:
        order.append(res.stop)
    return order


def write_initializer(w: Writer, function: str, names: tuple[str, ...]) -> None:
    """``def init_worker(shared_db, ...):``, the pool's initializer: what main made becomes
    each worker's module-level names, which the task functions read."""
    params = ", ".join(f"shared_{name}" for name in names)
    w.line(f"def {function}({params}):")
    with w.indented():
        w.line('"""Runs in each worker process as it starts (the pool\'s initializer): the')
        w.line('locks, queues and events main made become this process\'s globals."""')
        w.line(f"global {', '.join(names)}")
        w.line(f"{', '.join(names)} = {params}")
    w.blank()
    w.blank()


def main_made(state: list[str], res: Resources, names: set[str]) -> list[str]:
    """The module-level lines of the primitives passed to processes: main() makes them."""
    if not names:
        return []
    moved = {*res.locks.values(), *res.queues.values(), *res.events.values()}
    if res.stop is not None:
        moved.add(res.stop)
    return [line for line in state if line.split(" = ")[0] in moved]


def _used(steps: Iterable[Any], res: Resources) -> Iterable[str]:
    for step in steps:
        match step:
            case m.AcquireStep() | m.ReleaseStep() | m.WithStep():
                name = getattr(step, {"with": "with_"}.get(m.step_kind(step), m.step_kind(step)))
                if name in res.locks:
                    yield res.locks[name]
            case m.PutStep() | m.GetStep() | m.ConsumeStep() | m.TaskDoneStep() | m.JoinStep():
                name = getattr(step, m.step_kind(step))
                if name in res.queues:
                    yield res.queues[name]
            case m.CheckStopStep() | m.SetStopStep():
                if res.stop is not None:
                    yield res.stop
            case m.LoopStep() if step.until is not None:
                if step.until in res.events:
                    yield res.events[step.until]
                elif step.until == "stop" and res.stop is not None:
                    yield res.stop
            case m.SetStep() | m.ClearStep() | m.WaitStep():
                name = getattr(step, m.step_kind(step))
                if name in res.events:
                    yield res.events[name]
            case _:
                pass
