"""Expected outcomes judged: each ``expect:`` entry of a scenario against one run's outcome.

The outcome is the ``--json`` document (docs/outcome.md); an expectation matches when every
condition it gives holds. ``otherwise`` matches when no other expectation of the list does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from concsim.durations import MICROSECONDS, format_duration
from concsim.scenario.expect import (
    Conditions,
    Expectation,
    Grade,
    IntRange,
    LinesCondition,
    MainCondition,
    ResultsCondition,
    TaskCondition,
    TimeRange,
)
from concsim.scenario.model import Scenario


@dataclass(frozen=True, slots=True)
class Verdict:
    """One expectation after a run: did the outcome match it, and if not, why not."""

    where: str
    """Where the expectation is written: ``expect[1]``, ``variants[0].expect[0]``."""
    grade: Grade
    why: str
    matched: bool
    unmet: str | None
    """The first condition that did not hold, in words (None when it matched)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "grade": self.grade.value,
            "why": self.why,
            "matched": self.matched,
            "unmet": self.unmet,
        }


def judge(
    expectations: Sequence[Expectation], outcome: Mapping[str, Any], where: str = "expect"
) -> list[Verdict]:
    """Each expectation of ``where`` (a list in the file) against the outcome of one run."""
    found: list[str | None] = [
        None if item.when is None else unmet(item.when, outcome) for item in expectations
    ]
    any_matched = any(
        text is None
        for item, text in zip(expectations, found, strict=True)
        if not item.is_otherwise
    )
    verdicts = []
    for index, (item, text) in enumerate(zip(expectations, found, strict=True)):
        if item.is_otherwise:
            text = "another expectation matched" if any_matched else None
        verdicts.append(Verdict(f"{where}[{index}]", item.grade, item.why, text is None, text))
    return verdicts


def verdicts_for(
    scenario: Scenario, variant: str | None, result: dict[str, Any]
) -> list[Verdict] | None:
    """The expectations of ``variant`` (None: as written) judged on its outcome; None when
    that run has none."""
    applied = scenario.variant(variant)
    if not applied.expect:
        return None
    where = "expect"
    for index, item in enumerate(scenario.variants):
        if item.name == variant and item.expect is not None:
            where = f"variants[{index}].expect"
    return judge(applied.expect, result, where)


def failure(verdicts: Sequence[Verdict]) -> str | None:
    """Why the run fails its expectations, or None when it passes.

    It fails when a forbidden expectation matches, or when it has acceptable or interesting
    expectations and none of them matches.
    """
    for verdict in verdicts:
        if verdict.matched and verdict.grade is Grade.FORBIDDEN:
            return f"forbidden outcome: {label(verdict)}"
    allowed = [v for v in verdicts if v.grade is not Grade.FORBIDDEN]
    if allowed and not any(v.matched for v in allowed):
        first = allowed[0]
        return f"no acceptable or interesting outcome matched ({first.where}: {first.unmet})"
    return None


def label(verdict: Verdict) -> str:
    """``expect[1] (every queued job still runs)``: where, and the author's sentence."""
    return verdict.where + (f" ({verdict.why})" if verdict.why else "")


def expect_text(verdicts: Sequence[Verdict]) -> Text:
    """The verdicts for people: a status line, then each expectation, matched or not."""
    problem = failure(verdicts)
    text = Text("expect: ")
    if problem is None:
        text.append("pass", style="bold green")
    else:
        text.append(f"FAIL: {problem}", style="bold red")
    for verdict in verdicts:
        forbidden = verdict.grade is Grade.FORBIDDEN
        text.append("\n  ")
        if verdict.matched:
            text.append("matched", style="bold red" if forbidden else "bold green")
        else:
            text.append("no     ", style="dim")
        text.append(f"  {verdict.grade.value:<11}  {verdict.where}", style="dim")
        if verdict.why:
            text.append(f": {verdict.why}")
        if verdict.unmet is not None:
            text.append(f" ({verdict.unmet})", style="dim")
    return text


# --- conditions --------------------------------------------------------------------------


def unmet(when: Conditions, outcome: Mapping[str, Any]) -> str | None:
    """The first condition of ``when`` the outcome does not meet, in words; None if all do."""
    return next((text for text in _checks(when, outcome) if text is not None), None)


def _checks(when: Conditions, outcome: Mapping[str, Any]) -> Iterator[str | None]:
    """Each condition's complaint (None: it holds), in the order of the keys' docs; lazily,
    so checking stops at the first that fails."""
    if when.elapsed is not None:
        yield _time("elapsed", outcome["elapsed"], when.elapsed)
    if when.main is not None:
        yield _main(when.main, outcome["main"])
    if when.results is not None:
        yield _results(when.results, list(outcome["results"]))
    for name, task in (when.tasks or {}).items():
        yield _tasks(name, task, outcome["tasks"])
    for name, span in (when.shared or {}).items():
        yield _number(f"shared.{name}", outcome["shared"].get(name), span)
    if when.output is not None:
        yield _lines("output", when.output, list(outcome["output"]))
    if when.warnings is not None:
        yield _lines("warnings", when.warnings, list(outcome["warnings"]))


