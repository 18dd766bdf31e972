"""concsim code: the program a scenario stands for, its site map, and that it runs on
CPython with the simulator's results (tests/programkit.py compares them)."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from programkit import disagreements, run_program, simulate, timeout_for

from concsim.cli import main
from concsim.codegen import Program, SiteKind, TaskSite, program
from concsim.scenario import model as m
from concsim.scenario.library import bundled_scenarios
from concsim.scenario.loader import load_scenario, load_scenario_text
from concsim.scenario.model import Scenario

BUNDLED = [load_scenario(path) for path in bundled_scenarios()]
PROGRAMS = [(s, v) for s in BUNDLED for v in (None, *s.variant_names)]
IDS = [f"{s.name}--{v}" if v else s.name for s, v in PROGRAMS]


def bundled(name: str) -> Scenario:
    return next(s for s in BUNDLED if s.name == name)


def inline(text: str) -> Scenario:
    return load_scenario_text(textwrap.dedent(text), "test.yaml")


def line_of(prog: Program, number: int) -> str:
    return prog.source.splitlines()[number - 1]


# --- the code's style, pinned ------------------------------------------------------------

IO_THREADS = '''\
"""The same five downloads on five threads take 0.5 s, not 2.5 s.

Written by `concsim code io-threads`.
"""

import time
from concurrent.futures import ThreadPoolExecutor, as_completed


def request(i):
    time.sleep(0.5)  # requests.get(url)
    return f"page {i}"


def main():
    results = []
    with ThreadPoolExecutor(max_workers=5) as executor:
        futures = [executor.submit(request, i) for i in range(1, 6)]
        for future in as_completed(futures):
            results.append(future.result())
    return results


if __name__ == "__main__":
    main()
'''


TASKGROUP_CANCELS_SIBLINGS = '''\
"""One coroutine fails in a TaskGroup; its siblings are cancelled, the group raises.

Written by `concsim code taskgroup-cancels-siblings`.
"""

import asyncio


async def fast():
    try:
        await asyncio.sleep(1.0)  # await download()
    finally:
        await asyncio.sleep(0.05)  # await session.close()
    return "fast done"


async def fails():
    await asyncio.sleep(0.3)  # await download()
    raise ValueError("bad payload")


async def slow():
    try:
        await asyncio.sleep(2.0)  # await download()
    finally:
        await asyncio.sleep(0.05)  # await session.close()
    return "slow done"


async def main():
    results = []
    async with asyncio.TaskGroup() as tg:
        tasks = [
            tg.create_task(fast(), name="fast"),
            tg.create_task(fails(), name="fails"),
            tg.create_task(slow(), name="slow"),
        ]
    for task in tasks:
        results.append(task.result())
    return results


if __name__ == "__main__":
    asyncio.run(main())
'''


RACE_WITH_LOCK = '''\
"""The same four threads with a lock around read-modify-write; the count is exact.

