"""Moving in time costs the same on a long run as on a short one: , . < > each feed the views
at most one checkpoint's spacing of events, and > < find their mark in the history's index
of marks, never by walking the run's events or the story's moments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from appkit import build, sync

from concsim.events import Event, ResultReceived
from concsim.scenario.library import bundled_scenarios
from concsim.ui import cells, fold
from concsim.ui.checkpoints import SPACING, Checkpoint
from concsim.ui.markindex import MarkIndex
from concsim.ui.timeline import Timeline, Track
from concsim.ui.widgets import lanes


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def generated(tasks: int, folder: Path) -> str:
    """process-overhead with ``tasks`` tasks: the same program, a longer history."""
    bundled = next(p for p in bundled_scenarios() if p.stem == "process-overhead").read_text()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"process-overhead-{tasks}.yaml"
    path.write_text(bundled.replace("repeat: 1000", f"repeat: {tasks}"))
    return str(path)


class Work:
    """Events fed to the views' timelines, checkpoints restored, lanes drawn and the
    columns of them sampled (not taken from a row's memo of final columns)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.fed = self.restored = self.rows = self.columns = 0
        feed, restore, sample = fold.feed, Checkpoint.restore, cells.sample_cells
        draw = lanes.draw_lane

        def counted(timeline: Timeline, ledger: Any, events: Any, start: int, end: int) -> Any:
            self.fed += max(0, end - start)
            return feed(timeline, ledger, events, start, end)

        def restored(checkpoint: Checkpoint) -> Any:
            self.restored += 1
            return restore(checkpoint)

        def drawn(*args: Any, **options: Any) -> Any:
            self.rows += 1
            return draw(*args, **options)

        def sampled(track: Track, t0: float, dt: float, count: int, now: float) -> list[int]:
            self.columns += max(0, count)
            return sample(track, t0, dt, count, now)

        monkeypatch.setattr(fold, "feed", counted)
        monkeypatch.setattr(Checkpoint, "restore", restored)
        monkeypatch.setattr(lanes, "draw_lane", drawn)
        monkeypatch.setattr(cells, "sample_cells", sampled)

    def counts(self) -> tuple[int, int, int, int]:
        return self.fed, self.restored, self.rows, self.columns


async def per_key(
    tasks: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, tuple[int, ...]]:
    """The most events any press of , . < > fed, checkpoints it restored, lanes it drew and
    columns it sampled, at the end and in the middle of the run; then the lanes on screen."""
    app, _ = build(generated(tasks, tmp_path), tmp_path)
    work = Work(monkeypatch)
    most: dict[str, tuple[int, ...]] = {}
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        await pilot.press("end")
        await screen.wait_idle()
        session = screen.session
        assert session.finished
        marks = session.run.made.marks
        results = [k for k, e in enumerate(session.events) if isinstance(e, ResultReceived)]
        assert set(results) <= set(marks.indices) and marks.known == len(session.events)
        for share in (1.0, 0.5):
            if share < 1.0:
                screen.seek_to(session.now * share)
                await screen.wait_idle()
            for key in (",", ",", ".", ".", "<", "<", ">", ">", ">"):
                before, seen = work.counts(), session.seen
                await pilot.press(key)
                await pilot.pause()  # the frame after it drawn
                taken = [after - was for after, was in zip(work.counts(), before, strict=True)]
                most[key] = tuple(map(max, most.get(key, taken), taken))
                if key in "<>" and session.seen < len(session.events):
                    # Landed on a mark of the index, the one next to where it was.
                    index = session.seen - 1
                    assert index in set(marks.indices)
                    between = range(index + 1, seen - 1) if key == "<" else range(seen, index)
                    assert not any(k in between for k in marks.indices)
        most["on screen"] = (screen.lanes.scrollable_content_region.height - 1,)
    assert app._exception is None
    return most


@sync
async def test_moving_keys_feed_no_more_on_a_long_run_than_on_a_short_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """process-overhead with 1,000 tasks (about 11,000 events) and 4,000 (about 45,000):
    . feeds one event, and , < > at most the events between two checkpoints, from one
    checkpoint at most, on both; each draws no more lanes than the screen shows, and , . <
    sample a few columns of each (a step back keeps the rows' final columns and strips:
    one history, shown to an earlier event)."""
    short = await per_key(1_000, tmp_path / "short", monkeypatch)
    long = await per_key(4_000, tmp_path / "long", monkeypatch)
    for most in (short, long):
        (shown,) = most["on screen"]
        assert most["."][:2] == (1, 0), most
        for key in ",<>":
            fed, restored = most[key][:2]
            assert fed <= SPACING and restored <= 1, most
        for key in ",.<>":
            assert most[key][2] <= shown, most
        for key in ",.<":
            assert most[key][3] <= 2 * shown, most


def test_the_index_takes_each_mark_once_whoever_folds_it() -> None:
    """Two runs folding the same history: the marks go in once, in order; a part folded
    again (a run shown from a checkpoint) adds nothing."""
    index = MarkIndex()
    events: list[Event] = [
        ResultReceived(seq=0, t=0.1, task="a", value="1"),
        ResultReceived(seq=1, t=0.2, task="b", value="2"),
    ]
    results = [k for k, event in enumerate(events) if isinstance(event, ResultReceived)]
    index.take(0, 1, [], results[:1])
    index.take(0, 1, [], results[:1])  # again, from the start
    index.take(1, 2, [], results[1:])
    assert list(index.indices) == [0, 1] and index.known == 2
    assert index.after(1) == 1 and index.after(2) is None
    assert index.before(1) == 0 and index.before(0) is None
    assert index.covers(2) and not index.covers(3)
