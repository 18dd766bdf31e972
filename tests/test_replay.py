"""Replay files: saved and loaded as YAML or JSON, and a replayed run repeats the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from concsim.engine import Injection
from concsim.replay import (
    Replay,
    ReplayError,
    load_replay,
    open_scenario,
    replay_simulation,
    save_replay,
)
from concsim.scenario.library import find_scenario
from concsim.scenario.model import FaultKind
from concsim.ui.session import Session

INJECTIONS = (
    Injection(at=0.1 + 0.2, fault="fail", target="request-2", error="ValueError"),
    Injection(at=0.35, fault="interrupt", target="main"),
)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_replay_survives_the_round_trip_exactly(tmp_path: Path, suffix: str) -> None:
    """Every field comes back equal, injection times to the last bit (0.1 + 0.2)."""
    replay = Replay("io-threads", seed=7, variant="two-workers", injections=INJECTIONS)
    path = save_replay(tmp_path / f"session{suffix}", replay)
    assert load_replay(path) == replay


def test_a_scenario_file_is_stored_relative_to_the_replay(tmp_path: Path) -> None:
    """Moving the pair together keeps the replay working."""
    scenario = tmp_path / "mine.yaml"
    scenario.write_text(find_scenario("io-threads").read_text())
    (tmp_path / "replays").mkdir()
    path = save_replay(tmp_path / "replays" / "s.yaml", Replay(str(scenario), seed=0))
    assert "../mine.yaml" in path.read_text()
    assert Path(load_replay(path).scenario).resolve() == scenario.resolve()


def test_a_file_that_is_not_a_replay_is_one_clear_error(tmp_path: Path) -> None:
    """No traceback: the file and what is expected."""
    path = tmp_path / "x.yaml"
    path.write_text("name: io-threads\n")
    with pytest.raises(ReplayError) as caught:
        load_replay(path)
    assert str(caught.value) == (
        f"{path}:1:1: (file): not a replay file; expected format: concsim-replay/1"
    )


def test_replaying_a_saved_session_repeats_it_event_for_event(tmp_path: Path) -> None:
    """GIVEN a session with faults injected by hand, WHEN saved and replayed, THEN the
    replayed run emits the same events (the engine is deterministic)."""
    session = Session(open_scenario("io-threads"), source="io-threads", seed=3)
    session.advance_to(0.2)
    session.inject("fail", "request-2", "ValueError")
    session.advance_to(0.3)
    session.inject("hang", "request-4")
    while not session.finished:
        session.step()
    path = save_replay(tmp_path / "s.yaml", session.replay())
    replayed = replay_simulation(load_replay(path))
    replayed.run()
    assert [e.to_dict() for e in replayed.events] == [e.to_dict() for e in session.events]


HEADER = "format: concsim-replay/1\nscenario: io-threads\n"


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("format: concsim-replay/1\nseed: 0\n", ["r.yaml:1:1: scenario: required key is missing"]),
        (
            "format: concsim-replay/1\nscenario: ''\nseed: 0\n",
            ["r.yaml:2:11: scenario: expected text, got ''"],
        ),
        (HEADER, ["r.yaml:1:1: seed: required key is missing"]),
        (HEADER + "seed: true\n", ["r.yaml:3:7: seed: expected an integer 0 to 2**64-1, got true"]),
        (HEADER + "seed: -1\n", ["r.yaml:3:7: seed: expected an integer 0 to 2**64-1, got -1"]),
        (
            HEADER + "seed: 18446744073709551616\n",
            ["r.yaml:3:7: seed: expected an integer 0 to 2**64-1, got 18446744073709551616"],
        ),
        (HEADER + "seed: '3'\n", ["r.yaml:3:7: seed: expected an integer 0 to 2**64-1, got '3'"]),
        (HEADER + "variant: 5\nseed: 0\n", ["r.yaml:3:10: variant: expected text, got 5"]),
        (
            HEADER + "variant: nope\nseed: 0\n",
            ["r.yaml:3:10: variant: no variant 'nope' in io-threads (variants: two-workers)"],
        ),
        (
            HEADER + "seed: 0\ninjections: {at: 1}\n",
            ["r.yaml:4:13: injections: expected a list of faults, got a mapping"],
        ),
        (
            HEADER + "seed: 0\ninjections:\n- 5\n",
            ["r.yaml:5:3: injections[0]: expected a mapping (at, fault, target), got 5"],
        ),
        (
            HEADER + "seed: 0\ninjections:\n- {at: -1, fault: boom, target: 7, error: ''}\n- {}\n",
            [
                "r.yaml:5:8: injections[0].at: expected a time in seconds, 0 to 1000000, got -1",
                "r.yaml:5:19: injections[0].fault: expected one of "
                + ", ".join(FaultKind)
                + ", got 'boom'",
                "r.yaml:5:33: injections[0].target: expected text, got 7",
                "r.yaml:5:43: injections[0].error: expected text, got ''",
                "r.yaml:6:3: injections[1].at: required key is missing",
                "r.yaml:6:3: injections[1].fault: required key is missing",
                "r.yaml:6:3: injections[1].target: required key is missing",
            ],
        ),
        (
            HEADER + "seed: 0\ninjections:\n- {at: 0.1, fault: fail, target: nobody}\n",
            ["r.yaml:5:34: injections[0].target: no task or lane `nobody`"],
        ),
        (
            HEADER + "seed: 0\nended_at: soon\n",
            ["r.yaml:4:11: ended_at: expected a time in seconds, 0 to 1000000, got 'soon'"],
        ),
        (
            "format: concsim-replay/1\nscenario: 5\nseed: x\nvariant: []\ninjections: 3\n"
            "ended_at: .nan\n",
            [
                "r.yaml:2:11: scenario: expected text, got 5",
                "r.yaml:3:7: seed: expected an integer 0 to 2**64-1, got 'x'",
                "r.yaml:4:10: variant: expected text, got a list",
                "r.yaml:5:13: injections: expected a list of faults, got 3",
                "r.yaml:6:11: ended_at: expected a time in seconds, 0 to 1000000, got nan",
            ],
        ),
    ],
)
def test_each_problem_of_a_replay_file_is_one_line_at_its_value(
    text: str, lines: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("r.yaml").write_text(text)
    with pytest.raises(ReplayError) as caught:
        load_replay("r.yaml")
    assert str(caught.value).splitlines() == lines


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            '{"format": "concsim-replay/1", "scenario": "a\\"[{NaN", "seed": 0,\n "b": -Infinity}',
            "r.json:2:7: (file): `-Infinity` is not a JSON number; expected a finite number",
        ),
        (
            '{"format": "concsim-replay/1", "scenario": "' + "[" * 80 + '", "seed": 0}',
            "r.json:1:44: scenario: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[...': no such file or "
            "bundled scenario; see `concsim list`",
        ),
        (
            '{"a": ' + "[" * 65 + "]" * 65 + "}",
            "r.json:1:1: (file): nested 66 levels deep; expected at most 64",
        ),
        (
            '{"format": "concsim-replay/1",\n "scenario": }',
            "r.json:2:14: (file): invalid JSON: Expecting value",
        ),
    ],
)
def test_json_replays_count_nesting_and_find_constants_outside_strings(
    text: str, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Brackets and words inside a JSON string neither nest nor count as NaN or Infinity."""
    monkeypatch.chdir(tmp_path)
    Path("r.json").write_text(text)
    with pytest.raises(ReplayError) as caught:
        load_replay("r.json")
    assert str(caught.value) == line


def test_a_replay_file_is_written_from_its_model_in_a_fixed_order(tmp_path: Path) -> None:
    replay = Replay("io-threads", seed=7, injections=INJECTIONS[1:])
    assert replay.to_dict() == {
        "format": "concsim-replay/1",
        "scenario": "io-threads",
        "variant": None,
        "seed": 7,
        "injections": [
            {"at": 0.35, "fault": "interrupt", "target": "main", "error": "RuntimeError"}
        ],
    }
    assert list(replay.to_dict()) == ["format", "scenario", "variant", "seed", "injections"]
    stalled = Replay("io-threads", seed=0, ended_at=2.5)
    assert stalled.to_dict()["ended_at"] == 2.5
    path = save_replay(tmp_path / "s.yaml", stalled)
    assert path.read_text() == (
        "format: concsim-replay/1\nscenario: io-threads\nvariant: null\nseed: 0\n"
        "injections: []\nended_at: 2.5\n"
    )
    assert load_replay(path) == stalled


def test_whole_seconds_in_a_replay_file_are_times(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(HEADER + "seed: 0\ninjections:\n- {at: 1, fault: fail, target: main}\n")
    assert load_replay(path).injections == (Injection(1.0, "fail", "main"),)