Written by `concsim code race-with-lock`.
"""

import threading
import time

counter = 0
lock = threading.Lock()


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


def adder(i):
    global counter
    for _ in range(100):
        lock.acquire()  # with lock
        tmp = counter
        spin(0.0002)  # work()
        counter = tmp + 1
        lock.release()
        spin(0.0001)  # next loop
    return f"adder-{i} done"


def main():
    threads = [threading.Thread(target=adder, args=(i,)) for i in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
'''


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("io-threads", IO_THREADS),
        ("taskgroup-cancels-siblings", TASKGROUP_CANCELS_SIBLINGS),
        ("race-with-lock", RACE_WITH_LOCK),
    ],
)
def test_golden_program(name: str, text: str) -> None:
    """The exact program for a thread pool, a TaskGroup, and plain threads with a lock."""
    assert program(bundled(name)).source == text


@pytest.mark.parametrize(("scenario", "variant"), PROGRAMS, ids=IDS)
def test_every_program_compiles(scenario: Scenario, variant: str | None) -> None:
    """Every bundled scenario and variant gives Python that compiles and uses nothing of
    concsim: the code shown is the code run."""
    source = program(scenario, variant).source
    compile(source, f"{scenario.name}.py", "exec")
    assert "import concsim" not in source
    assert "from concsim" not in source


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_every_program_is_ruff_clean(tmp_path: Path) -> None:
    """ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade, simplify) finds nothing, and
    ruff format would change nothing."""
    for scenario, variant in PROGRAMS:
        name = scenario.name + (f"--{variant}" if variant else "")
        (tmp_path / f"{name.replace('-', '_')}.py").write_text(program(scenario, variant).source)
    rules = "E,F,W,I,B,UP,SIM"
    done = subprocess.run(
        ["ruff", "check", "--isolated", "--select", rules, "--line-length", "100", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout
    options = ["--isolated", "--line-length", "100", "--check", "--diff", str(tmp_path)]
    done = subprocess.run(["ruff", "format", *options], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


# --- the site map --------------------------------------------------------------------------

LINE_FRAGMENTS = {
    SiteKind.CPU: ("spin(",),
    SiteKind.NATIVE: ("crunch(",),
    SiteKind.IO: ("time.sleep(", "await asyncio.sleep("),
    SiteKind.SLEEP: ("time.sleep(", "await asyncio.sleep("),
    SiteKind.BLOCKING: ("time.sleep(",),
    SiteKind.TO_THREAD: ("await asyncio.to_thread(time.sleep, ", "time.sleep("),
    SiteKind.ACQUIRE: (".acquire(",),
    SiteKind.RELEASE: (".release()",),
    SiteKind.READ: ("tmp",),
    SiteKind.WRITE: ("+",),
    SiteKind.PUT: (".put(",),
    SiteKind.GET: (".get()",),
    SiteKind.CONSUME: ("while ",),
    SiteKind.REPEAT: ("for _ in range(",),
    SiteKind.RAISE: ("raise ",),
    SiteKind.PRINT: ("print(",),
    SiteKind.LOG: (".info(",),
    SiteKind.CHECK_STOP: ("if stop.is_set():",),
    SiteKind.SET_STOP: ("stop.set()",),
    SiteKind.WITH: ("with ",),
    SiteKind.SET: (".set()",),
    SiteKind.CLEAR: (".clear()",),
    SiteKind.WAIT: (".wait(",),
    SiteKind.ABORT: (".abort()",),
    SiteKind.RESET: (".reset()",),
    SiteKind.CREATE_TASK: ("asyncio.create_task(",),
    SiteKind.AWAIT: ("await ",),
    SiteKind.GATHER: ("await asyncio.gather(",),
    SiteKind.TASKGROUP: ("async with asyncio.TaskGroup() as tg:",),
    SiteKind.CANCEL: (".cancel(",),
    SiteKind.WITHIN: ("async with asyncio.timeout(",),
    SiteKind.SHIELD: ("await asyncio.shield(",),
    SiteKind.WAIT_FOR: (".wait_for(lambda: ",),
    SiteKind.NOTIFY: (".notify(",),
    SiteKind.NOTIFY_ALL: (".notify_all()",),
    SiteKind.LOOP: ("while ", "for attempt in range("),
    SiteKind.RESCHEDULE: (".reschedule(",),
}


def step_paths(steps: Any, prefix: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], Any]]:
    found = []
    for index, step in enumerate(steps):
        path = (*prefix, index)
        found.append((path, step))
        if isinstance(step, m.RepeatStep | m.WithinStep | m.TaskGroupStep):
            found += step_paths(step.steps, (*path, "steps"))
        elif isinstance(step, m.ConsumeStep):
            found += step_paths(step.each, (*path, "each"))
        elif isinstance(step, m.WithStep):
            found += step_paths(step.steps, (*path, "steps"))
        elif isinstance(step, m.LoopStep):
            found += step_paths(step.loop, (*path, "loop"))
        elif isinstance(step, m.AcquireStep | m.WaitStep | m.WaitForStep):
            found += step_paths(step.else_, (*path, "else"))
    return found


@pytest.mark.parametrize(("scenario", "variant"), PROGRAMS, ids=IDS)
def test_every_task_step_has_one_line(scenario: Scenario, variant: str | None) -> None:
    """Each step of each task is exactly one site, of its kind and label, on a line that does
    what the kind says."""
    prog = program(scenario, variant)
    for task in scenario.variant(variant).tasks:
        sites = {s.path: (n, s) for n, s in prog.sites.items() if s.owner == task.name}
        expected = step_paths(task.steps, ("steps",)) + step_paths(task.cleanup, ("cleanup",))
        step_sites = [s for s in prog.sites.values() if s.owner == task.name and s.path]
        assert len(step_sites) == len(expected)
        for path, step in expected:
            number, site = sites[path]
            assert (site.kind.value, site.label) == (m.step_kind(step), m.step_label(step))
            code = line_of(prog, number)
            assert any(fragment in code for fragment in LINE_FRAGMENTS[site.kind]), code


def test_main_sites_of_a_thread_pool() -> None:
    """io-threads: the with line, the submits, as_completed, each result, the return."""
    prog = program(bundled("io-threads"))
    main_sites = {
        line_of(prog, n).strip(): s.kind for n, s in prog.sites.items() if s.owner == "main"
    }
    assert main_sites == {
        "with ThreadPoolExecutor(max_workers=5) as executor:": SiteKind.EXECUTOR,
        "futures = [executor.submit(request, i) for i in range(1, 6)]": SiteKind.SUBMIT,
        "for future in as_completed(futures):": SiteKind.COLLECT,
        "results.append(future.result())": SiteKind.RESULT,
        "return results": SiteKind.RETURN,
    }


def test_cleanup_and_return_sites() -> None:
    """A task's finally: is a CLEANUP site, its return a RETURN site."""
    prog = program(bundled("taskgroup-cancels-siblings"))
    kinds = {(s.owner, s.kind): line_of(prog, n).strip() for n, s in prog.sites.items()}
    assert kinds[("fast", SiteKind.CLEANUP)] == "finally:"
    assert kinds[("fast", SiteKind.RETURN)] == 'return "fast done"'
    assert ("fails", SiteKind.RETURN) not in kinds  # it always raises: no dead return


