"""The evil scheduler in the app: x lists the threads waiting at the next decision point;
the one picked goes first, in the run, the saved replay and the replay played again."""

from __future__ import annotations

from pathlib import Path

import pytest
from appkit import build, sync

from concsim.engine import Simulation
from concsim.events import LockAcquired
from concsim.replay import load_replay, open_scenario, play_to_end, replay_simulation
from concsim.ui.screens.choose import ChoiceScreen

LOCK = """\
name: lock-turns
program: {model: threads, executor: false, collect: join}
tasks:
  - name: worker
    repeat: 3
    steps: [{cpu: 1ms}, {acquire: lock}, {cpu: 30ms}, {release: lock}]
"""

ASYNCIO = """\
name: aio-turns
program: {model: asyncio}
tasks:
  - name: co
    repeat: 3
    steps: [{acquire: lock}, {io: 10ms}, {release: lock}]
"""


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _dicts(events: list[object]) -> list[dict[str, object]]:
    return [event.to_dict() for event in events]  # type: ignore[attr-defined]


@sync
async def test_x_lists_the_waiters_and_the_pick_goes_first(tmp_path: Path) -> None:
    """GIVEN the run at 30ms, WHEN x then down and enter, THEN thread-3 gets the lock that
    thread-1 releases at 33ms, though thread-2 waited longer; the run is made again to then,
    as the engine makes it with that choice."""
    path = tmp_path / "lock-turns.yaml"
    path.write_text(LOCK)
    app, notes = build(str(path), tmp_path)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = app.run_screen
        app.advance_to(0.03)
        await pilot.press("x")
        choice = app.screen
        assert isinstance(choice, ChoiceScreen)
        decision = choice.decision
        assert (decision.number, decision.at, decision.waiting) == (
            2,
            33_000,
            ("thread-2", "thread-3"),
        )
        assert [(row.lane, row.note) for row in choice.rows] == [
            ("thread-2", "first in line, the run's choice"),
            ("thread-3", ""),
        ]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert screen.session.choices == {2: "thread-3"}
        assert screen.session.now == 0.033
        made = _dicts(screen.session.events[: screen.session.seen])
        await pilot.press("s")
    assert notes[0] == (
        "33ms: thread-3 took lock lock from thread-1 before thread-2, who had waited longer."
    )
    sim = Simulation(open_scenario(str(path)), choices={2: "thread-3"})
    sim.advance(0.033)
    assert made == _dicts(sim.events)
    saved = load_replay(tmp_path / "lock-turns-seed0.replay.yaml")
    assert saved.choices == {2: "thread-3"}
    again = play_to_end(replay_simulation(saved), saved.ended_at)
    assert [e.lane for e in again if isinstance(e, LockAcquired)] == [
        "thread-1",
        "thread-3",
        "thread-2",
    ]


@sync
async def test_coroutines_are_never_offered(tmp_path: Path) -> None:
    """asyncio's ready queue is FIFO: a run of coroutines has no decision point to offer."""
    path = tmp_path / "aio-turns.yaml"
    path.write_text(ASYNCIO)
    app, notes = build(str(path), tmp_path)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press("x")
        assert not isinstance(app.screen, ChoiceScreen)
    assert notes == [
        "No decision point ahead: from here on no two threads wait for the GIL or a lock at "
        "once (asyncio's ready queue is FIFO: CPython never reorders it)."
    ]


@sync
async def test_a_new_seed_forgets_the_choices(tmp_path: Path) -> None:
    path = tmp_path / "lock-turns.yaml"
    path.write_text(LOCK)
    app, _ = build(str(path), tmp_path)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = app.run_screen
        await pilot.press("x", "down", "enter")
        await pilot.pause()
        assert screen.session.choices == {0: "main"}
        await pilot.press("N")
        await pilot.pause()
        assert screen.session.choices == {}


def test_a_replays_choices_are_honoured_headless_and_checked(tmp_path: Path) -> None:
    """``concsim run --replay FILE --headless --events`` makes the recorded choice; a choice
    that is not a thread's name is a positioned problem."""
    import json

    from click.testing import CliRunner

    from concsim.cli import main

    (tmp_path / "lock-turns.yaml").write_text(LOCK)
    replay = tmp_path / "r.replay.yaml"
    replay.write_text(
        "format: concsim-replay/1\nscenario: lock-turns.yaml\nseed: 0\nchoices: {2: thread-3}\n"
    )
    result = CliRunner().invoke(main, ["run", "--replay", str(replay), "--headless", "--events"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines()]
    got = [e["lane"] for e in events if e["type"] == "LockAcquired"]
    assert got == ["thread-1", "thread-3", "thread-2"]
    replay.write_text(
        "format: concsim-replay/1\nscenario: lock-turns.yaml\nseed: 0\nchoices: {2: [3]}\n"
    )
    result = CliRunner().invoke(main, ["run", "--replay", str(replay), "--headless"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"{replay}:4:14: choices[2]: expected a mapping of decision numbers to the thread "
        "chosen, got a list"
    )


@sync
async def test_the_be_the_scheduler_lesson_loses_an_update_in_one_choice(tmp_path: Path) -> None:
    """The bundled lesson ends at balance = 3 as written. GIVEN the app on it, WHEN x
    lists the first decision point (21 ms: alice waits to write, bob to read) and bob is
    picked, THEN bob reads the balance before alice writes it back: run to the end, one
    update is lost and the balance is 2, graded interesting."""
    from concsim.events import SharedWritten
    from concsim.export.outcome import outcome
    from concsim.export.verdicts import verdicts_for

    assert outcome(Simulation(open_scenario("be-the-scheduler")).run())["shared"] == {"balance": 3}
    app, notes = build("be-the-scheduler", tmp_path)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = app.run_screen
        await pilot.press("x")
        choice = app.screen
        assert isinstance(choice, ChoiceScreen)
        assert (choice.decision.at, choice.decision.waiting) == (21_000, ("thread-1", "thread-2"))
        assert [row.doing for row in choice.rows] == [
            "alice: audit.write(tmp) · waits for the GIL since 16ms",
            "bob: recv() · waits for the GIL since 17ms",
        ]
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.press("end")
        await screen.wait_idle()
        events = list(screen.session.events)
        choices = dict(screen.session.choices)
    assert choices == {0: "thread-2"}
    assert (
        notes[0]
        == "21ms: thread-2 took the GIL from thread-4 before thread-1, who had waited longer."
    )
    lost = [e for e in events if isinstance(e, SharedWritten) and e.lost]
    assert [(e.task, e.value, e.lost) for e in lost] == [("bob", 1, 1)]
    result = outcome(events)
    assert result["shared"] == {"balance": 2}
    verdicts = verdicts_for(open_scenario("be-the-scheduler"), None, result)
    assert verdicts is not None
    assert [v.grade.value for v in verdicts if v.matched] == ["interesting"]
