"""A short fuzz of the command line: generated scenario and replay files, valid, broken and
hostile, each give exit 0 or exit 2 with lines that name the file -- never a traceback or a
hang (tests/fuzzkit.py; the long run is scripts/fuzz.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fuzzgen import broken, dump_yaml, replay_files, scenario_texts, v2_scenarios
from fuzzkit import check_replay_text, check_scenario_text, judge
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SHORT = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SCENARIO = "io-threads"


@SHORT
@given(scenario_texts)
def test_scenario_files_give_exit_0_or_positioned_lines(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for verdict in check_scenario_text(text, Path(folder)):
            assert verdict.problem is None, (verdict.command, verdict.problem, verdict.output)


@SHORT
@given(replay_files(SCENARIO))
def test_replay_files_give_exit_0_or_positioned_lines(file: tuple[str, str]) -> None:
    suffix, text = file
    with tempfile.TemporaryDirectory() as folder:
        for verdict in check_replay_text(suffix, text, Path(folder), SCENARIO):
            assert verdict.problem is None, (verdict.command, verdict.problem, verdict.output)


@SHORT
@given(st.one_of(v2_scenarios(), broken(v2_scenarios())).map(dump_yaml))
def test_version_2_files_give_exit_0_or_positioned_lines(text: str) -> None:
    """The bundled version-2 lessons' constructs recombined (try, loop, semaphores, events,
    barriers, the asyncio task tree, process exits): run or refused in one line each."""
    with tempfile.TemporaryDirectory() as folder:
        for verdict in check_scenario_text(text, Path(folder)):
            assert verdict.problem is None, (verdict.command, verdict.problem, verdict.output)


def test_exit_1_is_allowed_only_for_a_forbidden_expectation_that_matched() -> None:
    """``run --headless`` exits 1 when the file's own `expect:` grades the outcome forbidden;
    the harness takes that as the contract, not as a failure."""
    text = (
        "name: f\ntasks: [{name: a, steps: [{io: 10ms}]}]\n"
        "expect: [{grade: forbidden, when: {main: {outcome: ok}}, why: main must fail}]\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        validate, run = check_scenario_text(text, Path(folder))
    assert (validate.exit_code, validate.problem) == (0, None)
    assert (run.exit_code, run.problem) == (1, None)
    assert judge(1, "") == "exit 1"
