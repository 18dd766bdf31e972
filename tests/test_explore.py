"""``concsim explore``: seeds grouped by outcome, graded by ``expect:``, the same whatever
the number of jobs, with a replay per outcome that reproduces it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from concsim.cli import main
from concsim.engine import Injection, Simulation
from concsim.explore import Verdict, explore, facets
from concsim.explore.samples import run_seed
from concsim.export.outcome import outcome
from concsim.replay import load_replay
from concsim.scenario.library import find_scenario
from concsim.scenario.loader import load_scenario, load_scenario_text

RACE = """\
version: 1
name: race
summary: Two threads add to a counter without a lock.
machine: {cpu_jitter: 0.05}
program: {model: threads, executor: false, collect: join}
shared: {counter: 0}
tasks:
  - name: adder
    repeat: 2
    steps:
      - repeat: 60
        steps: [{read: counter}, {cpu: 200us}, {write: counter}, {cpu: 100us}]
expect:
  - grade: acceptable
    when: {shared: {counter: 120}}
    why: every update counted
  - grade: interesting
    when: {shared: {counter: {min: 80, max: 119}}}
    why: some updates lost
  - grade: forbidden
    when: {shared: {counter: {max: 79}}}
    why: more than forty updates lost
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def race(tmp_path: Path) -> Path:
    path = tmp_path / "race.yaml"
    path.write_text(RACE)
    return path


def test_facets_leave_times_out() -> None:
    """Two runs that did the same things at different times are one outcome."""
    sc = load_scenario_text(
        "name: j\nmachine: {jitter: 0.5}\ntasks: [{name: a, steps: [{io: 100ms}]}]\n", "j.yaml"
    )
    first, second = (outcome(Simulation(sc, seed=seed).run()) for seed in (1, 2))
    assert first["elapsed"] != second["elapsed"]
    assert facets(first) == facets(second)
    assert dict(facets(first)) == {
        "main": "ok",
        "results": '["a done"]',
        "task a": "ok",
        "output": "[]",
    }


def test_race_lost_update_shows_several_counts_each_graded() -> None:
    """The bundled lesson's seeds give different counts, each graded by its expect: list."""
    found = explore(load_scenario(find_scenario("race-lost-update")), runs=40)
    counts = {dict(bar.facets)["shared.counter"] for bar in found.histogram.bars}
    assert len(counts) >= 3
    assert all(int(count) < 400 for count in counts)
    assert {bar.verdict for bar in found.histogram.bars} == {Verdict.INTERESTING}
    assert found.histogram.runs == sum(bar.count for bar in found.histogram.bars) == 40
    assert found.histogram.varying() == ["shared.counter"]


# race-lost-update, seeds 0-299: (counter, runs, smallest seeds) per bar, as explored by
# every version of the engine since seeds varied the CPU steps. A faster engine must find
# exactly these.
RACE_LOST_UPDATE_0_299 = [
    (231, 47, [0, 6, 16, 22, 29]),
    (216, 46, [3, 4, 7, 9, 10]),
    (215, 45, [24, 36, 71, 72, 74]),
    (232, 39, [8, 13, 17, 19, 37]),
    (247, 25, [2, 26, 41, 49, 70]),
    (199, 21, [14, 38, 50, 54, 56]),
    (200, 15, [20, 27, 39, 46, 66]),
    (183, 14, [1, 11, 18, 40, 131]),
    (214, 11, [34, 68, 75, 171, 196]),
    (248, 9, [28, 35, 44, 45, 58]),
    (182, 8, [5, 30, 53, 157, 166]),
    (198, 5, [63, 117, 212, 233, 267]),
    (167, 4, [12, 33, 144, 251]),
    (230, 3, [150, 180, 258]),
    (249, 2, [103, 242]),
    (264, 2, [109, 191]),
    (217, 2, [139, 170]),
    (263, 1, [15]),
    (233, 1, [256]),
]


@pytest.mark.parametrize("jobs", [1, 2])
def test_race_lost_update_histogram_of_seeds_0_to_299_is_pinned(jobs: int) -> None:
    found = explore(load_scenario(find_scenario("race-lost-update")), runs=300, jobs=jobs)
    bars = found.histogram.bars
    shape = [(int(dict(bar.facets)["shared.counter"]), bar.count, bar.seeds) for bar in bars]
    assert shape == RACE_LOST_UPDATE_0_299
    assert {bar.verdict for bar in bars} == {Verdict.INTERESTING}
    assert (bars[0].shortest, bars[0].longest) == (0.119772, 0.120415)
    assert (bars[-1].shortest, bars[-1].longest) == (0.119877, 0.119877)


