"""Pure lane drawing: cells per column, marks, the memo, rows, ruler, legend and zoom."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from rich.segment import Segment
from test_draw_timeline import start  # tests/ is on sys.path (rootdir-relative imports)

from concsim import palette
from concsim.events import GilChanged, LaneCreated, LaneKind, LaneState
from concsim.palette import legend
from concsim.ui.cells import MARK, Window, column_offsets, lane_cells, sample_cells
from concsim.ui.draw import Columns, draw_lane, draw_ruler, holder_glyph, lane_label
from concsim.ui.timeline import BLANK, CODE, Timeline, Track
from concsim.ui.viewport import Viewport


def random_track(changes: int, seed: int = 1, end: float = 10.0) -> Track:
    rnd = random.Random(seed)
    script = start().lane(0, "thread-1", LaneKind.THREAD)
    states = [LaneState.RUNNING, LaneState.IO, LaneState.GIL_WAIT, LaneState.BLOCKED]
    for t in sorted(rnd.uniform(0, end) for _ in range(changes)):
        script.state(t, "thread-1", rnd.choice(states))
    timeline = Timeline()
    timeline.feed(script.events)
    return timeline.tracks["thread-1"]


def brute_force(track: Track, window: Window, now: float) -> list[int]:
    """The definition: each begun column shows the state at its sample instant (<= now)."""
    offsets = column_offsets(round(window.t0 / window.dt), window.width)
    cells = []
    for col, offset in enumerate(offsets):
        begin = window.t0 + col * window.dt
        sample = min(window.t0 + offset * window.dt, now)
        cells.append(track.code_at(sample) if begin <= now else BLANK)
    return cells


@pytest.mark.parametrize("changes", [3, 40, 5000])
def test_cells_match_the_definition_sparse_or_dense(changes: int) -> None:
    """Walking few changes and bisecting many give the same cells as sampling one by one."""
    track = random_track(changes)
    window = Window(0.0, 0.05, 200)
    assert lane_cells(track, window, 10.0) == brute_force(track, window, 10.0)
    assert sample_cells(track, 0.0, 0.05, 120, 5.99) == brute_force(track, window, 5.99)[:120]


def test_the_memo_never_changes_a_picture() -> None:
    """Frames drawn during playback (memo warm) equal frames drawn from scratch."""
    track = random_track(3000)
    window = Window(0.0, 0.05, 200)
    for now in [0.01, 1.0, 1.02, 3.333, 7.5, 9.99, 10.0]:
        warm = lane_cells(track, window, now)
        track.memo.clear()
        assert warm == lane_cells(track, window, now) == brute_force(track, window, now)
    follow = Window(2.0, 0.01, 300)  # a zoomed window on the column grid
    assert lane_cells(track, follow, 4.0) == brute_force(track, follow, 4.0)


def crowded_timeline(changes: int, seed: int = 3) -> Timeline:
    """Rows made along the way, a GIL row, changes at shared and repeated instants."""
    rnd = random.Random(seed)
    script = start().lane(0, "thread-0", LaneKind.THREAD)
    states = [LaneState.RUNNING, LaneState.IO, LaneState.GIL_WAIT, LaneState.IDLE]
    for k, t in enumerate(sorted(round(rnd.uniform(0, 10.0), 2) for _ in range(changes))):
        if k % (changes // 8) == 0:
            script.lane(t, f"thread-{k}", LaneKind.THREAD)
        lanes = [e.lane for e in script.events if isinstance(e, LaneCreated)]
        script.state(t, rnd.choice(lanes), rnd.choice(states))
        if k % 3 == 0:
            script.add(GilChanged, t, process="main", holder=rnd.choice([None, *lanes]), reason="")
    timeline = Timeline()
    timeline.feed(script.events)
    return timeline


def test_all_rows_sampled_at_once_match_each_row_alone() -> None:
    """The shared log gives every row the cells of its own intervals, at any zoom."""
    # GIVEN rows sampled together through the timeline's log
    timeline = crowded_timeline(4000)
    assert len(timeline.rows) > 8 and timeline.log.is_ordered
    for window, now in [(Window(0.0, 0.05, 200), 10.0), (Window(3.0, 0.001, 300), 3.2)]:
        for track in timeline.rows:
            # THEN each row's cells are those of the row without a log, and a lane's are the
            # definition (a GIL row's codes are drawn as holders, so it has no brute force here)
            shared = lane_cells(track, window, now)
            assert track.is_gil or shared == brute_force(track, window, now)
            track.memo.clear()
            track.log = None
            assert lane_cells(track, window, now) == shared


def test_a_log_fed_out_of_order_leaves_rows_to_answer_alone() -> None:
    """Changes that go back in time stop the log being bisected; cells stay per row."""
    script = start().lane(0, "thread-1", LaneKind.THREAD).lane(0, "thread-2", LaneKind.THREAD)
    for k in range(400):
        script.state(k * 0.01, "thread-1", [LaneState.RUNNING, LaneState.IO][k % 2])
    script.state(1.0, "thread-2", LaneState.IO)  # earlier than thread-1's last change
    timeline = Timeline()
    timeline.feed(script.events)
    assert not timeline.log.is_ordered
    window = Window(0.0, 0.02, 200)
    for track in timeline.rows:
        assert lane_cells(track, window, 4.0) == brute_force(track, window, 4.0)


def marked_track(changes: int, seed: int = 2) -> Track:
    """A worker whose tasks finish, fail, get cancelled and clean up, often or rarely."""
    rnd = random.Random(seed)
    script = start().lane(0, "thread-1", LaneKind.THREAD)
    states = [
        LaneState.RUNNING,
        LaneState.IO,
        LaneState.CLEANUP,
        LaneState.DONE,
        LaneState.FAILED,
        LaneState.CANCELLED,
        LaneState.IDLE,
    ]
    for t in sorted(rnd.uniform(0, 10.0) for _ in range(changes)):
        script.state(t, "thread-1", rnd.choice(states))
    timeline = Timeline()
    timeline.feed(script.events)
    return timeline.tracks["thread-1"]


@pytest.mark.parametrize("changes", [30, 300, 3000])
def test_playback_column_by_column_draws_what_a_whole_frame_draws(changes: int) -> None:
    """Marks and ticks are judged per column, never by how many columns one call draws."""
    track = marked_track(changes)
    window = Window(0.0, 0.05, 200)
    for step in range(1, 401):
        lane_cells(track, window, step * 0.025)  # the memo fills a column or two at a time
    played = lane_cells(track, window, 10.0)
    track.memo.clear()
    assert played == lane_cells(track, window, 10.0)


@pytest.mark.parametrize("changes", [30, 300])
def test_the_most_alarming_mark_of_each_column_stands(changes: int) -> None:
    """Each mark lands in the column ``Window.column`` gives it; a failure beats a cancel
    beats a cleanup in the same column, and every mark beats the sampled state."""
    rnd = random.Random(changes)
    marked = [LaneState.CLEANUP, LaneState.FAILED, LaneState.CANCELLED, LaneState.KILLED]
    script = start().lane(0, "thread-1", LaneKind.THREAD)
    for t in sorted(
        rnd.choice([rnd.uniform(0, 10.0), rnd.randrange(200) * 0.05]) for _ in range(changes)
    ):  # some on column edges exactly
        script.state(t, "thread-1", rnd.choice([LaneState.RUNNING, LaneState.IO, *marked]))
    timeline = Timeline()
    timeline.feed(script.events)
    track = timeline.tracks["thread-1"]
    window = Window(0.0, 0.05, 200)
    expected = brute_force(track, window, 10.0)
    rank = {CODE[state]: palette.MARK_RANK[state] for state in marked}
    for t, code in zip(track.mark_times, track.mark_codes, strict=True):
        col = min(window.column(t), window.width - 1)
        if expected[col] < MARK or rank[code] >= rank[expected[col] - MARK]:
            expected[col] = MARK + code
    assert lane_cells(track, window, 10.0) == expected


def test_the_future_is_blank() -> None:
    """Columns that begin after now are drawn blank."""
    track = random_track(10)
    cells = lane_cells(track, Window(0.0, 0.1, 100), 2.0)
    assert all(cell == BLANK for cell in cells[21:]) and cells[20] != BLANK


def test_a_short_failure_is_marked_at_any_zoom() -> None:
    """A failure lasting no time at all still wins its column, however wide the column."""
    script = (
        start()
        .lane(0, "thread-1", LaneKind.THREAD)
        .state(0.0, "thread-1", LaneState.RUNNING, task="a")
        .state(3.001, "thread-1", LaneState.FAILED, task="a")
        .state(3.001, "thread-1", LaneState.IDLE)
    )
    timeline = Timeline()
    timeline.feed(script.events)
    track = timeline.tracks["thread-1"]
    for dt in (0.01, 0.1, 1.0):
        window = Window(0.0, dt, round(5 / dt))
        cells = lane_cells(track, window, 5.0)
        assert cells[window.column(3.001)] == MARK + CODE[LaneState.FAILED]


def test_every_state_has_its_own_glyph_and_colour() -> None:
    """Distinct on both, so the lanes read without colour (NO_COLOR) and without glyphs: no
    two states share a theme role and weight (a theme may give two roles one colour, as
    textual-dark does $warning and $accent: the glyphs still differ)."""
    shown = [palette.cell_glyph(state) for state in palette.LOOKS]
    assert len(set(shown)) == len(shown) == len(LaneState)
    inks = [look.ink for look in palette.LOOKS.values()]
    assert len(set(inks)) == len(inks)


def test_a_row_is_exactly_as_wide_as_asked() -> None:
    """Name, bar and label add up to the widget's width at 80 and 200 columns."""
    track = random_track(50)
    for width in (40, 80, 200):
        columns = Columns.for_width(width)
        row = draw_lane(track, Window(0.0, 0.1, columns.bar), 4.0, columns, selected=True)
        assert Segment.get_line_length(row) == width
        ruler = draw_ruler(Window(0.0, 0.1, columns.bar), 4.0, columns)
        assert Segment.get_line_length(ruler) == width


