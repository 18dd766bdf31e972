"""Run a generated program on CPython and list where it disagrees with the simulator."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from concsim.codegen import program
from concsim.codegen.steps import walk
from concsim.engine import Simulation
from concsim.engine.runtime_core import expand_tasks
from concsim.events import OutputWritten, ResultReceived
from concsim.export.outcome import outcome
from concsim.live.interpreters import interpreter_for
from concsim.scenario import model as m
from concsim.scenario.model import Scenario

PROBE = Path(__file__).with_name("program_probe.py")
TIE = 0.05
"""Tasks the simulator ends this close together may finish in either order on CPython."""


@dataclass
class Ran:
    """What the program did on CPython."""

    returncode: int | None  # None: still running at the timeout (killed)
    stdout: str
    stderr: str
    facts: dict[str, Any]


@dataclass
class Simulated:
    out: dict[str, Any]
    received: list[tuple[str, Any, str | None, float]]  # (task, value, error, t) in order
    writers: set[str]  # lanes that wrote output


def simulate(scenario: Scenario, variant: str | None) -> Simulated:
    events = Simulation(scenario, variant=variant).run()
    received = [(e.task, e.value, e.error, e.t) for e in events if isinstance(e, ResultReceived)]
    writers = {e.lane for e in events if isinstance(e, OutputWritten)}
    return Simulated(outcome(events), received, writers)


def run_program(scenario: Scenario, variant: str | None, timeout: float) -> Ran:
    """``python PROGRAM`` under the probe, on the CPython the scenario names if this machine
    has it (else this one); killed after ``timeout`` seconds."""
    prog = program(scenario, variant)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "program.py")
        path.write_text(prog.source)
        facts_path = Path(tmp, "facts.json")
        python = interpreter_for(scenario.variant(variant).machine.python) or sys.executable
        command = [python, str(PROBE), str(path), str(facts_path), *prog.shared.values()]
        # Its own session: at the timeout the whole group goes, pool workers included (an
        # orphaned worker would hold the pipes open and communicate() would wait forever).
        with subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp,
            start_new_session=True,
        ) as proc:
            try:
                stdout, stderr = proc.communicate(timeout=timeout)
                code: int | None = proc.returncode
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # a hung program: its threads never end
                stdout, stderr = proc.communicate()
                code = None
        facts = json.loads(facts_path.read_text()) if facts_path.exists() else {}
    shared = {name: facts.get("shared", {}).get(py) for name, py in prog.shared.items()}
    facts["shared"] = shared
    return Ran(code, stdout, stderr, facts)


def timeout_for(sim: Simulated) -> float:
    """A hung program is given a little more than the simulator's time to show it is stuck;
    any other is given plenty, as a loaded machine can make CPU-bound work many times slower."""
    if sim.out["main"]["outcome"] == "hung":
        return float(sim.out["elapsed"]) + 2.0
    return 5 * float(sim.out["elapsed"]) + 120.0


def disagreements(scenario: Scenario, variant: str | None, sim: Simulated, ran: Ran) -> list[str]:
    """One line per fact on which CPython and the simulator differ (``[]``: they agree)."""
    chosen = scenario.variant(variant)
    out = sim.out
    found: list[str] = []

    def differ(fact: str, says: Any, did: Any) -> None:
        found.append(f"{fact}: simulator says {says!r}, CPython did {did!r}")

    main = out["main"]
    if main["outcome"] == "hung":
        if ran.returncode is not None:
            differ("main", "hung", f"exited {ran.returncode}")
        return found
    if ran.returncode is None:
        differ("main", main["outcome"], "hung (killed at the timeout)")
        return found
    if main["outcome"] == "exited":
        # os._exit: the probe's atexit hook never runs, so the exit status is the fact
        if ran.returncode != out["exit_code"]:
            differ("exit status", out["exit_code"], ran.returncode)
        return found
    error = ran.facts.get("error")
    if main["outcome"] == "ok" and (ran.returncode != 0 or error):
        differ("main", "ok", f"exit {ran.returncode}, {error}")
    if main["outcome"] == "raised" and error != main["error"]:
        differ("main.error", main["error"], error)
    _results(chosen, out, sim, ran, differ)
    _output(chosen, out, sim, ran, differ)
    _shared(chosen, out, ran, differ)
    return found


def _results(chosen: Scenario, out: dict[str, Any], sim: Simulated, ran: Ran, differ: Any) -> None:
    got = ran.facts.get("results", [])
    want = out["results"]
    completion = chosen.program.collect.pattern in (m.Pattern.AS_COMPLETED, m.Pattern.WAIT)
    if not completion:
        if got != want:
            differ("results", want, got)
        return
    # Completion order: results of tasks that end within TIE of each other form a group,
    # compared as a multiset (CPython's order among near-equal finishers is a coin toss);
    # so do the futures already done when as_completed() is called: it yields those in set
    # order. When a result re-raises in main, CPython may first have received any value
    # that was ready by then.
    ended = {task["name"]: task["ended"] for task in out["tasks"]}
    start = sim.received[0][3] if sim.received else 0.0
    groups: list[list[tuple[Any, str | None]]] = []
    last = None
    for task, value, error, received in sim.received:
        t = max(ended.get(task) or received, start)
        if last is None or t - last > TIE:
            groups.append([])
        groups[-1].append((value, error))
        last = t
    position = 0
    taken: Counter[str] = Counter()
    for group in groups:
        values = Counter(repr(v) for v, error in group if not error)
        if any(error for _, error in group):
            failed_at = max(ended.get(task) or t for task, _, _, t in sim.received)
            ready = Counter(
                repr(run.value)
                for run in expand_tasks(chosen)
                if _ok_by(out, run.name, failed_at + TIE)
            )
            if Counter(map(repr, got[position:])) - (ready - taken):
                differ("results", want, got)
            return
        part = got[position : position + values.total()]
        if Counter(map(repr, part)) != values:
            differ("results", want, got)
            return
        taken += values
        position += values.total()
    if position != len(got):
        differ("results", want, got)


def _ok_by(out: dict[str, Any], name: str, t: float) -> bool:
    """The task returned a value by time ``t`` in the simulation."""
    task = next(task for task in out["tasks"] if task["name"] == name)
    return task["outcome"] == "ok" and task["ended"] is not None and task["ended"] <= t


def _output(chosen: Scenario, out: dict[str, Any], sim: Simulated, ran: Ran, differ: Any) -> None:
    lines, logged = _callback_logs(list(out["output"]))
    traceback: list[str] = []
    if "Traceback (most recent call last):" in lines:
        start = lines.index("Traceback (most recent call last):")
        traceback, lines = lines[start:], lines[:start]
    excepthook = [line for line in lines if line.startswith("Exception in thread ")]
    lines = [line for line in lines if line not in excepthook]
    stdout = ran.stdout.splitlines()
    if len(sim.writers) <= 1:
        if stdout != lines:
            differ("output", lines, stdout)
    elif all(_is_log(line) for line in lines):
        if sorted(stdout) != sorted(lines):  # whole lines, each under the handler's lock
            differ("output (as a multiset of lines)", sorted(lines), sorted(stdout))
    else:
        texts = {s.print for t in chosen.tasks for s in walk(t.steps) if isinstance(s, m.PrintStep)}
        want = {text: "\n".join(lines).count(text) for text in texts}
        did = {text: ran.stdout.count(text) for text in texts}
        if want != did or len(lines) != len(stdout):
            differ("output (texts counted)", want, did)
    # An object's address differs run to run; the simulator writes it as 0x...
    stderr = [re.sub(r"0x[0-9a-f]+", "0x...", line.strip(" |")) for line in ran.stderr.splitlines()]
    if traceback and traceback[-1] not in stderr:
        differ("traceback", traceback[-1], stderr[-3:])
    for block in logged:  # logging.lastResort writes the record and its traceback to stderr
        if block[0] not in stderr or block[-1] not in stderr:
            differ("logged callback exception", block, stderr)
    for line in excepthook:
        name = line.removeprefix("Exception in thread ").split(":")[0]
        if not any(s.startswith(f"Exception in thread {name}") for s in stderr):
            differ("threading.excepthook", line, stderr[:3])


def _callback_logs(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """The output without the records ``Future._invoke_callbacks`` logs (``exception
    calling callback for ...`` and a traceback of three lines), and those records."""
    kept: list[str] = []
    logged: list[list[str]] = []
    index = 0
    while index < len(lines):
        if lines[index].startswith("exception calling callback for "):
            logged.append(lines[index : index + 4])
            index += 4
        else:
            kept.append(lines[index])
            index += 1
    return kept, logged


def _is_log(line: str) -> bool:
    return line.startswith("INFO ")


def _shared(chosen: Scenario, out: dict[str, Any], ran: Ran, differ: Any) -> None:
    for name, value in out["shared"].items():
        did = ran.facts["shared"].get(name)
        if name in racy(chosen):
            low = chosen.shared.get(name, 0)
            high = low + total_adds(chosen, name)
            if did is None or not low <= did <= high:
                differ(f"shared {name} (racy, in {low}..{high})", value, did)
        elif did != value:
            differ(f"shared {name}", value, did)


def racy(scenario: Scenario) -> set[str]:
    """Shared variables some task reads or writes without holding a lock: their final
    value depends on where CPython switches threads."""
    names: set[str] = set()
    for task in scenario.tasks:
        held: set[str] = set()

        def visit(steps: Any, held: set[str] = held) -> None:
            for step in steps:
                if isinstance(step, m.AcquireStep):
                    held.add(step.acquire)
                elif isinstance(step, m.ReleaseStep):
                    held.discard(step.release)
                elif isinstance(step, m.ReadStep | m.WriteStep) and not held:
                    names.add(step.read if isinstance(step, m.ReadStep) else step.write)
                elif isinstance(step, m.RepeatStep):
                    for _ in range(min(step.repeat, 2)):
                        visit(step.steps)
                elif isinstance(step, m.ConsumeStep):
                    visit(step.each)

        visit(task.steps)
    return names


def total_adds(scenario: Scenario, name: str) -> int:
    """Every write's ``add`` to ``name``, over every copy of every task."""

    def adds(steps: Any) -> int:
        total = 0
        for step in steps:
            if isinstance(step, m.WriteStep) and step.write == name:
                total += step.add
            elif isinstance(step, m.RepeatStep):
                total += step.repeat * adds(step.steps)
        return total

    return sum(task.repeat * adds((*task.steps, *task.cleanup)) for task in scenario.tasks)
