"""Durations are read and written in one module, concsim.durations, and only there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import concsim
from concsim.durations import format_duration, format_time, parse_duration, parse_seconds


@pytest.mark.parametrize(
    ("text", "us"),
    [
        ("250ms", 250_000),
        ("1.5s", 1_500_000),
        ("20us", 20),
        ("20µs", 20),
        ("2m", 120_000_000),
        (" .5 s ", 500_000),
        ("3", 3_000_000),
        (3, 3_000_000),
        (0.25, 250_000),
    ],
)
def test_a_duration_is_read_in_any_unit(text: str | float, us: int) -> None:
    assert parse_duration(text) == us
    assert parse_seconds(text) == us / 1_000_000


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "expected a duration such as 250ms or 1.5s"),
        (-1, "expected a duration of zero or more"),
        (float("nan"), "expected a finite duration such as 250ms or 1.5s, got nan"),
        ("5 hours", "expected a duration such as 250ms or 1.5s, got '5 hours'"),
        ("9" * 400 + "s", "expected a duration of at most 1000000s (about 11.6 days)"),
    ],
)
def test_a_duration_that_cannot_be_read_says_what_was_expected(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("us", "text"),
    [(0, "0s"), (20, "20us"), (1_500, "1.5ms"), (250_000, "250ms"), (1_500_000, "1.5s")],
)
def test_format_duration_is_exact_and_reads_back(us: int, text: str) -> None:
    assert format_duration(us) == text
    assert parse_duration(text) == us


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0"),
        (2e-5, "20us"),
        (0.055481, "55.5ms"),
        (0.1, "100ms"),
        (0.0009996, "1ms"),  # rounded before the unit is chosen: not 1e+03us
        (0.9996, "1s"),
        (1.5, "1.5s"),
        (12.345, "12.3s"),
        (999.4, "999s"),
        (1234.5, "1234s"),  # no exponent: 1.23e+03s
    ],
)
def test_format_time_shows_three_figures_in_the_unit_that_fits(seconds: float, text: str) -> None:
    assert format_time(seconds) == text


def test_no_module_prints_seconds_of_its_own() -> None:
    """A time printed as ``{t:g} s`` or ``{t * 1000:g} ms`` beside a format_time label is
    what the one module exists to prevent."""
    raw = re.compile(r"\{[^{}]*:(?:\.\d+)?[fg]\} ?m?s\b")
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in Path(concsim.__file__).parent.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if raw.search(line) and path.name != "durations.py"
    ]
    assert found == []
