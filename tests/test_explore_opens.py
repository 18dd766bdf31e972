"""The shrunk run opens where explore wrote it: a replay file with the kept draws, played
in the app (and headless) to the very outcome the shrinking kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from appkit import build, sync
from click.testing import CliRunner

from concsim.cli import main
from concsim.explore.samples import facets
from concsim.explore.schedule import simulate
from concsim.export.outcome import outcome
from concsim.replay import load_replay, play_to_end, replay_simulation
from concsim.scenario.loader import load_scenario

RACE = """\
version: 1
name: race
summary: Three threads add to a counter without a lock; ties broken by the seed.
machine: {cpu_jitter: 0.05, ties: seeded}
program: {model: threads, executor: false, collect: join}
shared: {counter: 0}
tasks:
  - name: adder
    repeat: 3
    steps:
      - repeat: 40
        steps: [{read: counter}, {cpu: 200us}, {write: counter}, {cpu: 100us}]
expect:
  - grade: acceptable
    when: {shared: {counter: 120}}
    why: every update counted
  - grade: interesting
    when: {shared: {counter: {max: 119}}}
    why: some updates lost
"""


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _explore(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    path = tmp_path / "race.yaml"
    path.write_text(RACE)
    args = ["explore", str(path), "--runs", "6", "--jobs", "1", "--shrink", "--json"]
    result = CliRunner().invoke(main, [*args, "--save", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    shrunk = json.loads(result.output)["shrunk"]
    assert isinstance(shrunk, dict)
    return path, shrunk


def test_explore_shrink_writes_the_shrunk_runs_replay(tmp_path: Path) -> None:
    """The replay holds the seed and the kept deviations as draws; played headless, it
    gives the shrunk outcome, which is the seed's own."""
    path, shrunk = _explore(tmp_path)
    replay = Path(str(shrunk["replay"]))
    seed = int(str(shrunk["seed"]))
    assert replay == tmp_path / "out" / f"race-seed{seed}-shrunk.replay.yaml"
    saved = load_replay(replay)
    kept = {int(index): value for index, value in dict(shrunk["deviations"]).items()}  # type: ignore[call-overload]
    assert (saved.seed, saved.draws, saved.choices) == (seed, kept, {})
    scenario = load_scenario(path)
    expected = facets(outcome(simulate(scenario, None, (), seed, kept).events))
    assert dict(expected)["shared.counter"] == dict(shrunk["label"])["shared.counter"]  # type: ignore[call-overload]
    played = play_to_end(replay_simulation(saved), saved.ended_at)
    assert facets(outcome(played)) == expected
    headless = CliRunner().invoke(main, ["run", "--replay", str(replay), "--headless", "--json"])
    assert facets(json.loads(headless.output)) == expected


@sync
async def test_the_shrunk_run_opens_in_the_app(tmp_path: Path) -> None:
    """concsim run --replay FILE: the app plays the shrunk schedule to its outcome."""
    _, shrunk = _explore(tmp_path)
    saved = load_replay(Path(str(shrunk["replay"])))
    expected = outcome(play_to_end(replay_simulation(saved), None))
    app, _ = build(None, tmp_path, replay=str(shrunk["replay"]))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.run_screen
        assert screen.session.draws == saved.draws
        await pilot.press("end")
        await screen.wait_idle()
        events = list(screen.session.events)
    assert facets(outcome(events)) == facets(expected)
    assert (
        outcome(events)["shared"]
        == expected["shared"]
        == dict(
            counter=int(dict(shrunk["label"])["shared.counter"])  # type: ignore[call-overload]
        )
    )