def test_the_histogram_is_the_same_on_one_job_or_two(race: Path) -> None:
    """Chunks are judged in seed order, so parallel runs change nothing but the time."""
    sc = load_scenario(race)
    one, two = (explore(sc, runs=60, jobs=jobs) for jobs in (1, 2))
    shape = [(bar.facets, bar.count, bar.seeds, bar.verdict) for bar in one.histogram.bars]
    assert shape == [(b.facets, b.count, b.seeds, b.verdict) for b in two.histogram.bars]
    assert len(shape) >= 2


def test_until_stops_at_the_same_first_seed_whatever_the_jobs(race: Path) -> None:
    sc = load_scenario(race)
    runs = [explore(sc, runs=200, jobs=jobs, until=Verdict.INTERESTING) for jobs in (1, 2)]
    stops = [found.stopped_at for found in runs]
    assert stops[0] is not None and stops[1] is not None
    assert stops[0].seed == stops[1].seed
    assert stops[0].verdict is Verdict.INTERESTING
    assert runs[0].histogram.runs == stops[0].seed + 1  # seeds 0..stop, no more
    bars = runs[0].histogram.bars
    assert sum(bar.count for bar in bars if bar.verdict is Verdict.INTERESTING) == 1


def test_runs_are_judged_like_concsim_test(race: Path) -> None:
    """The gravest matched grade wins; expectations that all miss make the run unexpected;
    no expect: list leaves it ungraded."""
    sc = load_scenario(race)
    sample = run_seed(sc, None, (), 0)
    counter = int(dict(sample.facets)["shared.counter"])
    expected = (
        Verdict.ACCEPTABLE
        if counter == 120
        else Verdict.INTERESTING
        if counter >= 80
        else Verdict.FORBIDDEN
    )
    assert sample.verdict is expected
    narrow = load_scenario_text(RACE.replace("min: 80, max: 119", "min: 119, max: 119"), "r.yaml")
    misses = [run_seed(narrow, None, (), seed) for seed in range(6)]
    unexpected = [s for s in misses if s.verdict is Verdict.UNEXPECTED]
    assert unexpected and unexpected[0].why.startswith("no acceptable or interesting outcome")
    bare = load_scenario_text(RACE.split("expect:")[0], "bare.yaml")
    assert run_seed(bare, None, (), 0).verdict is Verdict.UNGRADED