def _span(low: Any, high: Any, show: Callable[[Any], str]) -> str:
    if low is not None and low == high:
        return show(low)
    if low is not None and high is not None:
        return f"{show(low)} to {show(high)}"
    return f"at least {show(low)}" if low is not None else f"at most {show(high)}"


def _time(name: str, seconds: float | None, span: TimeRange) -> str | None:
    if seconds is None:
        return f"{name} is none, expected {_span(span.min, span.max, format_duration)}"
    us = round(seconds * MICROSECONDS)
    if (span.min is None or us >= span.min) and (span.max is None or us <= span.max):
        return None
    return f"{name} is {format_duration(us)}, expected {_span(span.min, span.max, format_duration)}"


def _number(name: str, value: Any, span: IntRange) -> str | None:
    number = isinstance(value, int) and not isinstance(value, bool)
    if (
        number
        and (span.min is None or value >= span.min)
        and (span.max is None or value <= span.max)
    ):
        return None
    return f"{name} is {_show(value)}, expected {_span(span.min, span.max, str)}"


def _main(condition: MainCondition, main: Mapping[str, Any]) -> str | None:
    if condition.outcome is not None and main["outcome"] not in condition.outcome:
        return f"main.outcome is {main['outcome']}, expected {_any(condition.outcome)}"
    if condition.error is not None and main["error"] != condition.error:
        return f"main.error is {main['error'] or 'none'}, expected {condition.error}"
    return None


def _tasks(name: str, condition: TaskCondition, tasks: Sequence[Mapping[str, Any]]) -> str | None:
    copies = [task for task in tasks if task["name"] == name]
    if not copies:  # a repeated task's name stands for every copy NAME-1 .. NAME-N
        copy = re.compile(re.escape(name) + r"-[1-9][0-9]*")
        copies = [task for task in tasks if copy.fullmatch(task["name"])]
    if not copies:
        return f"tasks.{name}: no such task in this run"
    for task in copies:
        where = f"tasks.{task['name']}"
        if condition.outcome is not None and task["outcome"] not in condition.outcome:
            return f"{where}.outcome is {task['outcome']}, expected {_any(condition.outcome)}"
        if condition.error is not None and task["error"] != condition.error:
            return f"{where}.error is {task['error'] or 'none'}, expected {condition.error}"
        if condition.cleanup is not None and task["cleanup"] != condition.cleanup:
            return f"{where}.cleanup is {task['cleanup']}, expected {condition.cleanup.value}"
        if condition.exitcode is not None and task.get("exitcode") != condition.exitcode:
            shown = task.get("exitcode")
            return f"{where}.exitcode is {'none' if shown is None else shown}, expected " + str(
                condition.exitcode
            )
        for key in ("started", "ended"):
            span = getattr(condition, key)
            text = None if span is None else _time(f"{where}.{key}", task[key], span)
            if text is not None:
                return text
    return None


def _results(condition: ResultsCondition, results: list[Any]) -> str | None:
    shown = _show(results)
    if condition.exactly is not None and results != list(condition.exactly):
        return f"results are {shown}, expected {_show(list(condition.exactly))}"
    if condition.any_order is not None and not _same_items(results, list(condition.any_order)):
        return f"results are {shown}, expected {_show(list(condition.any_order))} in any order"
    for value in condition.includes or ():
        if value not in results:
            return f"results are {shown}, expected them to include {_show(value)}"
    if condition.order is not None and not _in_order(results, list(condition.order)):
        return f"results are {shown}, expected {_show(list(condition.order))} in this order"
    if condition.count is not None:
        return _number("the number of results", len(results), condition.count)
    return None


def _lines(name: str, condition: LinesCondition, lines: list[str]) -> str | None:
    if condition.exactly is not None and lines != list(condition.exactly):
        return f"{name} is {_show(lines)}, expected {_show(list(condition.exactly))}"
    for text in condition.contains or ():
        if not any(text in line for line in lines):
            return f"no line of {name} contains {_show(text)}"
    if condition.count is not None:
        return _number(f"the number of lines of {name}", len(lines), condition.count)
    return None


def _same_items(got: list[Any], want: list[Any]) -> bool:
    """Equal as multisets; values may be unhashable (lists), so match them one by one."""
    left = list(got)
    for value in want:
        if value not in left:
            return False
        left.remove(value)
    return not left


def _in_order(got: list[Any], want: list[Any]) -> bool:
    """``want`` is a subsequence of ``got``: its values arrive in this order."""
    rest = iter(got)
    return all(any(value == item for item in rest) for value in want)


def _any(values: Sequence[Any]) -> str:
    return " or ".join(str(getattr(value, "value", value)) for value in values)


def _show(value: Any, limit: int = 80) -> str:
    """A value as JSON, cut short: results and output can be long."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
