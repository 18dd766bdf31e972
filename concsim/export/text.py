"""A run as coloured text: one timeline row per lane, then the outcome in a few lines."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text

from concsim.durations import format_time
from concsim.events import (
    Event,
    FaultRefused,
    GilChanged,
    LaneCreated,
    LaneKind,
    LaneState,
    LaneStateChanged,
    RunStarted,
)

# One character per state, distinct without colour (NO_COLOR, logs, CI output).
GLYPHS: dict[LaneState, tuple[str, str]] = {
    LaneState.IDLE: (" ", ""),
    LaneState.QUEUED: (":", "grey70"),
    LaneState.STARTING: (">", "yellow"),
    LaneState.RUNNING: ("#", "green"),
    LaneState.NATIVE: ("N", "cyan"),
    LaneState.IO: ("~", "blue"),
    LaneState.GIL_WAIT: ("g", "dark_orange"),
    LaneState.CORE_WAIT: ("c", "orange3"),
    LaneState.READY: ("-", "yellow"),
    LaneState.BLOCKED: ("=", "magenta"),
    LaneState.LOOP_BLOCKED: ("B", "bold red"),
    LaneState.PICKLING: ("p", "medium_purple"),
    LaneState.CLEANUP: ("f", "black on yellow"),
    LaneState.DONE: (" ", ""),
    LaneState.FAILED: ("X", "bold white on red"),
    LaneState.CANCELLED: ("C", "black on magenta"),
    LaneState.KILLED: ("K", "bold white on dark_red"),
    LaneState.HUNG: ("?", "bold red"),
}
_END_MARKS = {LaneState.DONE: ("|", "green")}


def timeline(events: Sequence[Event], width: int = 72) -> RenderableType:
    """Lanes top to bottom (main first), time left to right, sampled at column starts."""
    start = next((e for e in events if isinstance(e, RunStarted)), None)
    end = events[-1].t if events else 0.0
    lanes: list[LaneCreated] = [e for e in events if isinstance(e, LaneCreated)]
    changes: dict[str, tuple[list[float], list[LaneState]]] = {
        lane.lane: ([], []) for lane in lanes
    }
    gil: dict[str, tuple[list[float], list[str | None]]] = {}
    for event in events:
        if isinstance(event, LaneStateChanged):
            times, states = changes[event.lane]
            times.append(event.t)
            states.append(event.state)
        elif isinstance(event, GilChanged):
            times_g, holders = gil.setdefault(event.process, ([], []))
            times_g.append(event.t)
            holders.append(event.holder)
    order = sorted(
        lanes,
        key=lambda made: (
            made.lane_kind is not LaneKind.MAIN,
            made.process != "main",
            made.process,
            made.seq,
        ),
    )
    gil_labels = {process: f"GIL {process}" for process in gil} if start and start.gil else {}
    label_width = (
        max([len(made.lane) for made in order] + [len(g) for g in gil_labels.values()] + [8]) + 1
    )
    span = end if end > 0 else 1.0
    columns = [span * i / width for i in range(width)]
    rows: list[RenderableType] = []
    scale = Text(" " * label_width + "0".ljust(width - 8) + format_time(end).rjust(8), style="dim")
    rows.append(scale)
    for lane in order:
        times, states = changes[lane.lane]
        row = Text(lane.lane.ljust(label_width), style="bold")
        previous: LaneState | None = None
        for column in columns:
            index = bisect_right(times, column) - 1
            state = states[index] if index >= 0 else None
            if state is None:
                row.append(" ")
            else:
                glyph, style = (
                    _END_MARKS.get(state, GLYPHS[state]) if state is not previous else GLYPHS[state]
                )
                row.append(glyph, Style.parse(style) if style else None)
            previous = state
        rows.append(row)
    if start is not None and start.gil:
        for process, (times_g, holders) in sorted(gil.items()):
            row = Text(gil_labels[process].ljust(label_width), style="bold dim")
            for column in columns:
                index = bisect_right(times_g, column) - 1
                holder = holders[index] if index >= 0 else None
                row.append(_gil_glyph(holder), "green" if holder else "dim")
            rows.append(row)
    rows.append(_legend(changes, bool(gil_labels)))
    return Group(*rows)


def _legend(changes: dict[str, tuple[list[float], list[LaneState]]], has_gil: bool) -> Text:
    """The glyphs this timeline uses, and what they mean."""
    seen = {state for _, states in changes.values() for state in states}
    legend = Text()
    for state, (glyph, style) in GLYPHS.items():
        if state in seen and glyph != " ":
            legend.append(glyph, Style.parse(style) if style else None)
            legend.append(f" {state.value}  ", "dim")
    if LaneState.DONE in seen:
        legend.append("|", "green")
        legend.append(" done  ", "dim")
    if has_gil:
        legend.append("GIL row: the holder's number, . free", "dim")
    return legend


def _gil_glyph(holder: str | None) -> str:
    if holder is None:
        return "."
    return holder.rsplit("-", 1)[-1][-1] if "-" in holder else holder[0]


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
        style = "green" if task["outcome"] == "ok" else "yellow"
        line = Text(f"  {task['name']}: ")
        line.append(f"{task['outcome']}{error}", style=style)
        line.append(f"{when}{cleanup}", style="dim")
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
