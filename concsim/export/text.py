"""A run as coloured text: one timeline row per lane, then the outcome in a few lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.text import Text

from concsim.durations import format_time
from concsim.events import Event, FaultRefused
from concsim.ui.draw import Columns, draw_lane, draw_ruler
from concsim.ui.legend import Key, legend_of
from concsim.ui.timeline import Timeline
from concsim.ui.viewport import Viewport


def timeline(events: Sequence[Event], width: int = 72) -> RenderableType:
    """The app's lanes at the end of the run, as text: the same rows, cells and legend.

    The events are folded into the app's own ``Timeline`` and drawn by its ``draw_lane``
    with its palette and its story (moments, phases, lock spans), so a glyph printed here
    means what it means on the screen; the legend names exactly what was printed.
    """
    lanes = Timeline()
    lanes.feed(list(events))
    end = events[-1].t if events else 0.0
    longest = max((len(track.name) + 2 for track in lanes.rows), default=8)
    columns = Columns(name=min(longest + 1, 24), bar=max(1, width), label=0)
    window = Viewport().window(columns.bar, end, end)
    rows: list[RenderableType] = [_line(draw_ruler(window, end, columns))]
    drawn: set[Key] = set()
    for track in lanes.rows:
        row = draw_lane(track, window, end, columns, story=lanes.story, drawn=drawn)
        rows.append(_line(row))
    rows.append(legend_of(drawn))
    return Group(*rows)


def _line(segments: list[Segment]) -> Text:
    line = Text()
    for segment in segments:
        line.append(segment.text, segment.style)
    return line


def summary(result: dict[str, Any]) -> RenderableType:
    """The outcome: the main program, elapsed time, results, each task, warnings."""
    main = result["main"]
    lines: list[RenderableType] = []
    head = Text()
    head.append(f"{result['scenario']}", style="bold")
    if result.get("variant"):
        head.append(f" [{result['variant']}]", style="bold cyan")
    head.append(f"  elapsed {format_time(result['elapsed'])}  seed {result['seed']}  main: ")
    ok = main["outcome"] == "ok"
    head.append(
        main["outcome"] + (f" ({main['error']})" if main["error"] else ""),
        style="bold green" if ok else "bold red",
    )
    lines.append(head)
    if result["results"]:
        lines.append(Text("results: " + ", ".join(map(str, result["results"]))))
    for task in result["tasks"]:
        when = ""
        if task["started"] is not None:
            ended = "…" if task["ended"] is None else format_time(task["ended"])
            when = f" {format_time(task['started'])}→{ended}"
        error = f" {task['error']}" if task["error"] else ""
        cleanup = f" cleanup {task['cleanup']}" if task["cleanup"] != "none" else ""
        if task.get("exitcode") is not None:
            cleanup += f" exitcode {task['exitcode']}"
        style = "green" if task["outcome"] == "ok" else "yellow"
        line = Text(f"  {task['name']}: ")
        line.append(f"{task['outcome']}{error}", style=style)
        line.append(f"{when}{cleanup}", style="dim")
        if (future := task.get("future")) is not None:
            line.append(f"; its future {future['outcome']}: {future['repr']}", style="yellow")
        lines.append(line)
    if result["shared"]:
        shared = ", ".join(f"{k} = {v}" for k, v in result["shared"].items())
        lines.append(Text(f"shared: {shared}"))
    for warning in result["warnings"]:
        lines.append(Text(f"warning: {warning}", style="yellow"))
    for line_text in result["output"]:
        lines.append(Text(f"| {line_text}", style="dim"))
    return Group(*lines)


def refusals(events: Sequence[Event]) -> RenderableType:
    """Injected faults that had no effect, and why (a typo in --inject shows up here)."""
    lines = [
        Text(f"refused: {e.fault} on {e.target} at {format_time(e.t)}: {e.reason}", style="yellow")
        for e in events
        if isinstance(e, FaultRefused)
    ]
    return Group(*lines)
