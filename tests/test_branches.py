"""Branching a run (``b``): the timelines, the one-line difference, the ghost, the replay."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from appkit import build, sync

from concsim.engine import Injection, Simulation
from concsim.export.outcome import outcome
from concsim.replay import Branch, Replay, ReplayError, load_replay, open_scenario, save_replay
from concsim.ui.app import ConcsimApp, make_app
from concsim.ui.branches import Branches
from concsim.ui.compare import difference
from concsim.ui.widgets.branchbar import BranchBar

FAIL_JOB_1 = Injection(0.1, "fail", "job-1")


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def ended(name: str, *injections: Injection) -> dict[str, object]:
    sim = Simulation(open_scenario(name), injections=injections)
    sim.run()
    return outcome(sim.events)


# --- the timelines --------------------------------------------------------------------


def test_a_branch_keeps_its_parents_faults_up_to_the_fork() -> None:
    """Faults after the playhead belong to the history the branch leaves (stepped back)."""
    early, late = Injection(0.1, "fail", "job-1"), Injection(0.9, "hang", "job-5")
    branches = Branches.start()
    branch = branches.fork(0.5, (early, late))
    assert branch == Branch("branch 1", (early,), "original", 0.5)
    assert branches.items[0] == Branch("original", (early, late))
    assert branches.current is branch


def test_closing_a_branch_shows_its_parent_and_adopts_its_children() -> None:
    branches = Branches.start()
    branches.fork(0.1, ())
    branches.fork(0.2, (FAIL_JOB_1,))  # branch 2, from branch 1
    branches.show(1, ())
    shown = branches.close(1, ())
    assert shown.name == "original"
    assert [(b.name, b.parent) for b in branches.items] == [
        ("original", None),
        ("branch 2", "original"),
    ]
    assert branches.fork(0.3, ()).name == "branch 3"  # names are never reused


def test_the_difference_says_how_the_branch_ends_otherwise() -> None:
    """job-1 failed at 0.1 s: as_completed yields it first, so main re-raises job-1's
    RuntimeError instead of job-2's ConnectionError, and leaving the with block still waits
    for the jobs already running, 300 ms less than before."""
    before = ended("failure-during-as-completed")
    after = ended("failure-during-as-completed", FAIL_JOB_1)
    assert difference(before, after, 0.1) == (
        "main raised RuntimeError instead of raising ConnectionError; "
        "job-1 failed (RuntimeError) instead of ok; ended 300ms earlier"
    )
    assert difference(before, before, 0.1) == "the same outcome"


def test_the_difference_counts_tasks_results_and_shared_values() -> None:
    before = {
        "main": {"outcome": "ok", "error": None},
        "tasks": [{"name": f"t{i}", "outcome": "ok", "started": 0.1 * i} for i in range(6)],
        "results": [1, 2, 3],
        "shared": {"counter": 200},
        "elapsed": 1.0,
    }
    after = {
        "main": {"outcome": "hung", "error": None},
        "tasks": [
            {"name": f"t{i}", "outcome": "ok" if i < 2 else "never_started", "started": None}
            for i in range(6)
        ],
        "results": [1],
        "shared": {"counter": 183},
        "elapsed": None,
    }
    assert difference(before, after, 0.15) == (
        "main hung instead of returning; 4 tasks ended otherwise; "
        "4 fewer tasks started after 150ms (0 instead of 4); 1 results instead of 3; "
        "counter = 183 instead of 200; never ended"
    )


# --- the replay file -------------------------------------------------------------------


def branched_replay() -> Replay:
    return Replay(
        "failure-during-as-completed",
        0,
        injections=(FAIL_JOB_1,),
        branches=(Branch("original"), Branch("branch 1", (FAIL_JOB_1,), "original", 0.1)),
        branch="branch 1",
    )


def test_branches_go_into_the_replay_file(tmp_path: Path) -> None:
    path = save_replay(tmp_path / "b.replay.yaml", branched_replay())
    assert load_replay(path) == branched_replay()
    text = path.read_text()
    assert "branch: branch 1\nbranches:\n- name: original\n" in text
    assert "- name: branch 1\n  from: original\n  at: 0.1\n" in text  # its faults: above


def test_a_reader_without_branches_plays_the_branch_that_was_shown(tmp_path: Path) -> None:
    path = save_replay(tmp_path / "b.replay.yaml", branched_replay())
    shown = subprocess.run(
        [sys.executable, "-m", "concsim", "run", "--replay", str(path), "--headless", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(shown.stdout)["main"] == {"outcome": "raised", "error": "RuntimeError"}


@pytest.mark.parametrize(
    ("branches", "message"),
    [
        (
            "branch: b\nbranches:\n- {name: original}\n- {name: b, from: x, at: 0.1}\n",
            "8:3: branches[1]: expected `from:` naming one of 'original'",
        ),
        (
            "branch: original\nbranches:\n- {name: original}\n- {name: original, from: original}\n",
            "8:10: branches[1].name: a second branch named 'original'; expected each name once",
        ),
        (
            "branch: c\nbranches:\n- {name: original}\n",
            "5:9: branch: expected `branch:` naming one of 'original'",
        ),
        (
            "branch: c\nbranches:\n- {name: original}\n- {name: c, from: original, at: 2}\n"
            "- {name: d, from: c, at: 1}\n",
            "9:26: branches[2].at: forked at 1, before its parent was (at 2); expected 2 or later",
        ),
        (
            "branch: b\nbranches:\n- {name: original}\n- {name: b, from: original, at: -1}\n",
            "8:33: branches[1].at: expected a time in seconds, 0 to 1000000, got -1",
        ),
        (
            "branch: b\nbranches:\n- {name: original, injections: "
            "[{at: 0.1, fault: fail, target: nobody}]}\n- {name: b, from: original}\n",
            "7:64: branches[0].injections[0].target: no task or lane `nobody`",
        ),
    ],
    ids=[
        "unknown-parent",
        "same-name",
        "unknown-shown",
        "before-parent",
        "negative-time",
        "unknown-target",
    ],
)
def test_bad_branches_are_one_positioned_line_each(
    tmp_path: Path, branches: str, message: str
) -> None:
    path = tmp_path / "bad.replay.yaml"
    path.write_text(
        "format: concsim-replay/1\nscenario: failure-during-as-completed\nseed: 0\n"
        "injections: []\n" + branches
    )
    with pytest.raises(ReplayError) as caught:
        load_replay(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}:{message}")


# --- in the app ----------------------------------------------------------------------------


async def branch_and_fail(app: ConcsimApp, pilot: object) -> None:
    screen = app.run_screen
    screen.advance_to(0.1)
    assert screen.lanes.select_row("thread-1")
    await pilot.press("b", "f")  # type: ignore[attr-defined]
    await screen.wait_idle()


@sync
async def test_b_forks_the_run_and_draws_the_original_under_it(tmp_path: Path) -> None:
    """GIVEN failure-during-as-completed at 0.1 s, WHEN b then f on thread-1 (job-1),
    THEN the bar says how the branch ends against the original, and each lane has its
    ghost row under it."""
    app, notes = build("failure-during-as-completed", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await branch_and_fail(app, pilot)
        screen = app.run_screen
        assert notes[0] == (
            "branch 1: forked from original at 100ms. "
            "Faults injected now change only this branch; B lists the branches."
        )
        assert screen.query_one(BranchBar).shown_text == (
            "branch 1 · from original at 100ms · vs original: main raised RuntimeError "
            "instead of raising ConnectionError; job-1 failed (RuntimeError) instead of ok; "
            "ended 300ms earlier"
        )
        lanes = screen.lanes
        rows = lanes.timeline.rows
        assert lanes.line_count == len(rows) + sum(not track.is_gil for track in rows)
        assert lanes.ghost is not None and lanes.ghost.end == pytest.approx(1.5)
        ghost_of_main = lanes.render_line(2).text  # under the ruler and main's own row
        assert ghost_of_main.startswith("╰ original")
        assert "✗" in ghost_of_main  # the original's main failed at 1.5 s


@sync
async def test_the_branches_list_switches_and_closes(tmp_path: Path) -> None:
    app, notes = build("failure-during-as-completed", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await branch_and_fail(app, pilot)
        screen = app.run_screen
        await pilot.press("B", "up", "enter")  # the original
        await screen.wait_idle()
        assert screen.session.injections == ()
        assert screen.session.now == pytest.approx(0.1)
        assert screen.lanes.ghost is None
        assert screen.query_one(BranchBar).shown_text == "original · 1 branch · B lists them"
        await pilot.press("B", "down", "d")  # close branch 1
        await screen.wait_idle()
        assert not screen.session.branches.branched
        assert screen.query_one(BranchBar).display is False
        assert notes[-1] == "Closed branch 1; showing original."


@sync
async def test_a_saved_branched_session_opens_as_it_was(tmp_path: Path) -> None:
    app, _ = build("failure-during-as-completed", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await branch_and_fail(app, pilot)
        await pilot.press("s")
    saved = tmp_path / "failure-during-as-completed-seed0.replay.yaml"
    assert load_replay(saved) == branched_replay()
    again = make_app(replay=str(saved), paused=True, keymap={}, theme="textual-dark")
    async with again.run_test(size=(120, 36)) as pilot:
        screen = again.run_screen
        await screen.wait_idle()
        assert screen.session.branches.current.name == "branch 1"
        assert screen.lanes.ghost is not None


@sync
async def test_with_no_branch_B_says_how_to_make_one(tmp_path: Path) -> None:
    app, notes = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("B")
    assert notes == ["No branches yet: b forks the run at the playhead."]


@sync
async def test_b_at_the_very_end_says_where_to_branch_instead(tmp_path: Path) -> None:
    """A branch forked after the last event could only replay the same end."""
    app, notes = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.run_screen
        await pilot.press("end")
        await screen.wait_idle()
        await pilot.pause()
        assert screen.session.finished
        await pilot.press("b")
        assert not screen.session.branches.branched
        await pilot.press(",", "b")
        await screen.wait_idle()
        assert screen.session.branches.branched
    assert notes[-2] == (
        "The run has ended: nothing after the playhead to play otherwise. Step back "
        "(, or <) or seek (g) to where the branch should part, then b."
    )


def test_a_branch_in_the_list_is_its_head_then_its_own_faults() -> None:
    """The list says where a branch came from on one line, its own faults on the next."""
    from concsim.ui.screens.branches import describe

    original = Branch("original", (Injection(0.1, "fail", "job-1"),))
    branch = Branch(
        "branch 1",
        (Injection(0.1, "fail", "job-1"), Injection(0.3, "kill", "process-2")),
        parent="original",
        at=0.3,
    )
    assert describe(original, False) == "  original\n  fail job-1 at 100ms"
    assert (
        describe(branch, True) == "▶ branch 1 · from original at 300ms\n  kill process-2 at 300ms"
    )
