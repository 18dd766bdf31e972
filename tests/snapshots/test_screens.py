"""Screens as people see them, at 80x24 and 160x48, with the virtual clock driven by the test.

Each screenshot runs a paused app on a clock that never moves, so only the test advances
virtual time; the app must also have raised nothing (a crashed app can still be drawn).
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from concsim.engine import Simulation
from concsim.replay import open_scenario
from concsim.scenario.library import bundled_scenarios
from concsim.ui.app import ConcsimApp, make_app
from concsim.ui.panels import SUMMARY_FROM
from concsim.ui.widgets.code import CodeView
from concsim.ui.widgets.panels import FuturesPanel

SMALL, LARGE = (80, 24), (160, 48)
FIXTURES = Path(__file__).parent.parent / "fixtures" / "ui"
BUNDLED = [path.stem for path in bundled_scenarios()]

Snap = Callable[..., bool]
Script = Callable[[Pilot[int]], Awaitable[None]]


def build(
    run: str | None = None, files: tuple[str, ...] = (), theme: str = "textual-dark"
) -> ConcsimApp:
    return make_app(
        list(files),
        run=run,
        paused=True,
        keymap={},
        theme=theme,
        clock=lambda: 0.0,
        toast_scale=1000.0,
    )


def check(
    snap_compare: Snap,
    app: ConcsimApp,
    size: tuple[int, int],
    script: Script | None = None,
    press: tuple[str, ...] = (),
) -> None:
    assert snap_compare(app, terminal_size=size, run_before=script, press=press)
    assert app._exception is None and app.return_code in (None, 0)


def elapsed(name: str) -> float:
    sim = Simulation(open_scenario(name))
    sim.run()
    return sim.now


def at(
    t: float, *, select: str | None = None, keys: tuple[str, ...] = (), then: float | None = None
) -> Script:
    """Advance to ``t``, select a lane, press keys, then advance to ``then``."""

    async def script(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, ConcsimApp)
        await pilot.pause()
        app.advance_to(t)
        if select is not None:
            assert app.run_screen.lanes.select_row(select), select
        await pilot.press(*keys)
        await app.run_screen.wait_idle()  # work a key sent to a worker thread (a big run)
        if then is not None:
            app.advance_to(then)
        await settled(pilot)

    return script


async def settled(pilot: Pilot[int]) -> None:
    """Wait until the event log and the futures panel have scrolled to their newest line.

    Both scroll after the next repaint, and a busy machine (pytest -n 8) can take the
    screenshot before that repaint: the log one line short of its end. Waiting for the
    state itself, not for a time, gives the same picture on every machine.
    """
    screen = pilot.app.screen
    panes = [screen.query_one("#log"), screen.query_one("#futures")]
    for _ in range(200):
        await pilot.pause()
        # The legend is drawn again once the lanes have their new size: wait for that too.
        legend_due = getattr(screen, "_legend_due", False)
        # A big run's futures summary is shown from its top, the rest from their end.
        at_end = all(pane.scroll_y == _rest_at(pane) for pane in panes)
        if at_end and not legend_due and _code_in_view(screen):
            return
    raise AssertionError(
        f"never scrolled to the end: {[(p.scroll_y, p.max_scroll_y) for p in panes]}"
    )


def _rest_at(pane: Any) -> float:
    """Where ``pane`` rests once drawn: a summary of many futures at its top."""
    shown = getattr(pane, "_ledger", None)
    if isinstance(pane, FuturesPanel) and shown and len(shown[0].futures) >= SUMMARY_FROM:
        return 0
    return pane.max_scroll_y


def _code_in_view(screen: Any) -> bool:
    """The code view, when shown, has scrolled to the selected lane's line (it scrolls
    after a repaint, once it knows its size: a busy machine can be a frame late)."""
    code = next(iter(screen.query(CodeView)), None)
    if code is None or not code.display or code.size.height <= 0:
        return True
    line = code.line_of(code.selected)
    top, height = round(code.scroll_y), code.scrollable_content_region.height
    return line is None or (code._reveal is None and top <= line - 1 < top + height)


@pytest.mark.parametrize("phase", ["start", "mid", "finished"])
@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenario(snap_compare: Snap, name: str, phase: str) -> None:
    """Each bundled scenario at t=0, halfway and at its end, at 80x24."""
    end = elapsed(name)
    keys = ("end",) if phase == "finished" else ()  # to the end, a stalled run ended as hung
    t = {"start": 0.0, "mid": round(end / 2, 3), "finished": 0.0}[phase]
    check(snap_compare, build(name), SMALL, at(t, keys=keys))


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
@pytest.mark.parametrize(
    ("fault", "name", "lane", "t", "then"),
    [
        ("fail", "gather-keeps-running", "slow", 0.5, 0.6),
        ("timeout", "wait-for-cleanup", "query", 0.5, 0.55),
        ("cancel", "taskgroup-cancels-siblings", "slow", 0.2, 0.23),
        ("kill", "process-divisors", "process-2", 0.25, 0.3),
        ("interrupt", "ctrl-c-shutdown", None, 0.5, 0.53),
        ("hang", "sequential-io", "main", 0.7, 1.5),
    ],
)
def test_fault_key_mid_run(
    snap_compare: Snap,
    fault: str,
    name: str,
    lane: str | None,
    t: float,
    then: float,
    size: tuple[int, int],
) -> None:
    """Each fault key on a lane mid-run, a moment later: the finally blocks running."""
    key = {"fail": "f", "timeout": "t", "cancel": "c", "kill": "k", "interrupt": "i", "hang": "h"}[
        fault
    ]
    check(snap_compare, build(name), size, at(t, select=lane, keys=(key,), then=then))


def test_fault_that_does_not_apply(snap_compare: Snap) -> None:
    """k on a thread lane: the notification gives CPython's reason; nothing breaks."""
    check(snap_compare, build("cpu-threads-gil"), SMALL, at(0.3, select="thread-2", keys=("k",)))


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_step_back(snap_compare: Snap, size: tuple[int, int]) -> None:
    """After a fault and a few steps, step back twice: the history re-simulated."""
    keys = ("f", ".", ".", ".", ",", ",")
    check(snap_compare, build("cpu-threads-gil"), size, at(0.3, select="thread-2", keys=keys))


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_help_screen(snap_compare: Snap, size: tuple[int, int]) -> None:
    """? lists every key with its id, the legend and the keymap file."""
    check(snap_compare, build("io-threads"), size, press=("?",))


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_variants(snap_compare: Snap, size: tuple[int, int]) -> None:
    """The third variant of choose-a-model mid-run, every variant's elapsed time on top."""
    check(snap_compare, build("choose-a-model"), size, at(0.0, keys=("v", "v", "v")))


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_browser(snap_compare: Snap, size: tuple[int, int]) -> None:
    """The browser: bundled scenarios by topic, the first one's notes."""
    check(snap_compare, build(), size)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_browser_filtered(snap_compare: Snap, size: tuple[int, int]) -> None:
    """Typing on the list filters it: "thread" keeps the scenarios about threads."""

    async def typed(pilot: Pilot[int]) -> None:
        # The filter's cursor blinks: a busy machine would catch it on or off.
        pilot.app.screen.query_one("#filter").cursor_blink = False  # type: ignore[attr-defined]
        await pilot.press(*"thread")
        await pilot.pause()

    check(snap_compare, build(), size, typed)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_browser_file_with_errors(snap_compare: Snap, size: tuple[int, int]) -> None:
    """A file given on the command line that does not load: its error lines, no preview."""
    # A relative path, so the error lines read the same on every machine.
    shutil.copy(FIXTURES / "broken.yaml", "broken.yaml")
    app = build(files=("broken.yaml",))
    check(snap_compare, app, size, press=("end",))


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_run_screen_mid_run(snap_compare: Snap, size: tuple[int, int]) -> None:
    """cpu-threads-gil halfway: threads taking turns on one GIL, notes beside at 160x48."""
    check(snap_compare, build("cpu-threads-gil"), size, at(1.0, select="thread-3"))


