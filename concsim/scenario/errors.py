"""Problems in a scenario file, each one line: ``file.yaml:LINE:COL: dotted.path: message``
(a warning: ``file.yaml:LINE:COL: warning: dotted.path: message``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

FILE = "(file)"
"""The dotted path of a problem with the file as a whole (unreadable, empty, bad YAML)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a scenario file, at a 1-based line and column."""

    path: str
    line: int
    col: int
    dotted: str
    message: str
    warning: bool = False
    """A valid file that will not do what it says (an option no program of it uses)."""

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        text = f"{self.path}:{self.line}:{self.col}: {kind}{self.dotted}: {self.message}"
        # One problem, one line, whatever a key or value from the file contains.
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class ScenarioError(Exception):
    """A scenario file that cannot be used; ``str()`` is one line per problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        # Sorted by position so the lines read top to bottom like the file; the same
        # problem found twice (an alias reaching one node by two paths) is shown once.
        self.problems: list[Problem] = sorted(set(problems), key=_position)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    @classmethod
    def one(
        cls, path: str, dotted: str, message: str, line: int = 1, col: int = 1
    ) -> ScenarioError:
        """An error of a single problem (a missing file, an unknown scenario name)."""
        return cls([Problem(path, line, col, dotted, message)])


def _position(problem: Problem) -> tuple[int, int, str, str]:
    return (problem.line, problem.col, problem.dotted, problem.message)


def did_you_mean(word: str, choices: Iterable[str], *, listing: bool = True) -> str:
    """``did you mean `max_workers`?`` for a near miss; else the choices (or ``""``)."""
    options = sorted({str(choice) for choice in choices})
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean `{close[0]}`?"
    if listing and options:
        return "expected one of: " + ", ".join(options)
    return ""


def describe(value: object) -> str:
    """A value as the YAML author wrote it: ``'five'``, ``true``, ``a list``, ``nothing``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return repr(text)
    if isinstance(value, int) and abs(value) >= 10**24:
        digits = len(str(abs(value))) if abs(value).bit_length() < 14_000 else None
        size = f"{digits} digits" if digits else "thousands of digits"
        return f"{'-' if value < 0 else ''}a number of {size}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(int(value)) if abs(value) >= 1e6 else repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"
