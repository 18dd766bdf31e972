"""Expectations on the command line: ``run --headless`` reports them and exits 1 on a
forbidden outcome; ``concsim test`` checks files, one line per run, with JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from concsim.cli import main
from concsim.scenario.library import bundled_scenarios
from concsim.scenario.loader import load_scenario, load_scenario_text
from concsim.testing.runner import Status, check_file, check_files, run_outcome

FIXTURES = Path(__file__).parent / "fixtures" / "expect"

RACE = """\
version: 1
name: race
summary: Two threads add to a counter without a lock.
program: {model: threads, executor: false, collect: join}
shared: {counter: 0}
tasks:
  - name: adder
    repeat: 2
    steps:
      - repeat: 50
        steps: [{read: counter}, {cpu: 200us}, {write: counter}]
expect:
  - grade: acceptable
    when: {shared: {counter: 100}}
    why: every update counted
  - grade: forbidden
    when: otherwise
    why: an update was lost
variants:
  - name: locked
    tasks:
      - name: adder
        repeat: 2
        steps:
          - repeat: 50
            steps: [{acquire: l}, {read: counter}, {cpu: 200us}, {write: counter}, {release: l}]
  - name: unjudged
    program: {max_workers: 1}
    expect: []
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def race(tmp_path: Path) -> Path:
    path = tmp_path / "race.yaml"
    path.write_text(RACE)
    return path


# --- concsim run --headless --------------------------------------------------------------


def test_run_reports_each_expectation_and_exits_1_on_a_forbidden_outcome(race: Path) -> None:
    code, out, _ = invoke("run", str(race), "--headless", "--variant", "default")
    assert code == 1
    report = out[out.index("expect:") :].splitlines()
    assert report[:3] == [
        "expect: FAIL: forbidden outcome: expect[1] (an update was lost)",
        "  no       acceptable   expect[0]: every update counted (shared.counter is 99, "
        "expected 100)",
        "  matched  forbidden    expect[1]: an update was lost",
    ]


def test_run_exits_0_when_no_forbidden_outcome_matches(race: Path) -> None:
    code, out, _ = invoke("run", str(race), "--headless", "--variant", "locked")
    assert code == 0
    assert "expect: pass\n  matched  acceptable   expect[0]: every update counted\n" in out


def test_the_exit_status_is_the_same_in_every_output_format(race: Path) -> None:
    """Exit 1 if any variant run matched a forbidden expectation, --json and --events too."""
    for extra in ([], ["--json"], ["--events"]):
        assert invoke("run", str(race), "--headless", *extra)[0] == 1, extra


def test_json_has_the_expect_field_per_run(race: Path) -> None:
    code, out, _ = invoke("run", str(race), "--headless", "--json")
    assert code == 1
    runs = json.loads(out)["variants"]
    assert runs["default"]["expect"] == [
        {
            "where": "expect[0]",
            "grade": "acceptable",
            "why": "every update counted",
            "matched": False,
            "unmet": "shared.counter is 99, expected 100",
        },
        {
            "where": "expect[1]",
            "grade": "forbidden",
            "why": "an update was lost",
            "matched": True,
            "unmet": None,
        },
    ]
    assert [item["matched"] for item in runs["locked"]["expect"]] == [True, False]
    assert "expect" not in runs["unjudged"]  # `expect: []`: nothing is expected of it


def test_json_of_a_scenario_without_expect_has_no_expect_field() -> None:
    code, out, _ = invoke("run", "sequential-io", "--headless", "--json")
    assert code == 0
    assert "expect" not in json.loads(out)


def test_an_injected_fault_can_make_a_bundled_lesson_forbidden() -> None:
    """Cancelling a queued job before shutdown: the lesson says shutdown(wait=True) never
    cancels by itself, so an outcome with job-6 cancelled is graded forbidden."""
    code, out, _ = invoke(
        "run", "failure-during-as-completed", "--headless", "--inject", "0.1s:cancel:job-6"
    )
    assert code == 1
    assert "expect: FAIL: forbidden outcome: expect[1] (shutdown(wait=True)" in out


# --- concsim test ------------------------------------------------------------------------


def test_test_prints_one_line_per_run_and_exits_1_on_a_failure(race: Path) -> None:
    code, out, err = invoke("test", str(race))
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"FAIL  {race}  forbidden outcome: expect[1] (an update was lost)",
        f"PASS  {race} [locked]  acceptable: expect[0] (every update counted)",
        f"SKIP  {race} [unjudged]  no expectations",
        "1 passed, 1 failed, 1 skipped",
    ]


