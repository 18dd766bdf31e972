"""The whole program: docstring, imports, module-level state, helpers, tasks, main."""

from __future__ import annotations

import textwrap

from concsim.durations import format_duration
from concsim.engine.futures.pickling import unpicklable_errors
from concsim.scenario import model as m

from .aio import AsyncMain
from .barriers import acting_barriers, barrier_line, write_actions
from .names import identifier
from .passed import main_made, passed_by_task, pool_shared, write_initializer
from .pools import PoolMain
from .sites import Program, TaskSite
from .steps import Resources, walk
from .tasks import TaskFn, write_task
from .writer import MODULES, Writer

SPIN = '''
def spin(seconds):
    """Pure-Python work for `seconds` of one core: bytecode, so it holds the GIL."""
    for _ in range(round(seconds * LOOPS_PER_SECOND)):
        pass


def loops_per_second():
    """How many rounds of an empty loop this thread runs in a second of CPU time."""
    rounds = 100_000
    while True:
        start = time.thread_time()
        for _ in range(rounds):
            pass
        took = time.thread_time() - start
        if took > 0.02:
            return rounds / took
        rounds *= 2


LOOPS_PER_SECOND = loops_per_second()
'''

CRUNCH = '''
BLOCK = bytes(1 << 20)


def crunch(seconds):
    """Work in C for `seconds` of one core: hashlib releases the GIL while it hashes."""
    for _ in range(round(seconds * HASHES_PER_SECOND)):
        hashlib.sha256(BLOCK)


def hashes_per_second():
    """How many 1 MiB blocks hashlib hashes in a second of CPU time."""
    rounds = 4
    while True:
        start = time.thread_time()
        for _ in range(rounds):
            hashlib.sha256(BLOCK)
        took = time.thread_time() - start
        if took > 0.02:
            return rounds / took
        rounds *= 2


HASHES_PER_SECOND = hashes_per_second()
'''

CALL = '''
def call(task):
    """Run one task: lets `executor.map` run a different function for each item."""
    return task()
'''

LOGGING = (
    "logging.basicConfig(",
    '    level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stdout',
    ")",
)


def build(scenario: m.Scenario, variant: str | None) -> Program:
    """``scenario`` as written (or with ``variant`` applied) as a runnable program."""
    chosen = scenario.variant(variant)
    program = chosen.program
    res = _resources(chosen)
    passed = passed_by_task(chosen, res)
    fns = [
        TaskFn(
            spec,
            identifier(spec.name, res.taken),
            passed.get(spec.name, ()),
        )
        for spec in chosen.tasks
    ]
    res.pool_shared = pool_shared(chosen, res)
    if res.pool_shared:
        res.initializer = identifier("init_worker", res.taken)
    made = {name for names in passed.values() for name in names} | set(res.pool_shared)
    res.main_made = main_made(_state(res, chosen), res, made)
    res.functions = {fn.spec.name: (fn.function, fn.spec.repeat) for fn in fns}
    body = Writer()
    write_actions(body, res, chosen)
    for fn in fns:
        if not fn.nested:
            write_task(body, res, fn)
            body.blank()
            body.blank()
    if res.pool_shared:
        write_initializer(body, res.initializer, res.pool_shared)
    main = Writer()
    if program.model is m.Model.ASYNCIO:
        AsyncMain(main, res, program, fns).write()
    else:
        writer = PoolMain(main, res, program, fns)
        writer.write_handlers()
        writer.write()
    body.extend(main)
    body.blank()
    body.blank()
    body.line('if __name__ == "__main__":')
    with body.indented():
        if "logging" in body.imports:
            for line in LOGGING:
                body.line(line)
        method = chosen.machine.start_method
        if method is not None and program.model is m.Model.PROCESSES:
            body.need("multiprocessing")
            body.line(f'multiprocessing.set_start_method("{method}")')
        body.line("asyncio.run(main())" if program.model is m.Model.ASYNCIO else "main()")
    head = _head(scenario, chosen, variant, res, body)
    offset = len(head)
    source = "\n".join([*head, *body.lines]) + "\n"
    sites = {offset + index + 1: site for index, site in sorted(body.sites.items())}
    tasks = {}
    for fn in fns:
        for i in range(1, fn.spec.repeat + 1):
            name = fn.spec.name if fn.spec.repeat == 1 else f"{fn.spec.name}-{i}"
            index = i if fn.takes_index else None
            tasks[name] = TaskSite(fn.spec.name, fn.defined, index, fn.nested)
    helpers = frozenset(h for h in ("spin", "crunch", "call") if f"def {h}(" in source)
    actions = frozenset(f"{res.barriers[name]}_action" for name in acting_barriers(chosen))
    return Program(source, sites, tasks, helpers, res.stop, dict(res.shared), actions)