def test_task_instances() -> None:
    """Each task instance maps to its function and the copy number it is called with."""
    assert program(bundled("io-threads")).tasks["request-3"] == TaskSite("request", "request", 3)
    deadlock = program(bundled("deadlock-lock-order"))
    assert deadlock.tasks["a-to-b"] == TaskSite("a-to-b", "a_to_b", None)
    nested = program(bundled("pickling-nested-function"))
    assert nested.tasks["helper"] == TaskSite("helper", "helper", None, nested=True)
    assert "    def helper():" in nested.source.splitlines()


def test_helpers_and_stop_event() -> None:
    """The tracer is told which helpers to skip and which Event check_stop reads."""
    assert program(bundled("process-divisors")).helpers == {"spin", "call"}
    assert program(bundled("vectorized-native")).helpers == {"spin", "crunch"}
    assert program(bundled("io-threads")).helpers == frozenset()
    assert program(bundled("cooperative-thread-cancel")).stop_event == "stop"
    assert program(bundled("race-lost-update")).shared == {"counter": "counter"}


# --- how steps are written -----------------------------------------------------------------


def test_names_become_identifiers() -> None:
    """Task names that are not identifiers, or are keywords or builtins, get a safe name."""
    prog = program(
        inline(
            """
            version: 1
            name: names
            tasks:
              - {name: n-2000, steps: [{io: 1ms}]}
              - {name: class, steps: [{io: 1ms}]}
              - {name: print, steps: [{io: 1ms}]}
            """
        )
    )
    assert [t.function for t in prog.tasks.values()] == ["n_2000", "class_", "print_"]


def test_key_error_and_own_exception_classes() -> None:
    """KeyError prints the repr of its argument; an unknown error type is declared."""
    prog = program(
        inline(
            """
            version: 1
            name: errors
            program: {model: sequential}
            tasks:
              - {name: a, steps: [{raise: KeyError, message: "'customer_id'"}]}
              - {name: b, steps: [{raise: ParseError, message: line 3}]}
            """
        )
    )
    assert '    raise KeyError("customer_id")' in prog.source.splitlines()
    assert "class ParseError(Exception):" in prog.source.splitlines()


def test_returns_fill_name_and_index() -> None:
    """``{name}`` and ``{i}`` in returns become an f-string over the copy number."""
    prog = program(
        inline(
            """
            version: 1
            name: returns
            tasks:
              - {name: parse, repeat: 2, steps: [{io: 1ms}], returns: "{name} #{i} {x}"}
              - {name: one, steps: [{io: 1ms}], returns: "{name} #{i}"}
              - {name: two, steps: [{io: 1ms}], returns: 42}
            """
        )
    )
    lines = prog.source.splitlines()
    assert '    return f"parse-{i} #{i} {{x}}"' in lines
    assert '    return "one #1"' in lines
    assert "    return 42" in lines


