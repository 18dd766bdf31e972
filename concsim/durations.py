"""Durations read from people and written for them, in one place.

Read: ``250ms``, ``1.5s``, ``20us`` (or ``µs``), ``2m`` or a bare number of seconds, as a
scenario file, ``--inject`` and the pytest plugin's ``at=`` take them. Written two ways:
``format_duration`` spells an exact number of microseconds as it would be read back
(``1.5s``, ``250ms``), and ``format_time`` shows a time to a person, to three significant
figures, in the same units (``55.5ms``, ``1.23s``), wherever a time is printed: the app, the
text output, the events' sentences.

Kept free of imports beyond ``concsim.limits`` so that any module can use it cheaply.
"""

from __future__ import annotations

import math
import re
from typing import Any

from concsim.limits import MAX_DURATION_S

MICROSECONDS = 1_000_000
"""Microseconds in a second: the engine's clock unit."""

MAX_DURATION_US = MAX_DURATION_S * MICROSECONDS

DURATION_PATTERN = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(us|µs|ms|s|m)?\s*$")
_UNIT_US = {"us": 1, "µs": 1, "ms": 1_000, "s": MICROSECONDS, "m": 60 * MICROSECONDS}
_TOO_LONG = f"expected a duration of at most {MAX_DURATION_S}s (about 11.6 days)"


def parse_duration(value: Any) -> int:
    """``"250ms"`` -> 250_000 microseconds; a bare number is seconds. Durations are 0 to
    ``MAX_DURATION_S`` seconds; a huge number is refused before any arithmetic on it.
    Raises ValueError saying what was expected."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 250ms or 1.5s")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("expected a duration of zero or more")
        if value > MAX_DURATION_S:
            raise ValueError(_TOO_LONG)
        return value * MICROSECONDS
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite duration such as 250ms or 1.5s, got {value}")
        if value < 0:
            raise ValueError("expected a duration of zero or more")
        if value > MAX_DURATION_S:
            raise ValueError(_TOO_LONG)
        return round(value * MICROSECONDS)
    if isinstance(value, str):
        match = DURATION_PATTERN.match(value)
        if match:
            # float() of a long string of digits is inf, never an error: checked below.
            us = float(match.group(1)) * _UNIT_US.get(match.group(2) or "s", MICROSECONDS)
            if us > MAX_DURATION_US:
                raise ValueError(_TOO_LONG)
            return round(us)
    shown = value if not isinstance(value, str) or len(value) <= 40 else value[:37] + "..."
    raise ValueError(f"expected a duration such as 250ms or 1.5s, got {shown!r}")


def parse_seconds(value: Any) -> float:
    """A duration as ``parse_duration`` reads it, in seconds (``"0.3s"`` -> 0.3)."""
    return parse_duration(value) / MICROSECONDS


def format_duration(us: int) -> str:
    """The shortest exact spelling: 500_000 -> ``500ms``, 1_500_000 -> ``1.5s``."""
    if us % MICROSECONDS == 0:
        return f"{us // MICROSECONDS}s"
    if us >= MICROSECONDS:
        return f"{us / MICROSECONDS:g}s"
    if us % 1_000 == 0:
        return f"{us // 1_000}ms"
    if us >= 1_000:
        return f"{us / 1_000:g}ms"
    return f"{us}us"


def format_time(seconds: float) -> str:
    """A time for a person, to three significant figures: ``0``, ``20us``, ``55.5ms``,
    ``1.5s``, ``123s``; a thousand seconds or more in whole seconds (``1234s``)."""
    if seconds == 0:
        return "0"
    if abs(seconds) >= 999.5:
        return f"{seconds:.0f}s"
    for scale, unit in ((1.0, "s"), (1e-3, "ms")):
        # Rounded first, so 0.9996 s shows as 1s, not 1e+03ms.
        shown = float(f"{seconds / scale:.3g}")
        if abs(shown) >= 1:
            return f"{shown:g}{unit}"
    return f"{seconds * 1e6:.3g}us"