def _resources(scenario: m.Scenario) -> Resources:
    res = Resources(scenario.program.model, fills=scenario.version >= 2)
    res.unpicklable |= unpicklable_errors(scenario)
    res.taken |= {"main"}
    program = scenario.program
    steps = [
        *walk(program.main_steps),
        *walk(program.on_result),
        *walk(program.on_error),
        *walk(program.atexit),
    ]
    for task in scenario.tasks:
        steps += walk(task.steps) + walk(task.cleanup)
    for barrier in scenario.barriers.values():
        steps += walk(barrier.action)
    shared = list(scenario.shared)
    locks: list[str] = [*scenario.locks, *scenario.semaphores]
    queues = list(scenario.queues)
    for step in steps:
        match step:
            case m.ReadStep() | m.WriteStep():
                name = step.read if isinstance(step, m.ReadStep) else step.write
                if name not in shared:
                    shared.append(name)
            case m.AcquireStep() | m.ReleaseStep() | m.WithStep():
                name = getattr(step, {"with": "with_"}.get(m.step_kind(step), m.step_kind(step)))
                if name not in locks and name not in scenario.conditions:
                    locks.append(name)
            case m.PutStep() | m.GetStep() | m.ConsumeStep() | m.TaskDoneStep() | m.JoinStep():
                name = getattr(step, m.step_kind(step))
                if name not in queues:
                    queues.append(name)
            case m.CheckStopStep() | m.SetStopStep():
                res.stop = "stop"
            case m.LoopStep() if step.until == "stop":
                res.stop = "stop"
    for name in shared:
        res.shared[name] = identifier(name, res.taken)
    for spec in scenario.conditions.values():
        if spec.lock is not None and spec.lock not in locks:
            locks.append(spec.lock)
    for name in locks:
        res.locks[name] = identifier(name, res.taken)
    for name in queues:
        res.queues[name] = identifier(name, res.taken)
    for name in scenario.events:
        if name == "stop":
            # the event check_stop and set_stop use, declared (and written) once
            res.stop = res.events[name] = name
        else:
            res.events[name] = identifier(name, res.taken)
    for name in scenario.barriers:
        res.barriers[name] = identifier(name, res.taken)
    for name in scenario.conditions:
        # ``cv.acquire()`` takes the condition's lock, as ``acquire: cv`` does
        res.conditions[name] = res.locks[name] = identifier(name, res.taken)
    return res


