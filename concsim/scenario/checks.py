"""Checks across a scenario that field validation cannot make: names must refer to something."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from concsim.scenario.document import Document, Loc
from concsim.scenario.errors import Problem, did_you_mean
from concsim.scenario.model import (
    MAIN_ONLY_STEPS,
    STEP_KINDS,
    CollectStep,
    LoopStep,
    Model,
    Pattern,
    Program,
    Scenario,
    SubmitStep,
    Task,
    TryStep,
)
from concsim.scenario.shapes import STEP_LISTS, step_kind_of
from concsim.scenario.waitables import (
    WAITABLE_STEPS,
    barrier_else_problem,
    family_clashes,
    loop_until_problem,
    model_problems,
    until_problem,
    waitable_problem,
)

_LANE = re.compile(r"^(?:thread|process)-[1-9][0-9]*$")
_COPY = re.compile(r"^(.+)-([1-9][0-9]*)$")


def check_names(doc: Document) -> list[Problem]:
    """Problems of reference in the raw data; it may be invalid elsewhere, so look carefully."""
    data = doc.data if isinstance(doc.data, dict) else {}
    tasks = _named(data, "tasks")
    problems = _duplicates(doc, "tasks", "task", tasks)
    problems += _duplicates(doc, "variants", "variant", _named(data, "variants"))
    variants = data.get("variants")
    for index, variant in enumerate(variants if isinstance(variants, list) else []):
        if isinstance(variant, dict):
            problems += _duplicates(
                doc, ("variants", index, "tasks"), "task", _named(variant, "tasks")
            )
    problems += _model_limits(doc, data, tasks)
    problems += _steps(doc, data, tasks)
    problems += _faults(doc, data, tasks)
    problems += family_clashes(doc)
    problems += model_problems(doc)
    return problems


def _model_limits(
    doc: Document, data: dict[Any, Any], tasks: list[tuple[int, dict[Any, Any]]]
) -> list[Problem]:
    """What asyncio's locks do not have (an RLock, ``acquire(blocking=False)``), and what
    multiprocessing.Queue does not (``task_done``, ``join``)."""
    program = data.get("program")
    if not isinstance(program, dict) or program.get("model") not in ("asyncio", "processes"):
        return []
    problems: list[Problem] = []
    locks = data.get("locks")
    for name, spec in locks.items() if isinstance(locks, dict) else ():
        reentrant = isinstance(spec, dict) and spec.get("reentrant") is True
        if reentrant and program.get("model") == "asyncio":
            problems.append(
                doc.problem(
                    ("locks", name, "reentrant"),
                    "asyncio has no reentrant lock (RLock); expected `reentrant: false` or "
                    "model threads",
                    at_key=True,
                )
            )
    for loc, step, _, _ in _all_steps(data, tasks):
        kind = step_kind_of(step)
        if kind in {"task_done", "join"} and program.get("model") == "processes":
            problems.append(
                doc.problem(
                    (*loc, kind),
                    f"multiprocessing.Queue has no {kind}(); expected model threads or asyncio",
                    at_key=True,
                )
            )
        acquire = isinstance(step, dict) and kind == "acquire" and program.get("model") == "asyncio"
        if acquire and step.get("blocking") is False:
            problems.append(
                doc.problem(
                    (*loc, "blocking"),
                    "asyncio's acquire() has no `blocking`; expected a `timeout`",
                    at_key=True,
                )
            )
    return problems


_SECOND_COLLECT = (
    "a second `collect` in a sequential program would call every task again; "
    "expected one `collect` (each task runs once)"
)


def check_collects(scenario: Scenario, doc: Document) -> list[Problem]:
    """One ``collect`` per sequential program: ``results = [task() for task in tasks]`` a
    second time would run every task twice, and a task here runs once."""
    problems: list[Problem] = []
    if scenario.program.model is Model.SEQUENTIAL:
        problems += _collects(doc, ("program", "main"), scenario.program.main, "")
    if scenario.program.collect.pattern is Pattern.TASKGROUP:
        problems += _group_collects(doc, ("program", "main"), scenario.program.main)
    for index, variant in enumerate(scenario.variants):
        try:
            applied = scenario.variant(variant.name).program
        except ValidationError:
            continue  # check_variants says why
        if applied.model is not Model.SEQUENTIAL:
            continue
        fields = variant.program.model_fields_set
        if "main" in fields:
            loc: Loc = ("variants", index, "program", "main")
            problems += _collects(doc, loc, applied.main, "")
        elif "model" in fields:
            loc = ("variants", index, "program", "model")
            if len(_collect_indices(applied.main)) > 1:
                problems.append(doc.problem(loc, "with this variant, " + _SECOND_COLLECT))
    return problems


_LOOPED_COLLECT = (
    "a `collect` in a `loop` of a sequential program would call every task again at its "
    "second round; expected it outside the loop (each task runs once)"
)


def _collect_indices(steps: tuple[Any, ...]) -> list[Loc]:
    """Where each ``collect`` is, nested ones (in a ``try`` or ``loop``) included."""
    return [loc for loc, _ in _nested_collects(steps, ())]


def _nested_collects(steps: tuple[Any, ...], loc: Loc) -> list[tuple[Loc, bool]]:
    found: list[tuple[Loc, bool]] = []
    for i, step in enumerate(steps):
        if isinstance(step, CollectStep):
            found.append(((*loc, i), False))
        elif isinstance(step, TryStep):
            found += _nested_collects(step.try_, (*loc, i, "try"))
            for number, clause in enumerate(step.except_):
                found += _nested_collects(clause.steps, (*loc, i, "except", number, "steps"))
            found += _nested_collects(step.else_, (*loc, i, "else"))
            found += _nested_collects(step.finally_, (*loc, i, "finally"))
        elif isinstance(step, LoopStep):
            found += [(at, True) for at, _ in _nested_collects(step.loop, (*loc, i, "loop"))]
    return found


_GROUP_COLLECT = (
    "with collect `taskgroup`, `collect` closes `async with asyncio.TaskGroup()` around "
    "main's steps before it; expected one `collect`, at main's top level"
)


def _group_collects(doc: Document, loc: Loc, steps: tuple[Any, ...]) -> list[Problem]:
    """A TaskGroup is a block around main's steps up to ``collect``: one, at the top."""
    return [
        doc.problem((*loc, *at), _GROUP_COLLECT)
        for number, at in enumerate(_collect_indices(steps))
        if number or len(at) > 1
    ]


