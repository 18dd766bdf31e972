"""Expectations judged on an outcome: which match, and the exact words for one that does not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from concsim.export.verdicts import Verdict, expect_text, failure, judge
from concsim.scenario.expect import Expectation, Grade
from concsim.scenario.loader import load_scenario_text

OUTCOME: dict[str, Any] = {
    "scenario": "x",
    "variant": None,
    "seed": 0,
    "elapsed": 1.5,
    "main": {"outcome": "raised", "error": "ConnectionError"},
    "results": ["page 2", "page 1", "page 3"],
    "tasks": [
        {
            "name": "fetch-1",
            "outcome": "ok",
            "error": None,
            "started": 0.0,
            "ended": 0.5,
            "cleanup": "ran",
        },
        {
            "name": "fetch-2",
            "outcome": "failed",
            "error": "ValueError",
            "started": 0.0,
            "ended": 0.2,
            "cleanup": "ran",
        },
        {
            "name": "save",
            "outcome": "hung",
            "error": None,
            "started": 0.1,
            "ended": None,
            "cleanup": "none",
        },
    ],
    "warnings": ["Future exception was never retrieved: ValueError"],
    "shared": {"counter": 196},
    "output": ["fetched page 1", "fetched page 2"],
}

HEAD = """\
name: x
shared: {counter: 0}
tasks:
  - {name: fetch, repeat: 2}
  - {name: save}