# --- the program on CPython against the simulator ------------------------------------------


def agree(scenario: Scenario, variant: str | None = None) -> dict[str, Any]:
    """Run the program on CPython; assert it agrees with the simulator; return the facts."""
    found, facts = compare(scenario, variant)
    assert found == [], facts["stderr"]
    return facts


def compare(scenario: Scenario, variant: str | None) -> tuple[list[str], dict[str, Any]]:
    """The disagreements between the program on CPython and the simulator, and the facts."""
    scenario = scenario.model_copy(update={"faults": ()})  # faults are applied from outside
    sim = simulate(scenario, variant)
    ran = run_program(scenario, variant, timeout_for(sim))
    found = disagreements(scenario, variant, sim, ran)
    wall = ran.facts.get("wall")
    timed = sim.out["main"]["outcome"] not in ("hung", "exited")  # os._exit: no probe report
    if timed and (wall is None or wall < floor(sim)):
        # cpu and native are calibrated work: a program is never much faster than the
        # scenario says (it can be slower: fewer cores here, other load, real overheads).
        found.append(f"elapsed: simulator says {sim.out['elapsed']}, CPython took {wall}")
    facts = {"sim": sim.out, "cpython": ran.facts, "stdout": ran.stdout, "stderr": ran.stderr}
    return found, facts


def floor(sim: Any) -> float:
    return 0.5 * float(sim.out["elapsed"]) - 0.2


@pytest.mark.parametrize("scenario", BUNDLED, ids=[s.name for s in BUNDLED])
def test_program_agrees_with_simulator(scenario: Scenario) -> None:
    """For the scenario and each variant, run at once: results (in order, or as a set
    among near-equal finishers), main's outcome and error, output lines, the traceback and
    shared values match the simulator's outcome."""
    variants = [None, *scenario.variant_names]
    with ThreadPoolExecutor(len(variants)) as pool:
        runs = list(pool.map(lambda variant: compare(scenario, variant), variants))
    names = [variant or "default" for variant in variants]
    found = {name: lines for name, (lines, _) in zip(names, runs, strict=True)}
    assert found == {name: [] for name in names}


def test_catches_cleanup_and_on_result_run() -> None:
    """except swallows the error, finally prints, main prints per result."""
    facts = agree(
        inline(
            """
            version: 1
            name: handlers
            program: {model: threads, max_workers: 2, collect: map, on_result: [{print: got}]}
            tasks:
              - name: parse
                repeat: 2
                catches: [ValueError]
                steps: [{io: 10ms}, {raise: ValueError, message: bad}]
                cleanup: [{print: closing}]
                returns: "{name} ok"
            """
        )
    )
    assert facts["cpython"]["results"] == ["parse-1 ok", "parse-2 ok"]
    assert sorted(facts["stdout"].split()) == ["closing", "closing", "got", "got"]


def test_taskgroup_timeout_and_on_error_run() -> None:
    """asyncio.timeout around a TaskGroup: the child's finally runs, then on_error, then
    TimeoutError leaves main."""
    facts = agree(
        inline(
            """
            version: 1
            name: group-timeout
            program:
              model: asyncio
              collect: {pattern: taskgroup, timeout: 50ms}
              on_error: [{print: giving up}]
            tasks:
              - {name: slow, steps: [{sleep: 1s}], cleanup: [{print: slow cleaned}]}
            """
        )
    )
    assert facts["stdout"].splitlines() == ["slow cleaned", "giving up"]
    assert facts["cpython"]["error"] == "TimeoutError"


def test_queue_consumer_returns_what_it_took() -> None:
    """A consumer with no ``returns`` returns the items it took, as the simulator does."""
    facts = agree(
        inline(
            """
            version: 1
            name: consume
            program: {model: threads, collect: map}
            queues: {q: {}}
            tasks:
              - name: producer
                steps: [{put: q, value: 1}, {put: q, value: 2}, {put: q, value: null}]
              - {name: eater, steps: [{consume: q, each: [{io: 5ms}]}]}
            """
        )
    )
    assert facts["cpython"]["results"] == ["producer done", [1, 2]]


