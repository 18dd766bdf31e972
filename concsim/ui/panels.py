"""Pure text for the run screen's small panels: status bar, variants bar, futures, event lines."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from concsim.events import (
    CleanupSkipped,
    CleanupStarted,
    DeadlockDetected,
    Event,
    ExceptionRaised,
    FaultInjected,
    FaultRefused,
    GilChanged,
    LaneStateChanged,
    PoolBroken,
    ProcessKilled,
    ResultReceived,
    TimeoutExpired,
    WarningIssued,
)
from concsim.ui import glyphs
from concsim.ui.draw import format_time
from concsim.ui.ledger import Ledger

PLAYING, PAUSED, STALLED, FINISHED = "playing", "paused", "stalled", "finished"


def status_text(
    *, scenario: str, variant: str | None, now: float, speed: float, seed: int, mode: str
) -> Text:
    """``▶ playing · cpu-threads-gil · as written · t 512ms · x1 · seed 0``."""
    icon = {PLAYING: "▶", PAUSED: "‖", STALLED: "⊗", FINISHED: "■"}[mode]
    mode_style = {
        PLAYING: "bold green",
        PAUSED: "bold yellow",
        STALLED: "bold red",
        FINISHED: "bold cyan",
    }[mode]
    parts = [
        Text(f"{icon} {mode}", mode_style),
        Text(scenario, "bold"),
        Text(variant or "as written", "italic"),
        Text(f"t {format_time(now)}"),
        Text(f"×{speed:g}"),  # noqa: RUF001 (the multiplication sign is meant)
        Text(f"seed {seed}"),
    ]
    return Text(" · ", "grey50").join(parts)


def variants_text(
    current: str | None, elapsed: dict[str | None, float | None], key: str = "v"
) -> Text:
    """Each variant with its elapsed time; the one shown is highlighted."""
    text = Text.assemble((key, "bold cyan"), " ")
    for name, seconds in elapsed.items():
        took = format_time(seconds) if seconds is not None else "…"
        label = Text.assemble((name or "as written", "bold"), " ", (took, "italic"))
        label.pad(1)
        if name == current:
            label.stylize("reverse")
        text.append_text(label)
    text.rstrip()
    return text


_OUTPUT_LINES = 8


def futures_text(ledger: Ledger) -> Text:
    """One line per future, then shared state, printed output, and the results in order."""
    text = Text()
    if not ledger.futures:
        text.append("no futures yet", "grey62")
    for row in ledger.futures.values():
        glyph, style = glyphs.FUTURE_LOOKS[row.state]
        text.append(glyph + " ", style)
        text.append(row.task)
        detail = row.error or row.state.value  # the glyph already says it failed
        if row.cleanup == "skipped":
            detail += ", no finally"
        text.append(f" {detail}\n", style)
    if ledger.shared:
        text.append("shared state:\n", "bold")
        for name, (value, lost) in ledger.shared.items():
            text.append(f"{name} = {value!r}")
            if lost:
                text.append(f" ({lost} updates lost)", "bold red")
            text.append("\n")
    if ledger.output:
        text.append("output:\n", "bold")
        for line in ledger.output.splitlines()[-_OUTPUT_LINES:]:
            text.append(line + "\n", "italic")
    if ledger.results:
        text.append("received, in order:\n", "bold")
        for k, received in enumerate(ledger.results, 1):
            if received.error:
                text.append(f"{k}. {received.task} raised {received.error}\n", "red")
            else:
                text.append(f"{k}. {received.value!r}\n")
    text.rstrip()
    return text


_EVENT_STYLES: dict[type[Event], str] = {
    ExceptionRaised: "bold red",
    FaultInjected: "bold magenta",
    FaultRefused: "yellow",
    ProcessKilled: "bold red",
    PoolBroken: "bold red",
    DeadlockDetected: "bold red",
    TimeoutExpired: "bold yellow",
    CleanupStarted: "yellow",
    CleanupSkipped: "bold yellow",
    WarningIssued: "yellow",
    ResultReceived: "cyan",
    LaneStateChanged: "grey74",
    GilChanged: "grey58",
}


def event_line(event: Event) -> Text:
    """``  0.512s  thread-1 is blocked.`` — the time, then the event's why."""
    style = Style.parse(_EVENT_STYLES.get(type(event), ""))
    return Text.assemble((f"{format_time(event.t):>7} ", "grey62"), (event.why, style))
