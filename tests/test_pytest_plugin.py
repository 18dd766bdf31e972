"""The pytest plugin shipped with concsim: a test author's own test files, run by pytest in a
subprocess as they would be in their project, with the fixtures found by the entry point."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CRAWLER = """\
version: 1
name: my-crawler
summary: Ten page fetches on four threads; what if one host hangs?
program:
  model: threads
  max_workers: 4
  collect: {pattern: as_completed, timeout: 2s}
tasks:
  - name: fetch
    repeat: 10
    steps:
      - {io: 300ms, label: requests.get(url)}
      - {cpu: 20ms, label: parse(html)}
    returns: "page {i}"
expect:
  - grade: acceptable
    when: {main: {outcome: ok}, results: {count: 10}}
    why: every page arrives
  - grade: forbidden
    when: {main: {outcome: hung}}
    why: main never ends
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A test author's folder: a scenario beside the tests, screenshots kept in tmp."""
    pytester.makefile(".yaml", **{"my-crawler": CRAWLER})
    return pytester


def test_importing_the_plugin_loads_neither_textual_nor_the_engine() -> None:
    """pytest loads the plugin in every session of the environment: it must cost nothing."""
    code = (
        "import sys, concsim.testing.plugin; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'pydantic'}), "
        "[m for m in sys.modules if m.startswith('concsim.engine')])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] []"


def test_the_entry_point_names_the_plugin() -> None:
    from importlib.metadata import entry_points

    (point,) = [e for e in entry_points(group="pytest11") if e.value == "concsim.testing.plugin"]
    assert point.name == "concsim"


def test_concsim_run_gives_the_outcome_with_attribute_access(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_crawler="""
        def test_a_hung_host(concsim_run):
            out = concsim_run("my-crawler.yaml", inject=["0.1s:hang:fetch-3"])
            assert out.main.outcome == "hung" and out.main.error is None
            assert out.tasks["fetch-3"].outcome == "hung"
            assert out.tasks["fetch-3"].ended is None
            assert len(out.results) == 9
            assert out.elapsed == 2.0
            assert [v.where for v in out.matched] == ["expect[1]"]
            assert out.expect_failure == "forbidden outcome: expect[1] (main never ends)"
            assert out.raw["main"] == {"outcome": "hung", "error": None}

        def test_as_written(concsim_run):
            out = concsim_run("my-crawler.yaml", seed=3)
            assert (out.seed, out.variant, out.expect_failure) == (3, None, None)
            assert out.results[0] == "page 1"
            assert out.tasks["fetch-10"].cleanup == "none"

        def test_a_bundled_scenario_by_name(concsim_run):
            out = concsim_run("io-threads", variant="two-workers")
            assert (out.variant, out.elapsed) == ("two-workers", 1.5)
            assert out.expect[0].matched
        """
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_bad_input_fails_the_test_with_the_problem_line(project: pytest.Pytester) -> None:
    project.makefile(".yaml", broken="name: broken\nexpect:\n  - {grade: fine, when: otherwise}\n")
    project.makepyfile(
        test_bad="""
        def test_broken_file(concsim_run):
            concsim_run("broken.yaml")

        def test_fault_aimed_at_nothing(concsim_run):
            concsim_run("my-crawler.yaml", inject=["0.1s:hang:fetch-11"])

        def test_unknown_fault(concsim_run):
            concsim_run("my-crawler.yaml", inject=["0.1s:explode:fetch-1"])

        def test_unknown_variant(concsim_app):
            concsim_app("my-crawler.yaml", variant="nope")
        """
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-rf")
    result.assert_outcomes(failed=4)
    broken = str(project.path / "broken.yaml")
    result.stdout.fnmatch_lines(
        [
            "*_ test_broken_file _*",
            f"{broken}:3:13: expect[0].grade: expected one of acceptable, interesting, "
            "forbidden, got 'fine'",
            "*_ test_fault_aimed_at_nothing _*",
            "--inject hang on fetch-11: no task or lane `fetch-11`; did you mean `fetch-1`?",
            "*_ test_unknown_fault _*",
            "inject: '0.1s:explode:fetch-1': unknown fault 'explode'; expected one of: fail, "
            "timeout, cancel, kill, interrupt, hang",
            "*_ test_unknown_variant _*",
            "no variant 'nope' in my-crawler (variants: none)",
            "*= short test summary info =*",
        ]
    )
    assert "During handling" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str()


def test_concsim_app_snapshots_pass_once_recorded(project: pytest.Pytester) -> None:
    """The first run records the screenshot (--snapshot-update); the second compares."""
    project.makepyfile(
        test_screen="""
        def test_failing_main_at_half_a_second(snap_compare, concsim_app):
            assert snap_compare(concsim_app("my-crawler.yaml", at="0.5s"), press=["f"])

        def test_a_larger_terminal(snap_compare, concsim_app):
            assert snap_compare(concsim_app("my-crawler.yaml", at=0.25, size=(100, 30)))
        """
    )
    first = project.runpytest_subprocess("-p", "no:cacheprovider", "--snapshot-update")
    first.assert_outcomes(passed=2)
    second = project.runpytest_subprocess("-p", "no:cacheprovider")
    second.assert_outcomes(passed=2)
    folder = project.path / "__snapshots__" / "test_screen"
    half = _screen_text(folder / "test_failing_main_at_half_a_second.svg")
    assert "t 500ms" in half
    assert "Injected fail on main." in half
    larger = folder / "test_a_larger_terminal.svg"
    assert "t 250ms" in _screen_text(larger)
    assert _rows(larger) == _rows(folder / "test_failing_main_at_half_a_second.svg") + 6


def _screen_text(svg: Path) -> str:
    """The characters of an exported screen, spaces as spaces."""
    text = svg.read_text()
    return re.sub(r"<[^>]+>", "", text).replace("&#160;", " ").replace("\xa0", " ")


def _rows(svg: Path) -> int:
    return len(set(re.findall(r"-line-(\d+)\"", svg.read_text())))


def test_the_fixtures_are_documented_in_their_docstrings(project: pytest.Pytester) -> None:
    """``pytest --fixtures`` shows what each fixture takes."""
    result = project.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    out = result.stdout.str()
    assert "concsim_run -- " in out and "concsim_app -- " in out
    words = " ".join(out.split())
    assert "concsim_run(target, *, seed=None, variant=None, inject=[...]) -> Outcome" in words
    assert 'concsim_app(target, *, at="1.2s", seed=None, variant=None, inject=[...]' in words