def _collects(doc: Document, loc: Loc, steps: tuple[Any, ...], prefix: str) -> list[Problem]:
    problems = []
    for number, (at, looped) in enumerate(_nested_collects(steps, ())):
        if looped:
            problems.append(doc.problem((*loc, *at), prefix + _LOOPED_COLLECT))
        elif number:
            problems.append(doc.problem((*loc, *at), prefix + _SECOND_COLLECT))
    return problems


def check_variants(scenario: Scenario, doc: Document) -> list[Problem]:
    """Each variant applied to the scenario must still make a valid program."""
    problems: list[Problem] = []
    for index, variant in enumerate(scenario.variants):
        try:
            scenario.variant(variant.name)
        except ValidationError as error:
            # Only the combination can fail here (each patch field is already valid), e.g.
            # a variant switching to asyncio while the scenario collects with `map`.
            loc: Loc = ("variants", index, "program")
            program = _get(doc.data, loc)
            for key in ("collect", "model"):
                if isinstance(program, dict) and key in program:
                    loc = (*loc, key)
                    break
            for details in error.errors():
                text = str(details["msg"]).removeprefix("Value error, ")
                problems.append(doc.problem(loc, f"with this variant, {text}"))
            continue
        if variant.tasks is None:
            continue
        # A variant with its own tasks must still give the file's faults something to hit,
        # and the file's main program (when the variant keeps it) the tasks it submits.
        applied = scenario.variant(variant.name)
        if "main" not in variant.program.model_fields_set:
            known = {task.name for task in applied.tasks} | _run_names(applied)
            for number, step in enumerate(scenario.program.main):
                if isinstance(step, SubmitStep) and isinstance(step.submit, tuple):
                    for name in step.submit:
                        if name not in known:
                            problems.append(
                                doc.problem(
                                    ("variants", index, "tasks"),
                                    f"with this variant, program.main[{number}] submits "
                                    f"`{name}`, which is not one of its tasks",
                                )
                            )
        for number, fault in enumerate(scenario.faults):
            names = [fault.target] + ([fault.when.task] if fault.when else [])
            for name in names:
                problem = injection_problem(applied, name, fault.error)
                if problem:
                    problems.append(
                        doc.problem(
                            ("variants", index, "tasks"),
                            f"with this variant, faults[{number}] aims at {name!r}: {problem}",
                        )
                    )
    return problems