@pytest.mark.parametrize("name", BUNDLED)
def test_notes_at_80x24(snap_compare: Snap, name: str) -> None:
    """Each bundled scenario's notes in the notes panel (key n) at 80x24: they must read."""
    check(snap_compare, build(name), SMALL, at(0.0, keys=("n",)))


MID = (120, 36)


def test_notes_beside_the_lanes_at_120x36(snap_compare: Snap) -> None:
    """At 120 columns the notes sit beside the lanes, which keep 80 columns."""
    check(snap_compare, build("failure-during-as-completed"), MID, at(0.7, select="thread-1"))


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("failure-during-as-completed", ("end",)),
        ("deadlock-lock-order", ("end",)),
        ("race-lost-update", ("end",)),
        ("ctrl-c-shutdown", ("i", "end")),
    ],
    ids=["raise-reraise-shutdown", "lock-spans-waits", "lost-updates", "ctrl-c-teardown"],
)
def test_the_story_on_the_lanes(snap_compare: Snap, name: str, keys: tuple[str, ...]) -> None:
    """Marks, phases, lock spans and waits at 120x36: ctrl-c-shutdown gets i at 0.5 s."""
    t = 0.5 if keys[0] == "i" else 0.0
    check(snap_compare, build(name), MID, at(t, keys=keys))


