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
