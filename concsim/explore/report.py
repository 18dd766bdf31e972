"""An exploration for people (a graded histogram) and for programs (JSON), and its replays."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from concsim.durations import format_time
from concsim.explore.histogram import Bar, Histogram
from concsim.explore.runner import Exploration
from concsim.explore.samples import Verdict
from concsim.explore.schedule import ShrunkRun, shrink_seed
from concsim.replay import Replay, save_replay
from concsim.ui.saving import first_free, replay_stem

BAR_WIDTH = 24
STYLES: dict[Verdict, str] = {
    Verdict.ACCEPTABLE: "green",
    Verdict.INTERESTING: "yellow",
    Verdict.FORBIDDEN: "bold red",
    Verdict.UNEXPECTED: "bold red",
    Verdict.UNGRADED: "grey62",
}


def headline(found: Exploration) -> str:
    """``race-lost-update: 2,000 runs (seeds 0-1999) in 4.1s, 488 runs/s on 2 jobs``."""
    name = found.scenario.name + (f" [{found.variant}]" if found.variant else "")
    runs = found.histogram.runs
    seeds = (
        f"seed {found.first_seed}" if runs == 1 else f"seeds {found.first_seed}-{found.last_seed}"
    )
    return (
        f"{name}: {runs:,} runs ({seeds}) in {format_time(found.seconds)}, "
        f"{found.runs_per_second:,.0f} runs/s on {found.jobs} job{'s' if found.jobs > 1 else ''}"
    )


SHOWN_BARS = 20  # outcomes listed one by one; the rarer rest are counted in one line


def histogram_text(found: Exploration, replays: dict[int, Path] | None = None) -> RenderableType:
    """One line per outcome, commonest first: runs, share, bar, grade, what sets it apart,
    its first seed; under an outcome, the sentence of the expectation that graded it the
    first time it appears."""
    histogram = found.histogram
    bars = histogram.bars
    longest = max((bar.count for bar in bars), default=1)
    parts: list[RenderableType] = [Text(headline(found), style="bold")]
    said: set[str] = set()
    for bar in bars[:SHOWN_BARS]:
        parts.append(bar_line(histogram, bar, longest))
        if bar.why and bar.why not in said:
            said.add(bar.why)
            parts.append(Text(" " * 43 + bar.why, style="grey62"))
    rest = bars[SHOWN_BARS:]
    if rest:
        runs = sum(bar.count for bar in rest)
        parts.append(
            Text(f"{'':>9} {len(rest):,} rarer outcomes, {runs:,} runs (--json lists all)")
        )
    if found.stopped_at is not None:
        stop = found.stopped_at
        parts.append(Text(f"stopped at seed {stop.seed}: its run is {stop.verdict.value}"))
    if replays:
        folder = next(iter(replays.values())).parent
        first = replays[bars[0].seed]
        parts.append(
            Text(
                f"{len(replays)} replay file{'s' if len(replays) > 1 else ''} in {folder}, one per"
                f" outcome; the commonest: concsim run --replay {first}",
                style="grey62",
            )
        )
    return Group(*parts)


def bar_line(histogram: Histogram, bar: Bar, longest: int, width: int = BAR_WIDTH) -> Text:
    """One outcome: runs, share, a bar ``width`` cells long at ``longest`` runs, grade,
    what sets it apart, its first seed (the histogram here and the app's explore view)."""
    style = STYLES[bar.verdict]
    line = Text(f"{bar.count:>9,} {histogram.share(bar):>7.1%} ")
    line.append(_bar(bar.count / longest, width).ljust(width), style=style)
    line.append(f" {bar.verdict.value:<11}", style=style)
    line.append(f" {histogram.label(bar)}")
    line.append(f"  seed {bar.seed}", style="grey62")
    return line


def _bar(fraction: float, width: int) -> str:
    eighths = round(fraction * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + (" ▏▎▍▌▋▊▉"[rest] if rest else "") or "▏"


def to_json(found: Exploration, replays: dict[int, Path] | None = None) -> dict[str, Any]:
    histogram = found.histogram
    return {
        "scenario": found.scenario.name,
        "variant": found.variant,
        "runs": histogram.runs,
        "first_seed": found.first_seed,
        "last_seed": found.last_seed,
        "jobs": found.jobs,
        "seconds": round(found.seconds, 3),
        "runs_per_second": round(found.runs_per_second, 1),
        "varying": histogram.varying(),
        "outcomes": [_bar_json(found, bar, replays or {}) for bar in histogram.bars],
        "stopped_at": None if found.stopped_at is None else found.stopped_at.seed,
        "fails": histogram.fails,
    }


def _bar_json(found: Exploration, bar: Bar, replays: dict[int, Path]) -> dict[str, Any]:
    replay = replays.get(bar.seed)
    return {
        "count": bar.count,
        "share": round(found.histogram.share(bar), 6),
        "grade": bar.verdict.value,
        "why": bar.why,
        "label": found.histogram.label(bar),
        "facets": dict(bar.facets),
        "seeds": bar.seeds,
        "elapsed": {"min": bar.shortest, "max": bar.longest},
        "replay": None if replay is None else str(replay),
    }


def save_replays(found: Exploration, source: str, folder: Path) -> dict[int, Path]:
    """A replay file for each outcome's first seed, under names never taken before."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[int, Path] = {}
    for bar in found.histogram.bars:
        replay = Replay(source, bar.seed, found.variant, found.injections)
        stem = folder / replay_stem(found.scenario.name, found.variant, bar.seed)
        written[bar.seed] = first_free(stem, ".replay.yaml", _writer(replay))
    return written


def save_shrunk(found: Exploration, source: str, folder: Path, run: ShrunkRun) -> Path:
    """The shrunk run's replay file (``NAME-seedN-shrunk.replay.yaml``): its seed and, as
    ``draws``, the deviations kept, every other draw as written; ``concsim run --replay``
    opens that very run."""
    folder.mkdir(parents=True, exist_ok=True)
    replay = Replay(source, run.seed, found.variant, found.injections, draws=run.schedule)
    stem = folder / (replay_stem(found.scenario.name, found.variant, run.seed) + "-shrunk")
    return first_free(stem, ".replay.yaml", _writer(replay))


def _writer(replay: Replay) -> Callable[[Path], Path]:
    return lambda path: save_replay(path, replay, overwrite=False)


GRAVITY = (Verdict.FORBIDDEN, Verdict.UNEXPECTED, Verdict.INTERESTING)


def gravest(found: Exploration) -> Bar | None:
    """The outcome to shrink: the gravest grade there is, and of its outcomes the rarest."""
    for verdict in GRAVITY:
        bars = [bar for bar in found.histogram.bars if bar.verdict is verdict]
        if bars:
            return min(bars, key=lambda bar: (bar.count, bar.seed))
    return None


def shrink_gravest(found: Exploration) -> tuple[Bar, ShrunkRun] | None:
    bar = gravest(found)
    if bar is None:
        return None
    return bar, shrink_seed(found.scenario, found.variant, found.injections, bar.seed)


def shrunk_text(found: Exploration, shrunk: tuple[Bar, ShrunkRun] | None) -> RenderableType:
    """The shrunk run in words: which deviations it needs, then the updates it lost."""
    if shrunk is None:
        return Text("nothing to shrink: no forbidden, unexpected or interesting outcome")
    bar, run = shrunk
    count = len(run.schedule)
    head = Text(f"shrunk seed {run.seed} ", style="bold")
    head.append(f"({found.histogram.label(bar)}, {bar.verdict.value}): ", style=STYLES[bar.verdict])
    if count == 0:
        head.append("the schedule as written gives it; no deviation is needed")
    else:
        head.append(
            f"{count} deviation{'s' if count > 1 else ''} of {run.drawn} draws from the schedule"
            f" as written, found in {run.runs} runs"
            + ("" if run.complete else " (out of budget: fewer may do)")
        )
    return Group(head, *(Text("  " + line) for line in run.words))


def shrunk_json(bar: Bar, run: ShrunkRun) -> dict[str, Any]:
    return {
        "seed": run.seed,
        "label": dict(bar.facets),
        "grade": bar.verdict.value,
        "deviations": {str(index): value for index, value in sorted(run.schedule.items())},
        "draws": run.drawn,
        "runs": run.runs,
        "complete": run.complete,
        "words": run.words,
    }