def test_plain_processes_and_an_explicit_shutdown_run() -> None:
    """multiprocessing.Process per task; a pool shut down by a main step, then a print."""
    agree(
        inline(
            """
            version: 1
            name: plain-processes
            program: {model: processes, executor: false, collect: join}
            tasks:
              - {name: w, repeat: 2, steps: [{cpu: 10ms}, {print: hi}]}
            """
        )
    )
    facts = agree(
        inline(
            """
            version: 1
            name: explicit-shutdown
            program:
              model: threads
              max_workers: 1
              main: [submit, {shutdown: {wait: true}}, {print: shut down}, collect]
            tasks:
              - {name: job, repeat: 2, steps: [{io: 20ms}], returns: "job {i}"}
            """
        )
    )
    assert facts["stdout"] == "shut down\n"


def test_wait_first_completed_and_an_unlocked_counter_run() -> None:
    """wait(FIRST_COMPLETED) hands main the first finisher; ``counter += 1`` with no read."""
    facts = agree(
        inline(
            """
            version: 1
            name: first
            program:
              model: threads
              collect: {pattern: wait, return_when: FIRST_COMPLETED}
            shared: {counter: 5}
            tasks:
              - {name: quick, steps: [{io: 10ms}, {write: counter, add: 2}]}
              - {name: slow, steps: [{io: 300ms}]}
            """
        )
    )
    assert facts["cpython"]["results"] == ["quick done"]
    assert facts["cpython"]["shared"] == {"counter": 7}


# --- the command ---------------------------------------------------------------------------


def test_cli_prints_the_program() -> None:
    """``concsim code NAME [--variant V]`` prints exactly the program, nothing else."""
    runner = CliRunner()
    done = runner.invoke(main, ["code", "io-threads"])
    assert (done.exit_code, done.stdout) == (0, program(bundled("io-threads")).source)
    done = runner.invoke(main, ["code", "io-threads", "--variant", "two-workers"])
    assert done.exit_code == 0
    assert "    with ThreadPoolExecutor(max_workers=2) as executor:" in done.stdout.splitlines()


def test_cli_unknown_variant() -> None:
    """An unknown variant is an error (exit 2) that names the variants there are."""
    done = CliRunner().invoke(main, ["code", "io-threads", "--variant", "nope"])
    assert done.exit_code == 2
    assert done.stderr == "io-threads: no variant 'nope' in io-threads (variants: two-workers)\n"


def test_cli_reads_a_scenario_file(tmp_path: Path) -> None:
    """A file path works as well as a bundled name; the docstring names the variant."""
    path = tmp_path / "mine.yaml"
    path.write_text(
        textwrap.dedent(
            """
            version: 1
            name: mine
            summary: One wait.
            tasks: [{name: wait, steps: [{io: 10ms}]}]
            variants: [{name: solo, summary: In sequence., program: {model: sequential}}]
            """
        )
    )
    done = CliRunner().invoke(main, ["code", str(path), "--variant", "solo"])
    assert done.exit_code == 0
    assert done.stdout.splitlines()[:6] == [
        '"""One wait.',
        "",
        "Variant solo: In sequence.",
        "",
        "Written by `concsim code mine --variant solo`.",
        '"""',
    ]


def test_unpicklable_functions_are_written_as_the_file_says() -> None:
    """``picklable: lambda`` is a lambda inside main(), ``module-lambda`` one at module level;
    on CPython the first fails with AttributeError "Can't pickle local object", the second with
    PicklingError, as the simulator says (Lib/pickle.py save_global)."""
    template = """
        version: 1
        name: lambdas
        program: {{model: processes, max_workers: 1}}
        tasks:
          - {{name: job, picklable: {how}, steps: [{{cpu: 1ms}}]}}
        """
    inner = inline(template.format(how="lambda"))
    outer = inline(template.format(how="module-lambda"))
    assert "\n    job = lambda: job_body()\n" in program(inner).source
    assert "\njob = lambda: job_body()\n" in program(outer).source
    assert program(inner).tasks["job"] == TaskSite("job", "job_body", None, True)
    assert program(outer).tasks["job"] == TaskSite("job", "job_body", None, False)
    assert simulate(inner, None).out["main"]["error"] == "AttributeError"
    assert simulate(outer, None).out["main"]["error"] == "PicklingError"
    agree(inner)
    agree(outer)