def test_ruler_labels_round_times_and_marks_the_playhead() -> None:
    """Ticks at 1, 2 or 5 x 10^k seconds; the playhead's column shows ▼."""
    window = Window(0.0, 0.05, 60)
    text = "".join(s.text for s in draw_ruler(window, 1.0, Columns(10, 60, 0)))
    assert "|0" in text and "|500ms" in text and "|1.5s" in text and "▼" in text


def test_labels_say_what_each_lane_does_now() -> None:
    """The current step for a busy lane; the state's name for a finished one; GIL holder."""
    script = (
        start()
        .lane(0, "thread-1", LaneKind.THREAD)
        .lane(0, "thread-2", LaneKind.THREAD)
        .state(0.0, "thread-1", LaneState.IO, task="get", step="io 500ms")
        .state(0.0, "thread-2", LaneState.CANCELLED, task="put")
    )
    timeline = Timeline()
    timeline.feed(script.events)
    assert lane_label(timeline.tracks["thread-1"])[2] == "get: io 500ms"
    assert lane_label(timeline.tracks["thread-2"])[2] == "put cancelled"
    assert holder_glyph("thread-12") == "2" and holder_glyph("main") == "m"


def test_legend_lists_the_states_asked_for() -> None:
    """The run screen's legend shows only the states seen; help shows them all."""
    assert "blocked" in legend().plain and "failed" in legend().plain
    small = legend({LaneState.RUNNING}, holders=()).plain
    assert small == "█ running Python"


