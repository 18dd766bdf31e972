"""Faults and saving in the app: the fault list, taking a fault back, replays that match."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from appkit import Clock, build, sync

from concsim.engine import Injection, Simulation
from concsim.events import FaultRefused
from concsim.replay import Replay, load_replay, open_scenario, play_to_end, save_replay
from concsim.replay import replay_simulation as simulation_of
from concsim.ui.widgets.faultlist import FaultList


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def dicts(events: list[object]) -> list[dict[str, object]]:
    return [event.to_dict() for event in events]  # type: ignore[attr-defined]


@sync
async def test_save_never_overwrites_and_says_where(tmp_path: Path) -> None:
    """GIVEN a file of the replay's name, WHEN s is pressed twice, THEN two new files, the
    old one untouched, and each notification names its file."""
    (tmp_path / "io-threads-seed0.replay.yaml").write_text("mine\n")
    app, notes = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("s", "s")
    first, second = (
        tmp_path / "io-threads-seed0-2.replay.yaml",
        tmp_path / "io-threads-seed0-3.replay.yaml",
    )
    assert (tmp_path / "io-threads-seed0.replay.yaml").read_text() == "mine\n"
    assert load_replay(first).scenario == load_replay(second).scenario == "io-threads"
    assert notes == [
        f"Saved {first}; concsim run --replay {first} plays it again.",
        f"Saved {second}; concsim run --replay {second} plays it again.",
    ]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@sync
async def test_the_variant_is_in_the_saved_name(tmp_path: Path) -> None:
    app, _ = build("cpu-threads-gil", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("s", "v", "s")
    saved = load_replay(tmp_path / "cpu-threads-gil-sequential-seed0.replay.yaml")
    assert saved.variant == "sequential"
    assert load_replay(tmp_path / "cpu-threads-gil-seed0.replay.yaml").variant is None


def test_saving_is_atomic_and_can_refuse_to_replace(tmp_path: Path) -> None:
    """overwrite=False never replaces a file; no temporary file is left behind."""
    path = tmp_path / "a.replay.yaml"
    path.write_text("old\n")
    with pytest.raises(FileExistsError):
        save_replay(path, Replay("io-threads", 0), overwrite=False)
    assert path.read_text() == "old\n"
    save_replay(path, Replay("io-threads", 0))
    assert load_replay(path) == Replay("io-threads", 0)
    assert [p.name for p in tmp_path.iterdir()] == ["a.replay.yaml"]


@sync
async def test_a_refused_fault_is_not_saved(tmp_path: Path) -> None:
    """k on a thread is refused with CPython's reason; the history and the replay lack it."""
    app, notes = build("cpu-threads-gil", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance_to(0.2)
        screen = app.run_screen
        screen.lanes.select_row("thread-1")
        await pilot.press("k", "s")
        events = dicts(screen.session.events)
        assert not screen.query_one(FaultList).display
    assert any("threads cannot be killed" in note for note in notes)
    saved = load_replay(tmp_path / "cpu-threads-gil-seed0.replay.yaml")
    assert saved.injections == ()
    assert not any(event["type"] == "FaultRefused" for event in events)
    sim = simulation_of(saved)
    sim.advance(0.2)
    assert dicts(sim.events) == events


@sync
async def test_an_accidental_fault_is_listed_and_taken_back(tmp_path: Path) -> None:
    """i at t=0.1 shows in the fault list; delete removes it, re-simulating to now without it."""
    app, notes = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.run_screen
        app.advance_to(0.1)
        await pilot.press("i")
        faults = screen.query_one(FaultList)
        assert faults.display and faults.option_count == 1
        assert str(faults.get_option_at_index(0).prompt) == "100ms  interrupt  main"
        await pilot.press("delete")
        assert screen.session.injections == () and screen.session.now == 0.1
        assert not faults.display
        events = dicts(screen.session.events)
        await pilot.press("delete")
    clean = Simulation(open_scenario("io-threads"))
    clean.advance(0.1)
    assert events == dicts(clean.events)
    assert notes[-2:] == [
        "Removed interrupt on main at 100ms: re-simulated to 100ms without it.",
        "No injected fault to remove.",
    ]


@sync
async def test_remove_fault_is_a_palette_command(tmp_path: Path) -> None:
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance_to(0.1)
        await pilot.press("i")
        (command,) = [c for c in app.get_system_commands(app.screen) if c.title == "Remove fault"]
        done = command.callback()
        if inspect.isawaitable(done):
            await done
        await pilot.pause()
        assert app.run_screen.session.injections == ()


@sync
async def test_rewind_keeps_the_faults_and_says_so(tmp_path: Path) -> None:
    app, notes = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance_to(0.1)
        await pilot.press("i", "r")
        assert len(app.run_screen.session.injections) == 1
        assert app.run_screen.query_one(FaultList).option_count == 1
    assert notes[-1] == (
        "Rewound to 0; the 1 injected fault stays and lands again as it plays "
        "(delete removes the highlighted one)."
    )


@sync
async def test_a_fault_after_the_end_is_refused_in_the_app(tmp_path: Path) -> None:
    """Once the run has finished, a fault key says why it has nothing to act on."""
    app, notes = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("end", "i")
        assert app.run_screen.session.injections == ()
    assert notes[-1] == (
        "The run has finished, so interrupt has nothing to act on: step back with , or "
        "rewind with r first."
    )


def test_a_fault_aimed_after_the_end_is_refused_by_the_engine() -> None:
    """--inject or a replay past the end: a FaultRefused with the reason, not silence."""
    sim = Simulation(open_scenario("io-threads"), injections=[Injection(9.0, "interrupt", "main")])
    events = sim.run()
    refused = [event for event in events if isinstance(event, FaultRefused)]
    assert [(e.t, e.fault, e.target, e.reason) for e in refused] == [
        (
            0.5,
            "interrupt",
            "main",
            "the program ended at 500ms, before the fault aimed at 9s could land: "
            "nothing is left to act on",
        )
    ]


def test_the_command_line_shows_a_fault_aimed_after_the_end() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "concsim",
            "run",
            "io-threads",
            "--headless",
            "--inject",
            "9s:interrupt",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "before the fault aimed at 9s could land" in done.stdout


@sync
async def test_a_stalled_run_ended_in_the_app_replays_event_for_event(tmp_path: Path) -> None:
    """deadlock-lock-order: advance to 0.2 s, . ends it as hung there, s; the replay (in
    Python and on the command line) gives the same events, elapsed 0.2 included."""
    app, _ = build("deadlock-lock-order", tmp_path, clock=Clock())
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance_to(0.2)
        assert app.run_screen.session.stalled
        await pilot.press(".", "s")
        session = app.run_screen.session
        assert session.finished
        events = dicts(session.events)
    path = tmp_path / "deadlock-lock-order-seed0.replay.yaml"
    saved = load_replay(path)
    assert saved.ended_at == 0.2
    assert events[-1]["type"] == "RunEnded" and events[-1]["elapsed"] == 0.2
    assert dicts(play_to_end(simulation_of(saved), saved.ended_at)) == events
    done = subprocess.run(
        [sys.executable, "-m", "concsim", "run", "--replay", str(path), "--headless", "--events"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines == json.loads(json.dumps(events, default=str))


@pytest.mark.parametrize("size", [(30, 8), (1, 1)])
@sync
async def test_the_fault_list_fits_tiny_terminals(tmp_path: Path, size: tuple[int, int]) -> None:
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=size) as pilot:
        app.advance_to(0.1)
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("delete")
        await pilot.pause()
    assert app._exception is None


@sync
async def test_an_earlier_fault_can_be_picked_and_removed(tmp_path: Path) -> None:
    """GIVEN two faults, WHEN the first is highlighted in the list and x pressed, THEN only
    the second remains."""
    app, _ = build("io-threads", tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        app.advance_to(0.1)
        screen.lanes.select_row("thread-2")
        await pilot.press("h")
        app.advance_to(0.2)
        await pilot.press("i")
        faults = screen.query_one(FaultList)
        assert faults.highlighted == 1  # the newest, ready to take back
        faults.focus()
        await pilot.press("up", "delete")
        assert [(i.at, i.fault) for i in screen.session.injections] == [(0.2, "interrupt")]
        assert screen.session.now == 0.2


def test_traces_and_replays_take_new_names_readable_by_others(tmp_path: Path) -> None:
    """T, like s, writes the variant into the name and never replaces a file; both are
    created with the mode open() gives (the umask's), not a temporary file's 0600."""
    import os
    import stat

    from concsim.replay import open_scenario
    from concsim.ui.saving import export_trace, save_session
    from concsim.ui.session import Session

    session = Session(open_scenario("io-threads"), source="io-threads")
    session.advance_to(0.2)
    first, second = export_trace(session, tmp_path), export_trace(session, tmp_path)
    assert (first.name, second.name) == (
        "io-threads-seed0.trace.json",
        "io-threads-seed0-2.trace.json",
    )
    session.variant = "two-workers"
    assert export_trace(session, tmp_path).name == "io-threads-two-workers-seed0.trace.json"
    umask = os.umask(0)
    os.umask(umask)
    for path in (first, save_session(session, tmp_path)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


@sync
async def test_a_new_variant_says_it_clears_the_faults(tmp_path: Path) -> None:
    app, notes = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.advance_to(0.1)
        assert app.run_screen.lanes.select_row("thread-1")
        await pilot.press("f", "v")
    assert notes[-1] == "Variant two-workers; 1 injected fault cleared."


@sync
async def test_escape_on_a_run_opened_by_name_says_there_is_no_browser(tmp_path: Path) -> None:
    app, notes = build("io-threads", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("escape")
        assert app.run_screen is app.screen
    assert notes == [
        "This run was opened by name, so there is no browser to go back to: q quits, and "
        "concsim with no arguments opens the browser."
    ]
