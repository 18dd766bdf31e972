"""A barrier with an ``action``: the function the last party runs, then the barrier made
with it, ``gate = threading.Barrier(3, action=gate_action)``, written before the tasks."""

from __future__ import annotations

from concsim.scenario import model as m

from .names import seconds
from .steps import Frame, Resources, walk, write_steps
from .writer import Writer

ACTION_OWNER = "barrier action"
"""The owner of an action's sites: it runs in whichever task's thread trips the barrier."""


def acting_barriers(scenario: m.Scenario) -> list[str]:
    """The barriers that have an action: made in the body, after their action's ``def``."""
    return [name for name, spec in scenario.barriers.items() if spec.action]


def barrier_line(scenario: m.Scenario, res: Resources, name: str, action: str = "") -> str:
    """``gate = threading.Barrier(3, timeout=0.5, action=gate_action)``; in asyncio
    ``gate = asyncio.Barrier(3)``, which takes nothing else."""
    spec = scenario.barriers[name]
    if scenario.program.model is m.Model.ASYNCIO:
        return f"{res.barriers[name]} = asyncio.Barrier({spec.parties})"
    args = [str(spec.parties)]
    if spec.timeout is not None:
        args.append(f"timeout={seconds(spec.timeout)}")
    if action:
        args.append(f"action={action}")
    return f"{res.barriers[name]} = threading.Barrier({', '.join(args)})"


def write_actions(w: Writer, res: Resources, scenario: m.Scenario) -> None:
    """Each action as a plain function (it runs in whichever thread trips the barrier),
    then its barrier."""
    for name in acting_barriers(scenario):
        spec = scenario.barriers[name]
        function = f"{res.barriers[name]}_action"
        res.taken.add(function)
        frame = Frame(ACTION_OWNER, False, '"main"', fills=res.fills)
        w.line(f"def {function}():")
        with w.indented():
            written = sorted(
                {res.shared[s.write] for s in walk(spec.action) if isinstance(s, m.WriteStep)}
            )
            if written:
                w.line("global " + ", ".join(written))
            write_steps(w, res, frame, spec.action, ("barriers", name, "action"))
        w.blank()
        w.blank()
        w.line(barrier_line(scenario, res, name, function))
        w.blank()
        w.blank()
