"""Moments moved aside are placed once per zoom level, inside the row's memo: a frame places
anew only the columns near its edges, and draws what placing the whole window draws."""

from __future__ import annotations

import math
import random

import pytest
from test_draw_timeline import start  # tests/ is on sys.path (rootdir-relative imports)

from concsim import palette
from concsim.events import LaneKind, LaneState
from concsim.palette import Cue
from concsim.ui import aside
from concsim.ui import cells as cells_module
from concsim.ui.cells import MARK, Window, lane_cells
from concsim.ui.timeline import CODE, CUE_CODE, Timeline, Track

_MOVED = {CUE_CODE[cue] for cue in Cue if cue is not Cue.RESULT}
_TOLD_BY = {CUE_CODE[cue]: CODE[state] for cue, state in palette.TOLD_BY.items()}


def whole_window(cells: list[int], track: Track, t0: float, dt: float) -> list[int]:
    """The definition: every moment of the window placed over the whole window at once."""
    cells = cells[:]
    times, codes = track.mark_times, track.mark_codes
    count = len(cells)
    first, last = aside.span(times, t0, dt, count)
    if last - first < 2 or last - first > count:
        return cells
    origin = t0 - 1e-9 * dt
    cols = [
        min(count - 1, max(0, math.floor((times[k] - origin) / dt))) for k in range(first, last)
    ]
    winner: dict[int, int] = {}
    for k, col in enumerate(cols):
        if codes[first + k] == cells[col] - MARK:
            winner.setdefault(col, k)
    hidden: dict[tuple[int, int, int], None] = {}
    for k, col in enumerate(cols):
        code, shown = codes[first + k], cells[col] - MARK
        if code in _MOVED and shown != code and _TOLD_BY.get(code) != shown:
            hidden[col, code, -1 if k < winner.get(col, k) else 1] = None
    order = [h for h in reversed(hidden) if h[2] < 0] + [h for h in hidden if h[2] > 0]
    moved: set[int] = set()
    for col, code, side in order:
        for place in range(col + side, col + side * 3, side):
            if not 0 <= place < count or (cells[place] >= MARK and place not in moved):
                break
            if cells[place] < MARK:
                cells[place] = MARK + code
                moved.add(place)
                break
    return cells


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every frame's placement checked against the whole window placed at once, from the
    same cells (what the row's memo and its sampling gave); the frames checked are counted."""
    real = cells_module.show_hidden
    frames: list[int] = []

    def checking(
        cells: list[int], track: Track, t0: float, dt: float, placed: aside.Placed | None = None
    ) -> list[int]:
        drawn = real(cells, track, t0, dt, placed)
        assert drawn == whole_window(cells, track, t0, dt), (t0, dt, len(cells))
        frames.append(len(cells))
        return drawn

    monkeypatch.setattr(cells_module, "show_hidden", checking)
    return frames


def story_track(seed: int, moments: int, end: float = 10.0) -> Track:
    """A worker whose tasks raise, get cancelled, time out, finish and clean up, with
    moments crowding into shared columns (several at one instant, some on column edges)."""
    rnd = random.Random(seed)
    script = start().lane(0, "thread-1", LaneKind.THREAD)
    timeline = Timeline()
    timeline.feed(script.events)
    track = timeline.tracks["thread-1"]
    states = [
        LaneState.RUNNING,
        LaneState.IO,
        LaneState.DONE,
        LaneState.FAILED,
        LaneState.CANCELLED,
        LaneState.CLEANUP,
    ]
    cues = [cue for cue in Cue if cue is not Cue.RESULT]
    instants = sorted(
        rnd.choice([rnd.uniform(0, end), rnd.randrange(400) * 0.025]) for _ in range(moments)
    )
    for t in instants:
        for _ in range(rnd.choice([1, 1, 2, 3])):
            if rnd.random() < 0.4:
                script.events.clear()
                timeline.feed(script.state(t, "thread-1", rnd.choice(states)).events)
            else:
                timeline.add_cue(track, t, Cue.RESULT if rnd.random() < 0.1 else rnd.choice(cues))
    return track


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("moments", [12, 60, 300])
def test_playback_column_by_column_places_what_the_whole_window_places(
    seed: int, moments: int, checked: list[int]
) -> None:
    """The playhead moves a fraction of a column at a time over a window from t = 0, then
    over a window that follows it (its first column moves on), then a paused window panned
    back and one off the column grid: every frame equals the whole window placed at once."""
    track = story_track(seed, moments)
    window = Window(0.0, 0.05, 200)
    for step in range(1, 420):
        lane_cells(track, window, step * 0.0237)
    for col0 in range(0, 120, 3):
        lane_cells(track, Window(col0 * 0.025, 0.025, 80), (col0 + 79.5) * 0.025)
    for col0 in (0, 1, 2, 3, 5, 40, 77):
        lane_cells(track, Window(col0 * 0.025, 0.025, 60), 10.0)
    lane_cells(track, Window(0.0123, 0.025, 60), 10.0)
    assert len(checked) == 419 + 40 + 7 + 1


def test_a_long_run_through_a_narrow_window_keeps_placing_after_the_memo_is_trimmed(
    checked: list[int],
) -> None:
    """A row's memo keeps 16 to 32 screens of columns: trimmed, it still places right."""
    track = story_track(7, 1500, end=40.0)
    for col in range(1, 4000):
        col0 = max(0, col - 11)
        lane_cells(track, Window(col0 * 0.01, 0.01, 12), (col + 0.4) * 0.01)
    assert track.memo[0.01][0] > 0  # trimmed
    lane_cells(track, Window(0.0, 0.01, 12), 40.0)
    assert len(checked) == 4000


def test_a_frame_during_playback_places_only_the_columns_near_its_edges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once a row's columns are final, their marks are placed once: a frame places the
    columns near the playhead, whatever the number of marks behind it."""
    track = story_track(3, 150)
    window = Window(0.0, 0.05, 200)
    lane_cells(track, window, 6.0)
    placed: list[int] = []
    real = aside.move_aside

    def counted(cells: list[int], marks: list[tuple[int, int]]) -> None:
        placed.append(len(cells))
        real(cells, marks)

    monkeypatch.setattr(aside, "move_aside", counted)
    frames = []
    for step in range(1, 40):
        placed.clear()
        lane_cells(track, window, 6.0 + step * 0.05)
        frames.append(sum(placed))
    # At most two stretches of a few columns each (the new final column, the playhead's).
    assert 0 < max(frames) <= 2 * (2 * aside.SETTLED + 2), frames


@pytest.mark.parametrize("name", ["task-tree-cancelled", "failure-during-as-completed"])
def test_the_columns_carried_over_a_step_back_or_a_jump_are_those_drawn_afresh(
    name: str, checked: list[int]
) -> None:
    """Stepping back (or jumping on) over one history gives the new timeline's rows the old
    ones' final columns at the new playhead: every frame equals the row drawn afresh."""
    from concsim.replay import open_scenario
    from concsim.ui.session import Session

    session = Session(open_scenario(name), source=name)
    window = Window(0.0, 0.01, 120)
    while not session.finished:
        session.step()
        for track in session.timeline.rows:
            lane_cells(track, window, session.now)
    moves = [session.step_back] * 40 + [lambda: session.show_event(session.seen + 25)] * 2
    carried = 0
    for move in moves + [session.step_back] * 30:
        old = session.timeline
        move()
        new = session.timeline
        assert new is not old
        for row_id, track in new.tracks.items():
            if row_id in old.tracks:
                cells_module.carry_memo(old.tracks[row_id], track, session.now)
                carried += bool(track.memo)
        for track in new.rows:
            drawn = lane_cells(track, window, session.now)
            memo, track.memo = track.memo, {}
            assert drawn == lane_cells(track, window, session.now), (track.row_id, session.now)
            track.memo = memo
    assert carried > 0 and checked