def ignored_options(scenario: Scenario, doc: Document) -> list[Problem]:
    """Warnings for valid options that no program of the file uses: as written or in any
    variant, nothing would read them, so the run would silently differ from the file."""
    warnings: list[Problem] = []
    # The programs that run the file's own tasks: as written, and each variant that keeps them.
    own = [scenario] + [scenario.variant(v.name) for v in scenario.variants if v.tasks is None]
    warnings += _task_options(doc, ("tasks",), scenario.tasks, [s.program for s in own])
    for index, variant in enumerate(scenario.variants):
        applied = scenario.variant(variant.name)
        if variant.tasks is not None:
            loc: Loc = ("variants", index, "tasks")
            warnings += _task_options(doc, loc, variant.tasks, [applied.program])
        if variant.program.chunksize not in (None, 1) and not _chunks(applied.program):
            loc = ("variants", index, "program", "chunksize")
            warnings.append(doc.warning(loc, _chunksize_ignored(applied.program)))
    if scenario.program.chunksize != 1:
        # Every program that keeps the file's chunksize; a variant may set its own.
        kept = [scenario.program] + [
            scenario.variant(v.name).program
            for v in scenario.variants
            if v.program.chunksize is None
        ]
        if not any(map(_chunks, kept)):
            loc = ("program", "chunksize")
            warnings.append(doc.warning(loc, _chunksize_ignored(scenario.program)))
    return warnings


def _task_options(
    doc: Document, loc: Loc, tasks: tuple[Task, ...], programs: list[Program]
) -> list[Problem]:
    models = _models(programs)
    warnings = []
    for index, task in enumerate(tasks):
        if task.timeout is not None and all(p.model is not Model.ASYNCIO for p in programs):
            warnings.append(
                doc.warning(
                    (*loc, index, "timeout"),
                    "ignored: a task's timeout is `asyncio.wait_for(task, timeout)`, and "
                    f"this task only runs under {models}",
                )
            )
        if task.daemon and not any(p.model is Model.THREADS and not p.executor for p in programs):
            warnings.append(
                doc.warning(
                    (*loc, index, "daemon"),
                    "ignored: only a plain thread (model threads, executor: false) can be a "
                    f"daemon, and this task only runs under {models}",
                )
            )
    return warnings


def _models(programs: list[Program]) -> str:
    """``threads with an executor``, ``asyncio or processes``: what the programs run."""
    kinds = sorted(
        {
            p.model.value
            if p.model in (Model.SEQUENTIAL, Model.ASYNCIO)
            else f"{p.model.value} {'with an executor' if p.executor else 'without one'}"
            for p in programs
        }
    )
    return " or ".join(kinds)


def _chunks(program: Program) -> bool:
    """Whether the program sends tasks in chunks: only ``ProcessPoolExecutor.map`` does."""
    return (
        program.model is Model.PROCESSES
        and program.executor
        and program.collect.pattern is Pattern.MAP
    )


def _chunksize_ignored(program: Program) -> str:
    if program.model is Model.THREADS and program.executor:
        return (
            "ignored: ThreadPoolExecutor.map accepts chunksize and ignores it; only "
            "ProcessPoolExecutor.map sends tasks in chunks"
        )
    return (
        "ignored: only ProcessPoolExecutor.map (model processes, collect map) sends tasks in chunks"
    )


def _get(data: Any, loc: Loc) -> Any:
    for part in loc:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _named(data: dict[Any, Any], key: str) -> list[tuple[int, dict[Any, Any]]]:
    items = data.get(key)
    if not isinstance(items, list):
        return []
    return [
        (i, item)
        for i, item in enumerate(items)
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    ]


