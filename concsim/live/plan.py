"""What the probe is told about a generated program: its tasks, step lines and helpers."""

from __future__ import annotations

from typing import Any

from concsim.live.runner import Plan
from concsim.scenario.model import Scenario


def plan_of(program: Any, scenario: Scenario) -> Plan:
    """The probe's plan for a ``concsim.codegen.Program`` of ``scenario`` (variant applied)."""
    writes: dict[int, str] = {}
    for line, site in program.sites.items():
        if str(site.kind) == "write":
            step = step_at(scenario, site.owner, site.path)
            if step is not None:
                writes[line] = step.write
    return Plan(
        source=program.source,
        tasks=tuple((name, task.function, task.index) for name, task in program.tasks.items()),
        lines=tuple(sorted(program.sites)),
        writes=writes,
        helpers=tuple(sorted(program.helpers)),
        actions=tuple(sorted(getattr(program, "actions", ()))),
        stop_event=program.stop_event,
    )


def step_at(scenario: Scenario, owner: str, path: tuple[str | int, ...]) -> Any:
    """The scenario step a site's ``path`` names, in ``main`` or a task; None if none."""
    if not path:
        return None
    node: Any
    if path[0] == "barriers" and len(path) >= 3:  # a barrier's action
        spec = scenario.barriers.get(str(path[1]))
        node = getattr(spec, str(path[2]), None)
        path = path[2:]
    elif owner == "main":
        program = scenario.program
        node = {"main": program.main_steps, "on_result": program.on_result}.get(
            str(path[0]), getattr(program, str(path[0]), None)
        )
    else:
        task = next((task for task in scenario.tasks if task.name == owner), None)
        if task is None:
            return None
        node = getattr(task, str(path[0]), None)
    for part in path[1:]:
        if node is None:
            return None
        node = node[part] if isinstance(part, int) else getattr(node, part, None)
    return node
