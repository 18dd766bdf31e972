"""Pure text for the run screen's small panels: status bar, variants bar, futures, event lines."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from rich.style import Style
from rich.text import Text

from concsim import palette
from concsim.durations import format_time
from concsim.events import (
    CleanupSkipped,
    CleanupStarted,
    DeadlockDetected,
    Event,
    ExceptionRaised,
    FaultInjected,
    FaultRefused,
    FutureState,
    GilChanged,
    LaneState,
    LaneStateChanged,
    PoolBroken,
    ProcessKilled,
    ResultPicklingFailed,
    ResultReceived,
    ResultUnpicklingFailed,
    TimeoutExpired,
    WarningIssued,
)
from concsim.scenario.model import Model, Program, Scenario
from concsim.ui.ledger import FutureRow, Ledger
from concsim.ui.wrapping import glue_quantities, wrap_words

PLAYING, PAUSED, STALLED, FINISHED = "playing", "paused", "stalled", "finished"


def speed_words(speed: float) -> str:
    """``4``, ``0.5``, ``1/32``: a speed below 1/2 that is one over a whole number reads as
    that fraction, not as ``0.03125``."""
    inverse = 1 / speed
    if speed < 0.5 and abs(inverse - round(inverse)) < 1e-9:
        return f"1/{round(inverse)}"
    return f"{speed:g}"


def status_text(
    *,
    scenario: str,
    variant: str | None,
    now: float,
    speed: float,
    seed: int,
    mode: str,
    busy: str | None = None,
) -> Text:
    """``▶ playing · cpu-threads-gil · as written · t 512ms · x1 · seed 0``; while a job
    works, ``⧗ running to the end 45%`` in place of the mode."""
    icon = {PLAYING: "▶", PAUSED: "‖", STALLED: "⊗", FINISHED: "■"}[mode]
    tones = palette.TONES
    mode_style = {
        PLAYING: tones["ok"],
        PAUSED: tones["warning!"],
        STALLED: tones["error!"],
        FINISHED: tones["info!"],
    }[mode]
    parts = [
        Text(f"⧗ {busy}", tones["fault!"]) if busy else Text(f"{icon} {mode}", mode_style),
        Text(scenario, "bold"),
        Text(variant or "as written", "italic"),
        Text(f"t {format_time(now)}"),
        Text(f"×{speed_words(speed)}"),  # noqa: RUF001 (the multiplication sign is meant)
        Text(f"seed {seed}"),
    ]
    return Text(" · ", tones["faint"]).join(parts)


def variants_text(
    current: str | None,
    elapsed: dict[str | None, float | None],
    key: str = "v",
    width: int | None = None,
) -> Text:
    """Each variant with its elapsed time; the one shown is highlighted. Too wide for
    ``width``, only the one shown keeps its time; still too wide, the line is cut at
    either end (``…``) around the one shown, which stays whole in view."""
    line, _ = _variants_line(current, elapsed, key, all_times=True)
    if width is None or line.cell_len <= width:
        return line
    line, where = _variants_line(current, elapsed, key, all_times=False)
    if line.cell_len <= width:
        return line
    return _around(line, where, len(key) + 1, width)


def _variants_line(
    current: str | None, elapsed: dict[str | None, float | None], key: str, *, all_times: bool
) -> tuple[Text, tuple[int, int]]:
    """The bar's line, and where in it the variant shown is (start, end)."""
    text = Text.assemble((key, palette.TONES["info!"]), " ")
    where = (len(text), len(text))
    for name, seconds in elapsed.items():
        label = Text.assemble((name or "as written", "bold"))
        if all_times or name == current:
            took = format_time(seconds) if seconds is not None else "…"
            label.append_text(Text.assemble(" ", (took, "italic")))
        label.pad(1)
        if name == current:
            label.stylize("reverse")
            where = (len(text), len(text) + len(label))
        text.append_text(label)
    text.rstrip()
    return text, where


def _around(line: Text, where: tuple[int, int], head: int, width: int) -> Text:
    """``line`` in ``width`` cells: its first ``head`` characters (the key), then a window
    of the rest holding ``where``, with ``…`` where the line was cut."""
    room = max(1, width - head - 2)
    start = max(head, min(where[0], where[1] - room))
    end = min(len(line), start + room)
    start = max(head, end - room)
    faint = palette.TONES["faint"]
    text = line[:head]
    text.append("…" if start > head else " ", faint)
    text.append_text(line[start:end])
    if end < len(line):
        text.append("…", faint)
    return text