def test_test_passes_a_file_whose_runs_all_pass() -> None:
    path = str(FIXTURES / "everything.yaml")
    code, out, _ = invoke("test", path)
    assert code == 0
    assert out.splitlines()[-1] == "2 passed, 1 skipped"


def test_test_with_an_invalid_file_prints_its_problems_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nexpect:\n  - {grade: fine, when: otherwise}\n")
    code, out, err = invoke("test", str(bad), str(FIXTURES / "everything.yaml"))
    assert code == 2
    assert err == (
        f"{bad}:3:13: expect[0].grade: expected one of acceptable, interesting, forbidden, "
        "got 'fine'\n"
    )
    assert out.splitlines()[0] == f"ERROR {bad}  invalid scenario (see above)"
    assert out.splitlines()[-1] == "2 passed, 1 skipped, 1 invalid"


def test_test_seed_is_the_seed_of_every_run(tmp_path: Path) -> None:
    """With I/O jitter the seed sets the elapsed time: an expectation pinned to seed 0's
    time passes as written and fails under --seed 7."""
    text = (
        "name: jitter\nmachine: {jitter: 0.5}\nseed: 0\ntasks: [{name: a, steps: [{io: 100ms}]}]\n"
    )
    elapsed = run_outcome(load_scenario_text(text))["elapsed"]
    assert elapsed != run_outcome(load_scenario_text(text), seed=7)["elapsed"]
    path = tmp_path / "jitter.yaml"
    path.write_text(text + f"expect:\n  - {{grade: acceptable, when: {{elapsed: {elapsed}}}}}\n")
    assert invoke("test", str(path))[0] == 0
    code, out, _ = invoke("test", str(path), "--seed", "7")
    assert code == 1
    assert out.startswith(f"FAIL  {path}  no acceptable or interesting outcome matched")


def test_junit_xml_has_a_suite_per_file_and_a_case_per_run(race: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nexpect: 3\n")
    report = tmp_path / "report.xml"
    code, _, _ = invoke("test", str(race), str(bad), "--junit-xml", str(report))
    assert code == 2
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "4",
        "failures": "1",
        "errors": "1",
        "skipped": "1",
    }
    first, second = root.findall("testsuite")
    assert (first.get("name"), first.get("tests"), first.get("failures")) == (str(race), "3", "1")
    cases = first.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("race", "default"),
        ("race", "locked"),
        ("race", "unjudged"),
    ]
    failed = cases[0].find("failure")
    assert failed is not None
    assert failed.get("message") == "forbidden outcome: expect[1] (an update was lost)"
    assert failed.text == (
        "expect[0] acceptable (every update counted): not matched: shared.counter is 99, "
        "expected 100\nexpect[1] forbidden (an update was lost): matched"
    )
    assert cases[1].find("failure") is None and cases[1].find("system-out") is not None
    skipped = cases[2].find("skipped")
    assert skipped is not None and skipped.get("message") == "no expectations"
    assert all(float(c.get("time", "-1")) >= 0 for c in cases)
    (invalid,) = second.findall("testcase")
    error = invalid.find("error")
    assert error is not None and error.text == (f"{bad}:2:9: expect: expected a list, got 3")


# --- the bundled lessons -----------------------------------------------------------------


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda path: path.stem)
def test_every_bundled_expectation_holds(path: Path) -> None:
    """No bundled lesson fails its own expect: list, in any variant."""
    cases = check_file(str(path))
    assert [
        (c.name, c.message)
        for c in cases
        if c.status is not Status.SKIPPED and c.status is not Status.PASSED
    ] == []


def test_several_bundled_lessons_state_their_point() -> None:
    judged = [path.stem for path in bundled_scenarios() if load_scenario(path).expect]
    assert len(judged) >= 5
    assert {"race-lost-update", "race-with-lock", "failure-during-as-completed"} <= set(judged)


def test_check_files_prints_to_stdout_and_problems_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nexpect: 3\n")
    report, tally = check_files([str(bad)])
    out, err = capsys.readouterr()
    assert (out, err) == (
        f"ERROR {bad}  invalid scenario (see above)\n1 invalid\n",
        f"{bad}:2:9: expect: expected a list, got 3\n",
    )
    assert tally.exit_status == 2 and [file for file, _ in report] == [str(bad)]


def test_a_live_run_is_not_judged_against_expect() -> None:
    """expect states the model's promise (elapsed exactly 1.5 s); a real run never matches it
    to the microsecond, so --live leaves it out and concsim check compares instead."""
    from click.testing import CliRunner

    from concsim.cli import main

    done = CliRunner().invoke(
        main, ["run", "failure-during-as-completed", "--live", "--headless", "--json"]
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert "expect" not in result
    assert result["main"] == {"outcome": "raised", "error": "ConnectionError"}