def _head(
    scenario: m.Scenario, chosen: m.Scenario, variant: str | None, res: Resources, body: Writer
) -> list[str]:
    """The docstring, imports and module-level state: written last, when the body's needs
    are known."""
    w = Writer()
    summary = scenario.summary or scenario.name
    command = f"concsim code {scenario.name}" + (f" --variant {variant}" if variant else "")
    doc = textwrap.wrap(summary.replace('"""', "'''"), 96)
    w.line('"""' + doc[0])
    for line in doc[1:]:
        w.line(line)
    w.blank()
    about = next((v.summary for v in scenario.variants if v.name == variant), "")
    if variant:
        for line in textwrap.wrap(f"Variant {variant}: {about or variant}".replace('"""', ""), 96):
            w.line(line)
        w.blank()
    python = chosen.machine.python
    if python is not m.Python.PY311:
        build = " (free-threaded: no GIL)" if python.free_threaded else ""
        w.line(f"For CPython {python.value}{build}.")
    w.line(f"Written by `{command}`.")
    w.line('"""')
    if scenario.faults:
        w.blank()
        w.line("# concsim applies these faults from outside the program:")
        for fault in scenario.faults:
            w.line("#   " + _fault_text(fault))
    code = "\n".join(body.lines)
    helpers = [SPIN] if "spin(" in code else []
    helpers += [CRUNCH] if "crunch(" in code else []
    helpers += [CALL] if res.uses_call else []
    needs = set(body.imports)
    if any(text is SPIN for text in helpers):
        needs.add("time")
    if any(text is CRUNCH for text in helpers):
        needs |= {"time", "hashlib"}
    state = [line for line in _state(res, chosen) if line not in res.main_made]
    for line in state:
        needs.update(_modules(line))
    w.blank()
    for module in sorted(needs):
        w.line(f"import {module}")
    for module, names in sorted(body.from_imports.items()):
        w.line(f"from {module} import {', '.join(sorted(names))}")
    for name in res.errors:
        w.blank()
        w.blank()
        w.line(f"class {name}(Exception):")
        if name in res.unpicklable:
            w.line(f'    """The scenario\'s {name}: pickle keeps only the message, so a process')
            w.line('    pool\'s parent cannot rebuild it (__init__ needs the code too)."""')
            w.blank()
            w.line("    def __init__(self, message, code):")
            w.line("        super().__init__(message)")
            w.line("        self.code = code")
        else:
            w.line(f'    """The scenario\'s {name}."""')
    if state:
        w.blank()
        w.lines.extend(state)
    for text in helpers:
        w.blank()
        w.lines.extend(text.rstrip("\n").split("\n"))
    w.blank()
    w.blank()
    return w.lines


def _state(res: Resources, scenario: m.Scenario) -> list[str]:
    """Shared variables, locks, queues and the stop event, at module level."""
    model = scenario.program.model
    lines = [f"{python} = {scenario.shared.get(name, 0)}" for name, python in res.shared.items()]
    kit = {
        m.Model.ASYNCIO: ("asyncio.Lock()", "asyncio.Queue", "asyncio.Event()"),
        m.Model.PROCESSES: (
            "multiprocessing.Lock()",
            "multiprocessing.Queue",
            "multiprocessing.Event()",
        ),
    }.get(model, ("threading.Lock()", "queue.Queue", "threading.Event()"))
    conditions = set(res.conditions.values())
    lines += [
        f"{python} = {lock_factory(scenario, name, kit[0])}"
        for name, python in res.locks.items()
        if python not in conditions
    ]
    for name, python in res.queues.items():
        spec = scenario.queues.get(name)
        size = f"maxsize={spec.maxsize}" if spec is not None and spec.maxsize else ""
        lines.append(f"{python} = {kit[1]}({size})")
    if res.stop:
        lines.append(f"{res.stop} = {kit[2]}")
    lines += [f"{python} = {kit[2]}" for python in res.events.values() if python != res.stop]
    acting = acting_barriers(scenario)
    lines += [barrier_line(scenario, res, name) for name in res.barriers if name not in acting]
    for name, python in res.conditions.items():
        lock = scenario.conditions[name].lock
        module = "asyncio" if model is m.Model.ASYNCIO else "threading"
        lines.append(f"{python} = {module}.Condition({res.locks[lock] if lock else ''})")
    return lines


def lock_factory(scenario: m.Scenario, name: str, plain: str) -> str:
    """``threading.Lock()``, ``threading.RLock()``, ``threading.BoundedSemaphore(3)``, ...:
    the family the name is declared in, from the program's model's module."""
    module = plain.split(".")[0]
    semaphore = scenario.semaphores.get(name)
    if semaphore is not None:
        kind = "BoundedSemaphore" if semaphore.bounded else "Semaphore"
        return f"{module}.{kind}({semaphore.value})"
    lock = scenario.locks.get(name)
    if lock is not None and lock.reentrant:
        return f"{module}.RLock()"
    return plain


def _modules(line: str) -> set[str]:
    return set(MODULES.findall(line))


def _fault_text(fault: m.Fault) -> str:
    when = (
        f"at {format_duration(fault.at)}"
        if fault.at is not None
        else f"when {fault.when.task} starts step {fault.when.step}"  # type: ignore[union-attr]
    )
    error = f" ({fault.error})" if fault.fault is m.FaultKind.FAIL else ""
    return f"{fault.fault.value} {fault.target} {when}{error}"