_OUTPUT_LINES = 8
QUEUED_WORDS = "marked running in the call queue; no worker took it"
"""The key to ``palette.QUEUED_GLYPH``, under the rows that show it."""
SUMMARY_FROM = 25  # futures from which the panel summarises instead of listing every one
_ROWS = 6  # rows of each kind a summary shows
_ORDER = (
    FutureState.RUNNING,
    FutureState.FAILED,
    FutureState.CANCELLED,
    FutureState.PENDING,
    FutureState.DONE,
)


def notes_markdown(scenario: Scenario, variant: str | None) -> str:
    """The notes panel's Markdown: the scenario's name and summary; with a ``variant``
    chosen (None: as written), its name, its summary (what it changes) and its own notes,
    if it has them; then the scenario's own notes. Each number joined to its unit by a
    no-break space (``glue_quantities``)."""
    notes = scenario.notes or "*This scenario has no notes.*"
    head = f"# {scenario.name}\n\n*{scenario.summary}*\n\n"
    chosen = next((v for v in scenario.variants if v.name == variant), None)
    if chosen is None:
        return glue_quantities(head + notes)
    summary = f"*{chosen.summary}*\n\n" if chosen.summary else ""
    own = f"{chosen.notes.strip()}\n\n" if chosen.notes else ""
    text = f"{head}## Variant `{chosen.name}`\n\n{summary}{own}{notes}"
    return glue_quantities(text)  # a number never wrapped apart from its unit


def tasks_noun(program: Program) -> str:
    """What the program's tasks are, as its code holds them: ``futures`` (an executor's,
    or asyncio Tasks, which are futures), ``threads`` or ``processes`` (one
    ``threading.Thread`` / ``multiprocessing.Process`` each) or ``calls`` (sequential)."""
    if program.model is Model.SEQUENTIAL:
        return "calls"
    if not program.executor and program.model in (Model.THREADS, Model.PROCESSES):
        return "threads" if program.model is Model.THREADS else "processes"
    return "futures"


def futures_text(ledger: Ledger, noun: str = "futures", width: int | None = None) -> Text:
    """One line per future (a big run: counts by state, then the rows that matter), then
    shared state, printed output, and the results in order. ``noun`` names the tasks as
    the program holds them (``tasks_noun``); with a ``width``, the output is wrapped to it
    at word boundaries (``wrap_words``)."""
    text = Text()
    if not ledger.futures:
        text.append(f"no {noun} yet", palette.TONES["faint"])
    elif len(ledger.futures) < SUMMARY_FROM:
        for row in ledger.futures.values():
            _future_row(text, row)
    else:
        _futures_summary(text, ledger, noun)
    if palette.QUEUED_GLYPH in text.plain:
        text.append(f"{palette.QUEUED_GLYPH} {QUEUED_WORDS}\n", palette.TONES["faint"])
    if ledger.shared:
        text.append("shared state:\n", "bold")
        for name, (value, lost) in ledger.shared.items():
            text.append(f"{name} = {value!r}")
            if lost:
                text.append(f" ({lost} updates lost)", palette.TONES["error!"])
            text.append("\n")
    if ledger.output:
        text.append("output:\n", "bold")
        for line in ledger.output.splitlines()[-_OUTPUT_LINES:]:
            for piece in wrap_words(line, width) if width else [line]:
                text.append(piece + "\n", "italic")
    if ledger.results:
        _results(text, ledger)
    text.rstrip()
    return text


def _future_row(text: Text, row: FutureRow) -> None:
    # A plain process that died has no future to settle: say so, not "running".
    killed = row.outcome == "killed" and row.state in (FutureState.PENDING, FutureState.RUNNING)
    glyph, style = palette.FUTURE_LOOKS[row.state]
    detail = row.error or row.state.value  # the glyph says it failed
    if killed:
        look = palette.LOOKS[LaneState.KILLED]  # as its lane shows it: †, not ✗ (it raised)
        glyph, style, detail = look.mark, look.style, look.words
    elif row.state is FutureState.RUNNING and not row.taken:
        # Marked running in a process pool's call queue, and no worker took it: the log
        # says it never started, and so does this row once the run is over.
        glyph, style = palette.QUEUED_GLYPH, palette.QUEUED  # explained under the rows
        detail = "never started" if row.outcome == "never_started" else "running, in queue"
    if row.outcome == "cancelled" and row.state is FutureState.DONE:
        # ``if stop.is_set(): return``: the function returned, so its future is done, but
        # the task stopped early: the lane's glyph and word, not a tick that says it finished
        look = palette.LOOKS[LaneState.STOPPED]
        glyph, style, detail = look.mark, look.style, look.words
    text.append(glyph + " ", style)
    text.append(row.task)
    if row.exitcode is not None:
        detail += f", exitcode {row.exitcode}"
    if row.cleanup == "skipped":
        detail += ", no finally"
    text.append(f" {detail}\n", style)