expect:
"""


def expectations(yaml_items: str) -> tuple[Expectation, ...]:
    return load_scenario_text(HEAD + yaml_items, "s.yaml").expect


def unmet(when: str) -> str | None:
    """What one expectation with this ``when`` says about OUTCOME (None: it matched)."""
    (verdict,) = judge(expectations(f"  - {{grade: acceptable, when: {when}}}\n"), OUTCOME)
    assert verdict.matched == (verdict.unmet is None)
    return verdict.unmet


@pytest.mark.parametrize(
    ("when", "said"),
    [
        ("{elapsed: 1.5s}", None),
        ("{elapsed: {min: 1s, max: 2s}}", None),
        ("{elapsed: 1s}", "elapsed is 1.5s, expected 1s"),
        ("{elapsed: {min: 1.6s, max: 2s}}", "elapsed is 1.5s, expected 1.6s to 2s"),
        ("{elapsed: {min: 2s}}", "elapsed is 1.5s, expected at least 2s"),
        ("{elapsed: {max: 200ms}}", "elapsed is 1.5s, expected at most 200ms"),
        ("{main: {outcome: raised, error: ConnectionError}}", None),
        ("{main: {outcome: [ok, hung]}}", "main.outcome is raised, expected ok or hung"),
        ("{main: {error: TimeoutError}}", "main.error is ConnectionError, expected TimeoutError"),
    ],
)
def test_elapsed_and_main(when: str, said: str | None) -> None:
    assert unmet(when) == said


@pytest.mark.parametrize(
    ("when", "said"),
    [
        ("{results: [page 2, page 1, page 3]}", None),
        (
            "{results: [page 1, page 2, page 3]}",
            'results are ["page 2", "page 1", "page 3"], expected ["page 1", "page 2", "page 3"]',
        ),
        ("{results: {any_order: [page 1, page 2, page 3]}}", None),
        (
            "{results: {any_order: [page 1, page 2, page 2]}}",
            'results are ["page 2", "page 1", "page 3"], expected ["page 1", "page 2", '
            '"page 2"] in any order',
        ),
        ("{results: {includes: [page 3]}}", None),
        (
            "{results: {includes: [page 3, page 4]}}",
            'results are ["page 2", "page 1", "page 3"], expected them to include "page 4"',
        ),
        ("{results: {order: [page 2, page 3]}}", None),
        (
            "{results: {order: [page 1, page 2]}}",
            'results are ["page 2", "page 1", "page 3"], expected ["page 1", "page 2"] in '
            "this order",
        ),
        ("{results: {count: 3}}", None),
        ("{results: {count: {min: 4}}}", "the number of results is 3, expected at least 4"),
    ],
)
def test_results(when: str, said: str | None) -> None:
    assert unmet(when) == said


@pytest.mark.parametrize(
    ("when", "said"),
    [
        ("{tasks: {fetch-2: {outcome: failed, error: ValueError, cleanup: ran}}}", None),
        ("{tasks: {fetch: {cleanup: ran, started: 0s}}}", None),
        ("{tasks: {fetch: {outcome: ok}}}", "tasks.fetch-2.outcome is failed, expected ok"),
        (
            "{tasks: {save: {outcome: [ok, cancelled]}}}",
            "tasks.save.outcome is hung, expected ok or cancelled",
        ),
        (
            "{tasks: {fetch-1: {error: ValueError}}}",
            "tasks.fetch-1.error is none, expected ValueError",
        ),
        ("{tasks: {save: {cleanup: ran}}}", "tasks.save.cleanup is none, expected ran"),
        (
            "{tasks: {save: {started: {max: 50ms}}}}",
            "tasks.save.started is 100ms, expected at most 50ms",
        ),
        ("{tasks: {save: {ended: {max: 2s}}}}", "tasks.save.ended is none, expected at most 2s"),
        ("{shared: {counter: {max: 399}}}", None),
        ("{shared: {counter: 400}}", "shared.counter is 196, expected 400"),
        ("{shared: {counter: {min: 200, max: 300}}}", "shared.counter is 196, expected 200 to 300"),
    ],
)
def test_tasks_and_shared(when: str, said: str | None) -> None:
    assert unmet(when) == said


@pytest.mark.parametrize(
    ("when", "said"),
    [
        ("{output: [fetched page 1, fetched page 2]}", None),
        (
            "{output: [fetched page 1]}",
            'output is ["fetched page 1", "fetched page 2"], expected ["fetched page 1"]',
        ),
        ("{output: {contains: [page 1, page 2]}}", None),
        ("{output: {contains: page 3}}", 'no line of output contains "page 3"'),
        ("{output: {count: 2}}", None),
        ("{warnings: {contains: never retrieved}}", None),
        ("{warnings: {count: 0}}", "the number of lines of warnings is 1, expected 0"),
        (
            "{warnings: []}",
            'warnings is ["Future exception was never retrieved: ValueError"], expected []',
        ),
    ],
)
def test_output_and_warnings(when: str, said: str | None) -> None:
    assert unmet(when) == said


def test_every_condition_must_hold_and_the_first_that_fails_is_said() -> None:
    assert unmet("{elapsed: 1.5s, shared: {counter: 1}, main: {error: X}}") == (
        "main.error is ConnectionError, expected X"
    )


def test_a_long_value_is_cut_short() -> None:
    outcome = copy.deepcopy(OUTCOME)
    outcome["results"] = [f"page {i}" for i in range(100)]
    (verdict,) = judge(expectations("  - {grade: acceptable, when: {results: []}}\n"), outcome)
    assert verdict.unmet == (
        'results are ["page 0", "page 1", "page 2", "page 3", "page 4", "page 5", "page 6", '
        '"page ..., expected []'
    )


def test_otherwise_matches_only_when_nothing_else_does() -> None:
    items = expectations(
        "  - {grade: acceptable, when: {shared: {counter: 400}}}\n"
        "  - {grade: forbidden, when: otherwise, why: an update was lost}\n"
    )
    lost = judge(items, OUTCOME)
    assert [(v.where, v.matched, v.unmet) for v in lost] == [
        ("expect[0]", False, "shared.counter is 196, expected 400"),
        ("expect[1]", True, None),
    ]
    exact = copy.deepcopy(OUTCOME)
    exact["shared"]["counter"] = 400
    assert [(v.matched, v.unmet) for v in judge(items, exact)] == [
        (True, None),
        (False, "another expectation matched"),
    ]


def _verdict(grade: Grade, matched: bool, index: int = 0) -> Verdict:
    return Verdict(f"expect[{index}]", grade, "why", matched, None if matched else "no")


def test_the_pass_rule() -> None:
    """A forbidden match fails; so does having acceptable or interesting expectations none
    of which matched; only forbidden ones, none matched, passes."""
    acceptable, interesting, forbidden = Grade.ACCEPTABLE, Grade.INTERESTING, Grade.FORBIDDEN
    assert failure([_verdict(acceptable, True), _verdict(forbidden, False, 1)]) is None
    assert failure([_verdict(interesting, True), _verdict(acceptable, False, 1)]) is None
    assert failure([_verdict(forbidden, False)]) is None
    assert failure([]) is None
    assert failure([_verdict(acceptable, True), _verdict(forbidden, True, 1)]) == (
        "forbidden outcome: expect[1] (why)"
    )
    assert failure([_verdict(acceptable, False), _verdict(interesting, False, 1)]) == (
        "no acceptable or interesting outcome matched (expect[0]: no)"
    )


def test_the_text_report() -> None:
    items = expectations(
        "  - {grade: acceptable, when: {shared: {counter: 400}}, why: every update counted}\n"
        "  - {grade: forbidden, when: otherwise}\n"
    )
    assert expect_text(judge(items, OUTCOME)).plain.splitlines() == [
        "expect: FAIL: forbidden outcome: expect[1]",
        "  no       acceptable   expect[0]: every update counted (shared.counter is 196, "
        "expected 400)",
        "  matched  forbidden    expect[1]",
    ]
