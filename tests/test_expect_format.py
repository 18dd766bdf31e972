"""The ``expect:`` list of the scenario format: what loads, what each problem says, exactly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from concsim.scenario.errors import ScenarioError
from concsim.scenario.expect import (
    Cleanup,
    Grade,
    IntRange,
    MainOutcome,
    ResultsCondition,
    TaskOutcome,
    TimeRange,
)
from concsim.scenario.library import bundled_scenarios
from concsim.scenario.loader import load_scenario, load_scenario_text
from concsim.scenario.schema import json_schema

GOOD = Path(__file__).parent / "fixtures" / "expect" / "everything.yaml"

HEAD = """\
name: x
shared: {counter: 0}
tasks:
  - {name: fetch, repeat: 3, steps: [{write: counter}]}
  - {name: save}
expect:
"""
"""Expectations start on line 7, column 5 (after ``  - ``)."""


def problems(expect: str, tail: str = "") -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(HEAD + expect + "\n" + tail, "s.yaml")
    return str(caught.value).splitlines()


# --- what a good file holds --------------------------------------------------------------


def test_shorthands_are_read_as_their_long_forms() -> None:
    """A bare duration or number is an exact range; a bare word a list of one; a bare list
    of results or lines is ``exactly``; ``otherwise`` is held as None."""
    scenario = load_scenario(GOOD)
    first, second, last = scenario.expect
    assert first.grade is Grade.ACCEPTABLE and first.why == "two workers, two rounds"
    assert first.when is not None and second.when is not None
    assert first.when.elapsed == TimeRange(min="202.2ms", max="202.2ms")
    assert first.when.main is not None and first.when.main.outcome == (MainOutcome.OK,)
    assert first.when.results == ResultsCondition(exactly=("page 1", "page 2", "page 3"))
    assert first.when.tasks is not None
    assert first.when.tasks["fetch"].outcome == (TaskOutcome.OK,)
    assert first.when.tasks["fetch"].cleanup is Cleanup.RAN
    assert first.when.shared == {"counter": IntRange(min=3, max=3)}
    assert first.when.output is not None and first.when.output.contains == ("fetched",)
    assert first.when.warnings is not None and first.when.warnings.exactly == ()
    assert second.when.elapsed == TimeRange(min="200ms", max="1s")
    assert second.when.shared == {"counter": IntRange(max=2)}
    assert last.grade is Grade.FORBIDDEN and last.when is None and last.is_otherwise


def test_a_variant_keeps_replaces_or_clears_the_expectations() -> None:
    scenario = load_scenario(GOOD)
    assert scenario.variant(None).expect == scenario.expect
    replaced = scenario.variant("one-worker").expect
    assert [item.when.elapsed for item in replaced if item.when] == [
        TimeRange(min="300ms", max="310ms")
    ]
    assert scenario.variant("no-expectations").expect == ()


def test_a_file_without_expect_has_none() -> None:
    assert load_scenario_text("name: x\n").expect == ()


def test_the_schema_knows_expect_and_its_shorthands() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema())
    assert [
        error.message for error in validator.iter_errors(yaml.safe_load(GOOD.read_text()))
    ] == []
    base: dict[str, Any] = {"name": "x"}
    good = [
        {"grade": "forbidden", "when": "otherwise"},
        {"grade": "acceptable", "when": {"elapsed": "1.5s", "shared": {"n": 3}}},
        {"grade": "interesting", "when": {"main": {"outcome": ["ok", "hung"]}}, "why": "x"},
        {"grade": "acceptable", "when": {"results": ["a"], "output": {"contains": "x"}}},
    ]
    for item in good:
        assert validator.is_valid({**base, "expect": [item]}), item
    bad = [
        {"grade": "ok", "when": "otherwise"},
        {"grade": "acceptable", "when": "other"},
        {"grade": "acceptable", "when": None},
        {"grade": "acceptable"},
        {"grade": "acceptable", "when": {"main": {"outcome": "done"}}},
        {"grade": "acceptable", "when": {"mian": {}}},
    ]
    for item in bad:
        assert not validator.is_valid({**base, "expect": [item]}), item
    when = json_schema()["$defs"]["Expectation"]["properties"]["when"]
    assert when["description"].startswith("The conditions the outcome must meet")


# --- each kind of problem, one exact line ------------------------------------------------


def test_unknown_grade_with_a_near_miss() -> None:
    assert problems("  - {grade: acceptabel, when: otherwise}") == [
        "s.yaml:7:13: expect[0].grade: expected one of acceptable, interesting, forbidden, "
        "got 'acceptabel'; did you mean `acceptable`?"
    ]


def test_grade_and_when_are_required() -> None:
    assert problems("  - {why: nothing}") == [
        "s.yaml:7:5: expect[0].grade: required key is missing",
        "s.yaml:7:5: expect[0].when: required key is missing",
    ]


def test_when_is_conditions_or_otherwise() -> None:
    assert problems("  - {grade: acceptable, when: always}") == [
        "s.yaml:7:31: expect[0].when: expected a mapping of conditions, or `otherwise`, "
        "got 'always'"
    ]


def test_an_empty_when_says_how_to_write_the_catch_all() -> None:
    assert problems("  - {grade: acceptable, when: {}}") == [
        "s.yaml:7:31: expect[0].when: an empty condition; expected at least one of: elapsed, "
        "main, results, tasks, shared, output, warnings; or `otherwise` for the outcomes no "
        "other expectation matches"
    ]


def test_unknown_condition_with_a_near_miss() -> None:
    assert problems("  - {grade: acceptable, when: {mian: {outcome: ok}}}") == [
        "s.yaml:7:32: expect[0].when.mian: unknown key `mian`; did you mean `main`?"
    ]


def test_unknown_key_of_an_expectation() -> None:
    assert problems("  - {grade: acceptable, when: otherwise, says: hi}") == [
        "s.yaml:7:42: expect[0].says: unknown key `says`; expected one of: grade, when, why"
    ]


def test_an_outcome_that_does_not_exist() -> None:
    assert problems("  - {grade: acceptable, when: {main: {outcome: done}}}") == [
        "s.yaml:7:48: expect[0].when.main.outcome: expected one of ok, raised, hung, exited, "
        "got 'done'"
    ]
    assert problems("  - {grade: acceptable, when: {tasks: {save: {outcome: [ok, done]}}}}") == [
        "s.yaml:7:61: expect[0].when.tasks.save.outcome[1]: expected one of ok, failed, "
        "cancelled, killed, never_started, hung, got 'done'"
    ]


def test_a_condition_left_empty_is_an_error_not_a_match_of_anything() -> None:
    """``elapsed:`` with nothing after it reads as null; it must not mean "any time"."""
    assert problems("  - {grade: acceptable, when: {elapsed: }}") == [
        "s.yaml:7:41: expect[0].when.elapsed: expected a value, got nothing"
    ]
    assert problems("  - {grade: acceptable, when: {shared: {counter: }}}") == [
        "s.yaml:7:50: expect[0].when.shared.counter: expected a value, got nothing"
    ]
    assert problems("  - {grade: acceptable, when: {elapsed: {min: 1s, max: }}}") == [
        "s.yaml:7:56: expect[0].when.elapsed.max: expected a value, got nothing"
    ]


def test_an_empty_condition_lists_its_keys() -> None:
    assert problems("  - {grade: acceptable, when: {main: {}}}") == [
        "s.yaml:7:38: expect[0].when.main: an empty condition; expected at least one of: "
        "outcome, error"
    ]


def test_a_time_that_is_not_a_duration() -> None:
    assert problems("  - {grade: acceptable, when: {elapsed: fast}}") == [
        "s.yaml:7:41: expect[0].when.elapsed: expected a duration such as 250ms or 1.5s, got 'fast'"
    ]
    assert problems("  - {grade: acceptable, when: {tasks: {save: {ended: {max: soon}}}}}") == [
        "s.yaml:7:60: expect[0].when.tasks.save.ended.max: expected a duration such as 250ms "
        "or 1.5s, got 'soon'"
    ]


def test_a_range_upside_down() -> None:
    assert problems("  - {grade: acceptable, when: {elapsed: {min: 2s, max: 1.5s}}}") == [
        "s.yaml:7:41: expect[0].when.elapsed: min 2s is more than max 1.5s; expected min <= max"
    ]
    assert problems("  - {grade: acceptable, when: {shared: {counter: {min: 5, max: 1}}}}") == [
        "s.yaml:7:50: expect[0].when.shared.counter: min 5 is more than max 1; expected min <= max"
    ]


def test_an_empty_range() -> None:
    assert problems("  - {grade: acceptable, when: {elapsed: {}}}") == [
        "s.yaml:7:41: expect[0].when.elapsed: an empty condition; expected at least one of: "
        "min, max"
    ]


def test_a_shared_value_that_is_not_an_integer() -> None:
    assert problems("  - {grade: acceptable, when: {shared: {counter: many}}}") == [
        "s.yaml:7:50: expect[0].when.shared.counter: expected an integer, got 'many'"
    ]


def test_tasks_or_shared_that_name_nothing() -> None:
    assert problems("  - {grade: acceptable, when: {shared: {}}}") == [
        "s.yaml:7:40: expect[0].when.shared: names nothing; expected at least one shared variable"
    ]
    assert problems("  - {grade: acceptable, when: {tasks: {}}}") == [
        "s.yaml:7:39: expect[0].when.tasks: names nothing; expected at least one task"
    ]


def test_a_negative_count() -> None:
    assert problems("  - {grade: acceptable, when: {results: {count: -1}}}") == [
        "s.yaml:7:49: expect[0].when.results.count: expected a number 0 or more, got -1"
    ]


def test_results_that_are_neither_a_list_nor_a_mapping() -> None:
    assert problems("  - {grade: acceptable, when: {results: 3}}") == [
        "s.yaml:7:41: expect[0].when.results: expected a mapping, got 3"
    ]


def test_a_task_that_does_not_exist() -> None:
    assert problems("  - {grade: acceptable, when: {tasks: {svae: {outcome: ok}}}}") == [
        "s.yaml:7:40: expect[0].when.tasks.svae: no task named `svae`; did you mean `save`?"
    ]
    assert problems("  - {grade: acceptable, when: {tasks: {zzz: {outcome: ok}}}}") == [
        "s.yaml:7:40: expect[0].when.tasks.zzz: no task named `zzz`; expected one of: fetch, save"
    ]


def test_a_copy_past_the_last_one() -> None:
    assert problems("  - {grade: acceptable, when: {tasks: {fetch-4: {outcome: ok}}}}") == [
        "s.yaml:7:40: expect[0].when.tasks.fetch-4: no task named `fetch-4`; `fetch` "
        "repeats 3 times; expected `fetch` (every copy) or fetch-1 to fetch-3"
    ]
    assert problems("  - {grade: acceptable, when: {tasks: {save-1: {outcome: ok}}}}") == [
        "s.yaml:7:40: expect[0].when.tasks.save-1: no task named `save-1`; `save` is not "
        "repeated; expected `save`"
    ]


def test_main_is_not_a_task() -> None:
    assert problems("  - {grade: acceptable, when: {tasks: {main: {outcome: ok}}}}") == [
        "s.yaml:7:40: expect[0].when.tasks.main: no task named `main`; the main program has "
        "its own condition; expected `main:` beside `tasks:`"
    ]


def test_a_shared_variable_that_is_not_declared() -> None:
    assert problems("  - {grade: acceptable, when: {shared: {countr: 1}}}") == [
        "s.yaml:7:41: expect[0].when.shared.countr: no shared variable `countr`; did you "
        "mean `counter`?"
    ]


def test_two_catch_alls() -> None:
    expect = "  - {grade: acceptable, when: otherwise}\n  - {grade: forbidden, when: otherwise}"
    assert problems(expect) == [
        "s.yaml:8:30: expect[1].when: a second `otherwise` (first at 7:31); expected one "
        "expectation for the outcomes no other one matches"
    ]


def test_a_variant_with_its_own_tasks_must_keep_the_tasks_expect_names() -> None:
    tail = "variants:\n  - name: v\n    tasks: [{name: other}]\n"
    assert problems("  - {grade: acceptable, when: {tasks: {save: {outcome: ok}}}}", tail) == [
        "s.yaml:10:12: variants[0].tasks: with this variant, expect[0].when.tasks.save: no "
        "task named `save`; expected one of: other"
    ]


def test_a_variants_own_expect_is_checked_against_its_own_tasks() -> None:
    tail = (
        "variants:\n  - name: v\n    tasks: [{name: other}]\n    expect:\n"
        "      - {grade: acceptable, when: {tasks: {save: {outcome: ok}}}}\n"
    )
    assert problems("  - {grade: acceptable, when: otherwise}", tail) == [
        "s.yaml:12:44: variants[0].expect[0].when.tasks.save: no task named `save`; "
        "expected one of: other"
    ]


def test_expect_is_a_list() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text("name: x\nexpect: {grade: acceptable}\n", "s.yaml")
    assert str(caught.value) == "s.yaml:2:9: expect: expected a list, got a mapping"


def test_the_examples_of_the_reference_are_bundled_lessons_own_lists() -> None:
    """Each ``expect`` example in docs/scenarios.md is part of a bundled scenario, so it
    loads and (tests/test_cli_expect.py) holds."""
    doc = (Path(__file__).parents[1] / "docs" / "scenarios.md").read_text()
    section = doc[doc.index("## `expect`") : doc.index("## Names")]
    examples = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    bundled = [path.read_text() for path in bundled_scenarios()]
    assert len(examples) == 3
    for example in examples:
        assert any(example in text for text in bundled), example