def test_cli_prints_the_graded_histogram_and_saves_one_replay_per_outcome(
    race: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "replays"
    code, out, err = invoke(
        "explore", str(race), "--runs", "30", "--jobs", "1", "--save", str(folder)
    )
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith("race: 30 runs (seeds 0-29) in ")
    assert any("shared.counter=" in line and "interesting" in line for line in lines)
    saved = sorted(folder.glob("*.replay.yaml"))
    data = json.loads(
        invoke("explore", str(race), "--runs", "30", "--jobs", "1", "--json", "--no-save")[1]
    )
    assert len(saved) == len(data["outcomes"])
    assert code == (1 if any(o["grade"] == "forbidden" for o in data["outcomes"]) else 0)
    for bar in data["outcomes"]:
        replay = load_replay(folder / f"race-seed{bar['seeds'][0]}.replay.yaml")
        again = outcome(Simulation(load_scenario(replay.scenario), seed=replay.seed).run())
        assert facets(again) == tuple(bar["facets"].items())


def test_cli_json_document(race: Path) -> None:
    code, out, _ = invoke(
        "explore", str(race), "--runs", "20", "--jobs", "2", "--json", "--no-save"
    )
    data = json.loads(out)
    assert set(data) == {
        "scenario",
        "variant",
        "runs",
        "first_seed",
        "last_seed",
        "jobs",
        "seconds",
        "runs_per_second",
        "varying",
        "outcomes",
        "stopped_at",
        "fails",
    }
    assert (data["scenario"], data["runs"], data["first_seed"], data["last_seed"]) == (
        "race",
        20,
        0,
        19,
    )
    assert sum(bar["count"] for bar in data["outcomes"]) == 20
    assert abs(sum(bar["share"] for bar in data["outcomes"]) - 1) < 1e-6
    assert code == (1 if data["fails"] else 0)


def test_a_forbidden_outcome_exits_1(tmp_path: Path) -> None:
    """Gating CI: a forbidden run anywhere in the exploration fails the command."""
    path = tmp_path / "race.yaml"
    path.write_text(RACE.replace("max: 79", "max: 120"))  # every count is forbidden now
    code, out, _ = invoke("explore", str(path), "--runs", "5", "--jobs", "1", "--no-save")
    assert code == 1 and "forbidden" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-scenario"], "no-such-scenario:1:1: "),
        (["io-threads", "--variant", "nope"], "io-threads: no variant 'nope' in io-threads"),
        (
            ["io-threads", "--inject", "0.1s:fail:nobody"],
            "--inject fail on nobody: ",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    code, out, err = invoke("explore", *args, "--runs", "2", "--no-save")
    assert code == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1


def test_faults_apply_to_every_run() -> None:
    """An injected fault is part of each explored run."""
    sc = load_scenario(find_scenario("io-threads"))
    fault = Injection.parse("0.1s:fail:request-2")
    found = explore(sc, runs=3, injections=[fault])
    (bar,) = found.histogram.bars
    assert dict(bar.facets)["task request-2"].startswith("failed")


def test_the_updates_lost_are_counted_exactly_whatever_the_seed() -> None:
    """The futures panel's "(N updates lost)" is (start + every add) - final, also when a
    stale write is itself overwritten (the writes' own counts then overlap)."""
    from concsim.ui.ledger import Ledger

    sc = load_scenario(find_scenario("race-lost-update"))
    for seed in range(8):
        events = Simulation(sc, seed=seed).run()
        ledger = Ledger()
        ledger.feed(list(events))
        value, lost = ledger.shared["counter"]
        assert lost == 400 - value, seed


def test_a_seed_shrinks_to_the_fewest_deviations_that_still_give_its_outcome(race: Path) -> None:
    """ddmin over the run's draws: the shrunk schedule gives the same outcome, and without
    any one of its deviations the outcome changes (1-minimal)."""
    from concsim.explore.samples import facets
    from concsim.explore.schedule import AS_WRITTEN, shrink_seed, simulate

    sc = load_scenario(race)
    as_written = facets(outcome(simulate(sc, None, (), 0, {}).events))
    seed = next(s for s in range(50) if facets(outcome(Simulation(sc, seed=s).run())) != as_written)
    target = facets(outcome(Simulation(sc, seed=seed).run()))
    shrunk = shrink_seed(sc, None, (), seed)
    assert shrunk.complete and shrunk.drawn == 240 and 1 <= len(shrunk.schedule) < 240
    assert facets(outcome(simulate(sc, None, (), seed, shrunk.schedule).events)) == target
    for index in shrunk.schedule:
        fewer = {i: v for i, v in shrunk.schedule.items() if i != index}
        assert facets(outcome(simulate(sc, None, (), seed, fewer).events)) != target
    assert all(value != AS_WRITTEN for value in shrunk.schedule.values())
    assert any("than written" in line for line in shrunk.words)


def test_shrinking_tries_each_schedule_with_a_run_that_keeps_no_history(
    race: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the outcome of a trial counts: its runs are outcome-only, as explore's are."""
    from concsim.explore import samples
    from concsim.explore.samples import KEPT
    from concsim.explore.schedule import Draws, shrink_seed

    made: list[tuple[object, type]] = []

    class Recorded(Simulation):
        def __init__(self, *args: object, **kwargs: object) -> None:
            made.append((kwargs.get("keep"), type(kwargs.get("rng"))))
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(samples, "Simulation", Recorded)
    sc = load_scenario(race)
    shrunk = shrink_seed(sc, None, (), 3)
    assert len(made) == shrunk.runs > 0
    assert made == [(KEPT, Draws)] * shrunk.runs


def test_a_recorded_seed_replays_byte_for_byte() -> None:
    """The draws recorded from a seed, replayed as a schedule, give the seed's own run."""
    from concsim.explore.schedule import deviations, simulate

    sc = load_scenario(find_scenario("race-lost-update"))
    plain = [event.to_dict() for event in Simulation(sc, seed=5).run()]
    run = simulate(sc, None, (), 5)
    assert [event.to_dict() for event in run.events] == plain
    again = simulate(sc, None, (), 5, deviations(run.drawn))
    assert [event.to_dict() for event in again.events] == plain


def test_cli_shrink_says_the_deviations_in_words(race: Path) -> None:
    _, out, _ = invoke("explore", str(race), "--runs", "8", "--jobs", "1", "--no-save", "--shrink")
    shrunk = next(line for line in out.splitlines() if line.startswith("shrunk seed "))
    assert "deviation" in shrunk and "draws from the schedule as written" in shrunk
    assert "than written" in out
    data = json.loads(
        invoke(
            "explore", str(race), "--runs", "8", "--jobs", "1", "--no-save", "--shrink", "--json"
        )[1]
    )
    assert data["shrunk"]["grade"] in ("forbidden", "unexpected", "interesting")
    assert data["shrunk"]["deviations"] and data["shrunk"]["complete"]
