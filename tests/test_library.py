"""Bundled scenarios: where they are found, finding one by name, and the learning-order index."""

from __future__ import annotations

from importlib.resources.readers import MultiplexedPath
from pathlib import Path

import pytest

from concsim.scenario import library
from concsim.scenario.errors import ScenarioError
from concsim.scenario.library import (
    TOPIC_ORDER,
    ScenarioInfo,
    bundled_dir,
    bundled_scenarios,
    find_scenario,
    scenario_index,
    topic_rank,
)

GOOD = Path(__file__).parent / "fixtures" / "scenarios" / "good"


def test_bundled_scenarios_lists_yaml_files_sorted() -> None:
    paths = bundled_scenarios(GOOD)
    assert [p.name for p in paths] == sorted(p.name for p in GOOD.glob("*.yaml"))
    assert len(paths) == 6


def test_bundled_scenarios_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert bundled_scenarios(tmp_path / "nowhere") == []


def test_find_scenario_returns_an_existing_path_as_is() -> None:
    path = GOOD / "plain-threads.yaml"
    assert find_scenario(str(path)) == path


def test_find_scenario_by_declared_name_or_file_stem(tmp_path: Path) -> None:
    (tmp_path / "lesson-01.yaml").write_text("name: first-lesson\n")
    (tmp_path / "broken.yaml").write_text("name: [\n")
    assert find_scenario("first-lesson", tmp_path) == tmp_path / "lesson-01.yaml"
    assert find_scenario("lesson-01", tmp_path) == tmp_path / "lesson-01.yaml"
    # a file too broken to read its name is still found by its stem, to be reported in full
    assert find_scenario("broken", tmp_path) == tmp_path / "broken.yaml"


def test_find_scenario_parses_only_the_files_that_may_declare_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "alpha.yaml").write_text("name: alpha\nsummary: the first\n")
    (tmp_path / "beta.yaml").write_text("name: beta\n")
    (tmp_path / "gamma.yaml").write_text("name: renamed-gamma\n")
    (tmp_path / "quoted.yaml").write_text('name: "es\\x63aped"\n')  # a backslash: parsed
    parsed: list[str] = []
    load = library.yaml.load

    def counting(stream: str, Loader: object) -> object:  # yaml's own keyword
        parsed.append(stream.split("\n")[0])
        return load(stream, Loader=Loader)  # type: ignore[arg-type]

    monkeypatch.setattr(library.yaml, "load", counting)
    monkeypatch.setattr(library, "_NAMES", {})
    assert find_scenario("beta", tmp_path) == tmp_path / "beta.yaml"
    assert parsed == ["name: beta", 'name: "es\\x63aped"']
    parsed.clear()
    # The name a file declares wins over another file's stem, as with every file parsed.
    (tmp_path / "renamed-gamma.yaml").write_text("name: delta\n")
    assert find_scenario("renamed-gamma", tmp_path) == tmp_path / "gamma.yaml"
    assert find_scenario("escaped", tmp_path) == tmp_path / "quoted.yaml"
    assert find_scenario("gamma", tmp_path) == tmp_path / "gamma.yaml"  # its stem still


def test_find_scenario_unknown_name_suggests_a_close_one() -> None:
    with pytest.raises(ScenarioError) as caught:
        find_scenario("plain-thread", GOOD)
    assert str(caught.value) == (
        "plain-thread:1:1: (file): no such file or bundled scenario; did you mean `plain-threads`?"
    )


def test_find_scenario_unknown_name_without_a_close_one() -> None:
    with pytest.raises(ScenarioError) as caught:
        find_scenario("zzz", GOOD)
    assert str(caught.value) == (
        "zzz:1:1: (file): no such file or bundled scenario; see `concsim list`"
    )


def test_find_scenario_missing_path_is_a_missing_file() -> None:
    with pytest.raises(ScenarioError) as caught:
        find_scenario("somewhere/race.yaml", GOOD)
    assert str(caught.value) == (
        "somewhere/race.yaml:1:1: (file): no such file; expected a scenario .yaml file"
    )


def test_scenario_index_is_in_learning_order() -> None:
    index = scenario_index(GOOD)
    assert [(info.topic, info.name) for info in index] == [
        ("models", "processes-map"),
        ("shared-state", "threads-everything"),
        ("asyncio", "asyncio-timeouts"),
        ("failure", "plain-threads"),
        ("zebra", "custom-topic"),  # a topic of its own comes just before "other"
        ("other", "sequential-minimal"),
    ]
    assert index[0] == ScenarioInfo(
        name="processes-map",
        topic="models",
        order=3,
        model="processes",
        summary="A process pool with map and chunks.",
        path=GOOD / "processes-map.yaml",
    )


def test_scenario_index_orders_within_a_topic_by_order_then_name(tmp_path: Path) -> None:
    for name, order in [("b", 1), ("a", 1), ("c", 0)]:
        (tmp_path / f"{name}.yaml").write_text(f"name: {name}\ntopic: models\norder: {order}\n")
    assert [info.name for info in scenario_index(tmp_path)] == ["c", "a", "b"]


def test_scenario_index_reports_every_broken_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nseed: x\n")
    (tmp_path / "b.yaml").write_text("name: b\n")
    (tmp_path / "c.yaml").write_text("name: c\norder: later\n")
    with pytest.raises(ScenarioError) as caught:
        scenario_index(tmp_path)
    assert [(Path(p.path).name, p.dotted) for p in caught.value.problems] == [
        ("a.yaml", "seed"),
        ("c.yaml", "order"),
    ]


def test_topic_rank_follows_topic_order() -> None:
    ranked = sorted([*TOPIC_ORDER, "zebra"], key=topic_rank)
    assert ranked == [*TOPIC_ORDER[:-1], "zebra", "other"]


def test_bundled_dir_in_a_checkout_is_the_scenarios_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(library.importlib.resources, "files", missing)
    assert bundled_dir() == Path(library.__file__).resolve().parents[2] / "scenarios"


def test_bundled_dir_in_a_wheel_is_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN concsim.bundled as a regular package (a Path) or a namespace one (MultiplexedPath)
    (tmp_path / "race.yaml").write_text("name: race\n")
    monkeypatch.setattr(library.importlib.resources, "files", lambda name: tmp_path)
    assert bundled_dir() == tmp_path
    monkeypatch.setattr(
        library.importlib.resources, "files", lambda name: MultiplexedPath(tmp_path)
    )
    assert bundled_dir() == tmp_path


def test_bundled_dir_constant_is_a_folder() -> None:
    assert bundled_dir() == library.BUNDLED_DIR
    assert library.BUNDLED_DIR.is_dir()