def _futures_summary(text: Text, ledger: Ledger, noun: str) -> None:
    """``1,000 futures: ◐ 4 running · ○ 183 pending · ✓ 813 done``, then the running,
    failed and cancelled futures and the latest to change, a few of each."""
    text.append(f"{len(ledger.futures):,} {noun}: ", "bold")
    counts = [(state, len(ledger.by_state[state])) for state in _ORDER]
    for k, (state, count) in enumerate((s, n) for s, n in counts if n):
        glyph, style = palette.FUTURE_LOOKS[state]
        text.append(" · " if k else "", palette.TONES["faint"])
        text.append(f"{glyph} {count:,} {state.value}", style)
    text.append("\n")
    shown: set[str] = set()
    for state in (FutureState.RUNNING, FutureState.FAILED, FutureState.CANCELLED):
        tasks = ledger.by_state[state]
        _rows(text, ledger, list(islice(tasks, _ROWS)), len(tasks), f"{state.value}:")
        shown.update(islice(tasks, _ROWS))
    latest: list[str] = []
    for task in reversed(ledger.recent):
        if task not in shown:
            latest.append(task)
            if len(latest) == _ROWS:
                break
    _rows(text, ledger, latest[::-1], len(latest), "latest to change:")


def _rows(text: Text, ledger: Ledger, tasks: list[str], total: int, title: str) -> None:
    if not tasks:
        return
    text.append(title + "\n", "bold")
    for task in tasks:
        _future_row(text, ledger.futures[task])
    if total > len(tasks):
        text.append(f"  and {total - len(tasks):,} more\n", palette.TONES["faint"])


def _results(text: Text, ledger: Ledger) -> None:
    results = ledger.results
    if len(results) < SUMMARY_FROM:
        text.append("received, in order:\n", "bold")
        shown: Iterable[int] = range(len(results))
    else:
        # The failures first (they explain the run), then the latest few.
        errors = ledger.failed_results[:_ROWS]
        latest = range(max(0, len(results) - _ROWS), len(results))
        text.append(f"received {len(results):,}, in order; ", "bold")
        text.append("the failures and the latest:\n" if errors else "the latest:\n", "bold")
        shown = sorted({*errors, *latest})
    previous = -1
    for k in shown:
        if k > previous + 1:
            text.append("  …\n", palette.TONES["faint"])
        previous = k
        received = results[k]
        if received.error:
            # The failed future's glyph too: the futures above may be scrolled out of view
            # (the panel keeps its end in view), and this is the failure main read.
            glyph, style = palette.FUTURE_LOOKS[FutureState.FAILED]
            text.append(f"{k + 1}. ")
            text.append(glyph, style)
            text.append(f" {received.task} raised {received.error}\n", palette.TONES["error"])
        else:
            text.append(f"{k + 1}. {received.value!r}\n")


_EVENT_TONES: dict[type[Event], str] = {  # the palette's tones (palette.TONES)
    ExceptionRaised: "error!",
    FaultInjected: "fault!",
    FaultRefused: "warning",
    ProcessKilled: "error!",
    PoolBroken: "error!",
    ResultUnpicklingFailed: "error!",
    ResultPicklingFailed: "error!",
    DeadlockDetected: "error!",
    TimeoutExpired: "warning!",
    CleanupStarted: "warning",
    CleanupSkipped: "warning!",
    WarningIssued: "warning",
    ResultReceived: "info",
    LaneStateChanged: "state",
    GilChanged: "faint",
}


def event_line(event: Event) -> Text:
    """``  0.512s  thread-1 is blocked.`` — the time, then the event's why."""
    tone = _EVENT_TONES.get(type(event))
    style = palette.TONES[tone] if tone else Style.null()
    when = f"{format_time(event.t):>7} "
    return Text.assemble((when, palette.TONES["faint"]), (event.why, style))