def test_a_state_is_drawn_with_the_one_glyph_its_legend_shows() -> None:
    """Fill and mark never differ where both are drawn: a hung lane is ? from its first cell."""
    for state, look in palette.LOOKS.items():
        assert {look.fill, look.mark} - {" "} == {palette.cell_glyph(state)}, state
        assert legend({state}, holders=()).plain.startswith(palette.cell_glyph(state) + " ")


def test_the_gil_legend_names_each_holder_drawn() -> None:
    """Letters stand for their lane; a thread is its number's last digit, collapsed when many."""
    assert legend((), holders=["thread-2", "main", "thread-1"]).plain == (
        "m GIL held by main  1 GIL held by thread-1  2 GIL held by thread-2  · GIL free"
    )
    assert legend((), holders=["thread-1", "thread-11"]).plain == (
        "1 GIL held by thread-1, thread-11  · GIL free"
    )
    many = legend((), holders=["main"] + [f"thread-{n}" for n in range(1, 7)]).plain
    assert many == "m GIL held by main  1-6 GIL held by a thread (its last digit)  · GIL free"
    # each process has its own GIL, held by the process's main thread, named by the process
    processes = legend((), holders=[f"process-{n}" for n in range(1, 5)]).plain
    assert processes == "1-4 GIL held by a process (its last digit)  · GIL free"
    assert legend((), holders=()).plain == ""


def test_viewport_fits_the_run_then_follows_when_zoomed_in() -> None:
    """Fit: from 0 with a round column width; zoomed in: the playhead stays in view."""
    viewport = Viewport()
    fit = viewport.window(50, 0.3, 2.0)
    assert fit.t0 == 0 and 2.0 <= fit.t1 <= 2.5 and fit.dt == 0.05
    assert fit.column(2.0) == 40  # the run's last instant is drawn, inside the bar
    viewport.zoom_in(50, 1.7, 2.0)
    zoomed = viewport.window(50, 1.7, 2.0)
    assert zoomed.dt == 0.02 and zoomed.t0 <= 1.7 < zoomed.t1
    assert abs(zoomed.t0 / zoomed.dt - round(zoomed.t0 / zoomed.dt)) < 1e-9
    viewport.zoom_out(50, 1.7, 2.0)
    assert viewport.fit


def test_drawing_and_the_session_never_load_textual() -> None:
    """The pure layer (timeline, cells, drawing, panels, session) is usable without Textual."""
    code = (
        "import sys\n"
        "import concsim.ui.draw, concsim.ui.cells, concsim.ui.timeline, concsim.ui.panels\n"
        "import concsim.ui.session, concsim.ui.ledger, concsim.ui.viewport, concsim.replay\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'textual'], 'textual loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "name", ["failure-during-as-completed", "race-lost-update", "deadlock-lock-order"]
)
def test_a_row_stepped_instant_by_instant_keeps_every_tick(name: str) -> None:
    """Stepping to 0.7 s then 1 s on failure-during-as-completed once lost job-3's ✓: the
    row's next slice began at 35 * 0.02 = 0.7000000000000001, after the tick at 0.7. A row
    drawn a slice at a time (the memo) must draw what a row drawn whole draws, always."""
    from concsim.replay import open_scenario
    from concsim.ui.session import Session

    session = Session(open_scenario(name), source=name)
    window = Window(0.0, 0.02, 79)
    while not session.finished and session.now < window.t1:
        session.step()
        for track in session.timeline.rows:
            stepped = lane_cells(track, window, session.now)
            memo, track.memo = track.memo, {}
            assert stepped == lane_cells(track, window, session.now), (track.row_id, session.now)
            track.memo = memo