def _duplicates(
    doc: Document, key: str | Loc, noun: str, items: list[tuple[int, dict[Any, Any]]]
) -> list[Problem]:
    base: Loc = (key,) if isinstance(key, str) else key
    problems: list[Problem] = []
    first: dict[str, Loc] = {}
    for index, item in items:
        name, loc = item["name"], (*base, index, "name")
        if noun == "task" and name == "main":
            problems.append(
                doc.problem(
                    loc, "task name `main` is reserved for the main program; expected another name"
                )
            )
        elif name in first:
            where = doc.problem(first[name], "")
            problems.append(
                doc.problem(
                    loc, f"{noun} name `{name}` is used twice (first at {where.line}:{where.col})"
                )
            )
        else:
            first[name] = loc
    return problems


def _all_steps(
    data: dict[Any, Any], tasks: list[tuple[int, dict[Any, Any]]]
) -> Iterator[tuple[Loc, Any, bool, list[tuple[int, dict[Any, Any]]]]]:
    """Every step in the file, nested ``each`` steps included: its location, whether it is
    in a task, and the tasks its program runs (a variant's own tasks, if it has them)."""
    roots: list[tuple[Loc, Any, bool, list[tuple[int, dict[Any, Any]]]]] = [
        (("program",), data.get("program"), False, tasks)
    ]
    items = data.get("tasks")
    for index, item in enumerate(items if isinstance(items, list) else []):
        roots.append((("tasks", index), item, True, tasks))
    barriers = data.get("barriers")
    for name, spec in barriers.items() if isinstance(barriers, dict) else ():
        roots.append((("barriers", name), spec, True, tasks))  # an action runs in a thread
    variants = data.get("variants")
    for index, variant in enumerate(variants if isinstance(variants, list) else []):
        if not isinstance(variant, dict):
            continue
        own = _named(variant, "tasks") if "tasks" in variant else tasks
        roots.append((("variants", index, "program"), variant.get("program"), False, own))
        own_items = variant.get("tasks")
        for number, item in enumerate(own_items if isinstance(own_items, list) else []):
            roots.append((("variants", index, "tasks", number), item, True, own))
    stack = list(reversed(roots))
    while stack:
        loc, owner, in_task, runs = stack.pop()
        if not isinstance(owner, dict):
            continue
        for key in sorted(STEP_LISTS & owner.keys()):
            steps = owner[key]
            for index, step in enumerate(steps if isinstance(steps, list) else []):
                yield (*loc, key, index), step, in_task, runs
                if isinstance(step, dict):
                    stack.append(((*loc, key, index), step, in_task, runs))