@pytest.mark.parametrize("theme", ["textual-light", "solarized-light", "catppuccin-latte"])
def test_a_light_theme(snap_compare: Snap, theme: str) -> None:
    """failure-during-as-completed finished in a light theme: marks, bands, legend readable."""
    check(
        snap_compare, build("failure-during-as-completed", theme=theme), MID, at(0.0, keys=("end",))
    )


@pytest.mark.parametrize("size", [SMALL, MID], ids=["80x24", "120x36"])
def test_the_why_chain_lit(snap_compare: Snap, size: tuple[int, int]) -> None:
    """m on thread-2 selects job-2's raise, w lights its chain and the log tells it."""
    script = at(0.0, keys=("end",), then=None)

    async def chain(pilot: Pilot[int]) -> None:
        await script(pilot)
        app = pilot.app
        assert isinstance(app, ConcsimApp)
        assert app.run_screen.lanes.select_row("thread-2")
        await pilot.press("m", "w")
        await settled(pilot)

    check(snap_compare, build("failure-during-as-completed"), size, chain)


@pytest.mark.parametrize("size", [SMALL, MID], ids=["80x24", "120x36"])
def test_a_branch_over_the_run_it_left(snap_compare: Snap, size: tuple[int, int]) -> None:
    """b at 0.1 s, then f on thread-1 (job-1): the original run drawn faintly under each
    lane from the fork on, and the bar above saying how the branch ends otherwise."""
    script = at(0.1, select="thread-1", keys=("b", "f"))
    check(snap_compare, build("failure-during-as-completed"), size, script)


def test_the_branches_list(snap_compare: Snap) -> None:
    """B after branching: the original and branch 1, the one shown marked, its fault named."""
    branched = at(0.1, select="thread-1", keys=("b", "f"))

    async def script(pilot: Pilot[int]) -> None:
        await branched(pilot)
        await pilot.press("B")
        await pilot.pause()

    check(snap_compare, build("failure-during-as-completed"), MID, script)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_the_evil_schedulers_choice(snap_compare: Snap, size: tuple[int, int]) -> None:
    """x at 30ms of race-with-lock: the threads waiting for the lock, the seed's pick marked,
    and why coroutines are never offered."""

    async def script(pilot: Pilot[int]) -> None:
        app = pilot.app
        assert isinstance(app, ConcsimApp)
        await pilot.pause()
        app.advance_to(0.03)
        await settled(pilot)
        await pilot.press("x")
        await pilot.pause()

    check(snap_compare, build("race-with-lock"), size, script)


@pytest.mark.parametrize(
    ("name", "t", "size"),
    [
        ("io-threads", 0.25, MID),
        ("failure-during-as-completed", 0.3, MID),
        ("failure-during-as-completed", 0.3, SMALL),
    ],
    ids=[
        "io-threads-120x36",
        "failure-during-as-completed-120x36",
        "failure-during-as-completed-80x24",
    ],
)
def test_code_view_mid_run(snap_compare: Snap, name: str, t: float, size: tuple[int, int]) -> None:
    """o mid-run: the program beside the lanes (in the log's place at 80x24), each lane on
    its line in its colour, the selected lane's line in view."""
    check(snap_compare, build(name), size, at(t, keys=("o",)))


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("asyncio-condition", ("v", "end")),
        ("terminate-skips-finally", ("v", "v", "end")),
        ("unpicklable-values", ("v", "end")),
    ],
    ids=["notify-all-woken", "join-timeout-timed-out", "unpicklable-result-not-sent"],
)
def test_a_variant_s_story_on_its_lanes_and_in_its_notes(
    snap_compare: Snap, name: str, keys: tuple[str, ...]
) -> None:
    """At 120x36, a variant run to its end: its marks (↑ woken by notify, ◷ wait timed
    out, ↛ result not sent) on the lanes, and its own notes first in the notes beside."""
    check(snap_compare, build(name), MID, at(0.0, keys=keys))


def test_the_footer_while_playing(snap_compare: Snap) -> None:
    """space at 80x24: the run plays and the footer's play key says Pause."""
    check(snap_compare, build("io-threads"), SMALL, at(0.0, keys=("space",)))