def _steps(
    doc: Document, data: dict[Any, Any], tasks: list[tuple[int, dict[Any, Any]]]
) -> list[Problem]:
    shared, queues = data.get("shared", {}), data.get("queues", {})
    steps = [
        (loc, step, step_kind_of(step), in_task, runs)
        for loc, step, in_task, runs in _all_steps(data, tasks)
    ]
    locks = {
        step[kind]
        for _, step, kind, _, _ in steps
        if kind in {"acquire", "with"} and isinstance(step, dict) and isinstance(step[kind], str)
    }
    declared: set[Any] = set()
    for family in ("locks", "semaphores"):
        names = data.get(family)
        declared |= set(names) if isinstance(names, dict) else set()
    locks |= declared
    problems: list[Problem] = []
    for loc, step, kind, in_task, runs in steps:
        if isinstance(step, str) and kind is not None:
            step = {kind: kind}  # a bare `submit`: only its kind matters here
        if kind in MAIN_ONLY_KINDS and in_task:
            problems.append(
                doc.problem(
                    loc,
                    f"`{kind}` is a step of the main program; "
                    "expected it under program.main, not in a task",
                )
            )
            continue
        if not isinstance(step, dict) or kind is None:
            continue
        name, at = step[kind], (*loc, kind)
        if kind == "submit" and isinstance(name, list):
            names = {task["name"] for _, task in runs}
            for index, task in enumerate(name):
                if isinstance(task, str) and not _is_task(task, runs):
                    problems.append(
                        doc.problem(
                            (*at, index), f"no task named `{task}`; " + did_you_mean(task, names)
                        )
                    )
        if kind == "loop" and (problem := loop_until_problem(data, step)):
            problems.append(doc.problem((*loc, "until"), problem))
        if not isinstance(name, str):
            continue  # a list or a number where a name belongs: the types say so
        if kind in {"read", "write"} and isinstance(shared, dict) and name not in shared:
            hint = did_you_mean(name, shared, listing=False) or _declare(name, "shared", shared)
            problems.append(doc.problem(at, f"no shared variable `{name}`; {hint}"))
        elif (
            kind in {"put", "get", "consume", "task_done", "join"}
            and isinstance(queues, dict)
            and name not in queues
        ):
            hint = did_you_mean(name, queues, listing=False) or _declare(name, "queues", queues)
            problems.append(doc.problem(at, f"no queue `{name}`; {hint}"))
        elif kind in {"acquire", "with"} and name not in declared and declared:
            # An undeclared name is a threading.Lock; one a letter off a declared name is
            # surely that one, misspelt.
            hint = did_you_mean(name, declared, listing=False)
            if hint:
                problems.append(doc.problem(at, f"no lock or semaphore `{name}`; {hint}"))
        elif kind in WAITABLE_STEPS and (problem := waitable_problem(data, kind, name)):
            problems.append(doc.problem(at, problem))
        elif kind == "wait_for" and (problem := until_problem(data, step)):
            problems.append(doc.problem((*loc, "until", "shared"), problem))
        elif kind == "wait" and (problem := barrier_else_problem(data, step)):
            problems.append(doc.problem((*loc, "else"), problem, at_key=True))
        elif kind in {"terminate", "kill", "join_process"} and not _is_task(name, runs):
            names = {task["name"] for _, task in runs}
            problems.append(
                doc.problem(at, f"no task named `{name}`; " + did_you_mean(name, names))
            )
        elif kind == "add_done_callback" and not _is_task(name, runs):
            names = {task["name"] for _, task in runs}
            problems.append(doc.problem(at, f"no task named `{name}`; {did_you_mean(name, names)}"))
        elif kind == "future" and not _is_task(name, runs, run=True):
            problems.append(doc.problem(at, f"no task named `{name}`; {_task_hint(name, runs)}"))
        elif kind == "release" and name not in locks:
            # threading.Lock may be released by another thread, so only a lock that no step
            # ever acquires is surely wrong: CPython raises RuntimeError (release unlocked lock).
            hint = did_you_mean(name, locks, listing=False) or "expected an `acquire` of it first"
            problems.append(doc.problem(at, f"lock `{name}` is never acquired; {hint}"))
    return problems


MAIN_ONLY_KINDS = frozenset(
    kind for kind, step in STEP_KINDS.items() if issubclass(step, MAIN_ONLY_STEPS)
)
"""Steps that need what only main holds: the executor, its futures, the Process objects
(the model's ``MAIN_ONLY_STEPS``, by kind)."""


def _declare(name: str, section: str, declared: dict[Any, Any]) -> str:
    known = ", ".join(sorted(str(key) for key in declared))
    return f"declare it under `{section}:`" + (f" (declared: {known})" if known else "")


def _faults(
    doc: Document, data: dict[Any, Any], tasks: list[tuple[int, dict[Any, Any]]]
) -> list[Problem]:
    faults = data.get("faults")
    problems: list[Problem] = []
    for index, fault in enumerate(faults if isinstance(faults, list) else []):
        if not isinstance(fault, dict):
            continue
        target = fault.get("target")
        if target == "gather" and fault.get("fault") == "cancel":
            continue  # main's gather itself (asyncio): gather(...).cancel()
        if isinstance(target, str) and not (
            target == "main" or _is_task(target, tasks, run=True) or _LANE.match(target)
        ):
            hint = _task_hint(target, tasks, "thread-N or process-N")
            message = f"no task or lane named `{target}`; {hint}"
            problems.append(doc.problem(("faults", index, "target"), message))
        when = fault.get("when")
        if isinstance(when, dict) and isinstance(when.get("task"), str):
            problems += _when(doc, tasks, ("faults", index, "when"), when)
    return problems


def _task_hint(name: str, tasks: list[tuple[int, dict[Any, Any]]], others: str = "") -> str:
    """What a name that matches no task should have been."""
    names = {task["name"]: task.get("repeat", 1) for _, task in tasks}
    copy = _COPY.match(name)
    base = name if name in names else (copy[1] if copy and copy[1] in names else None)
    if base is not None:
        repeat = names[base]
        if isinstance(repeat, int) and repeat > 1:
            return f"`{base}` repeats {repeat} times; expected {base}-1 to {base}-{repeat}"
        return f"`{base}` is not repeated; expected `{base}`"
    # Suggest names a fault can really use: a repeated task runs as NAME-1 .. NAME-N.
    close = difflib.get_close_matches(name, [*names, "main"], n=1)
    if close and isinstance(names.get(close[0]), int) and names[close[0]] > 1:
        return f"did you mean one of `{close[0]}-1` to `{close[0]}-{names[close[0]]}`?"
    hint = did_you_mean(name, {*names, "main"}, listing=False)
    if hint:
        return hint
    shown = sorted(names)
    listing = ", ".join(["main", *shown[:10]]) + (", ..." if len(shown) > 10 else "")
    return f"expected {listing}" + (f", {others}" if others else "")


def _when(
    doc: Document,
    tasks: list[tuple[int, dict[Any, Any]]],
    loc: Loc,
    when: dict[Any, Any],
) -> list[Problem]:
    name, step = when["task"], when.get("step")
    if name == "main":
        message = "`when` watches the steps of a task; expected a task name (for the main "
        return [doc.problem((*loc, "task"), message + "program, use `at: <time>`)")]
    if not _is_task(name, tasks, run=True):
        return [doc.problem((*loc, "task"), f"no task named `{name}`; {_task_hint(name, tasks)}")]
    task = _task(name, tasks)
    steps = task.get("steps", []) if task is not None else []
    if not isinstance(step, int) or isinstance(step, bool) or not isinstance(steps, list):
        return []
    if step >= len(steps):
        count = f"{len(steps)} step{'s' if len(steps) != 1 else ''}"
        expected = (
            f"expected 0 to {len(steps) - 1}"
            if len(steps) > 1
            else ("expected 0" if steps else "expected a task with steps")
        )
        return [
            doc.problem(
                (*loc, "step"),
                f"step {step} is past the end of `{name}`, which has {count}; {expected}",
            )
        ]
    return []


def _task(
    name: str, tasks: list[tuple[int, dict[Any, Any]]], *, run: bool = False
) -> dict[Any, Any] | None:
    """The task ``name`` refers to: a task by its name, or one copy ``NAME-k`` of a repeated
    task. With ``run``, only what a running task is called: ``repeat: 3`` makes NAME-1 to
    NAME-3 and no task called NAME (faults find their target by that name)."""
    match = _COPY.match(name)
    for _, task in tasks:
        repeat = task.get("repeat", 1)
        repeated = isinstance(repeat, int) and not isinstance(repeat, bool) and repeat > 1
        if task["name"] == name and not (run and repeated):
            return task
        if match and repeated and task["name"] == match.group(1) and int(match[2]) <= repeat:
            return task
    return None


def _is_task(name: str, tasks: list[tuple[int, dict[Any, Any]]], *, run: bool = False) -> bool:
    return _task(name, tasks, run=run) is not None


_ERROR_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def injection_problem(scenario: Scenario, target: str, error: str) -> str | None:
    """What is wrong with a fault aimed at ``target`` (raising ``error``), or None.

    The same names a file's ``faults:`` may use: ``main``, a task (``NAME-k`` for repeated
    ones), or a lane ``thread-N`` / ``process-N``.
    """
    if not _ERROR_TYPE.match(error):
        return f"`{error}` is not an exception type name such as ValueError"
    if target in ("main", "gather") or _LANE.match(target):
        return None
    names = _run_names(scenario)
    if target in names:
        return None
    hint = did_you_mean(target, {*names, "main"}, listing=False)
    return f"no task or lane `{target}`" + (f"; {hint}" if hint else "")


def _run_names(scenario: Scenario) -> set[str]:
    """What the running tasks are called: NAME, or NAME-1 .. NAME-N for ``repeat: N``."""
    return {
        task.name if task.repeat == 1 else f"{task.name}-{i}"
        for task in scenario.tasks
        for i in range(1, task.repeat + 1)
    }
