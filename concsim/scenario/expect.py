"""Expected outcomes: the ``expect:`` list of a scenario, graded as JCStress grades outcomes.

Each expectation is a grade (acceptable, interesting, forbidden), a condition over the run's
outcome (docs/outcome.md) and a sentence saying why. The conditions are data only; they are
checked against an outcome by ``concsim.export.verdicts``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from concsim.durations import format_duration
from concsim.scenario.errors import describe
from concsim.scenario.model import Duration, ErrorType, Name, _Strict


class Grade(StrEnum):
    """How an outcome is judged (JCStress: ACCEPTABLE, ACCEPTABLE_INTERESTING, FORBIDDEN)."""

    ACCEPTABLE = "acceptable"
    """An outcome the program may have: the lesson's point, or an expected variation."""
    INTERESTING = "interesting"
    """Allowed, and worth a look: a race that happened, a rare schedule."""
    FORBIDDEN = "forbidden"
    """Must never happen: a run that shows it fails (exit status 1)."""


class MainOutcome(StrEnum):
    OK = "ok"
    RAISED = "raised"
    HUNG = "hung"
    EXITED = "exited"


class TaskOutcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    CANCELLED = "cancelled"
    KILLED = "killed"
    NEVER_STARTED = "never_started"
    HUNG = "hung"


class Cleanup(StrEnum):
    RAN = "ran"
    SKIPPED = "skipped"
    NONE = "none"


OTHERWISE = "otherwise"
"""``when: otherwise``: the expectation that matches when no other one does."""


def _exactly(value: Any) -> Any:
    """A bare value is the range of just that value: ``1.5s`` is ``{min: 1.5s, max: 1.5s}``."""
    if isinstance(value, dict | list):
        return value
    return {"min": value, "max": value}


def _one_or_more(value: Any) -> Any:
    """``outcome: hung`` is the list ``[hung]``: any of the values listed."""
    return [value] if isinstance(value, str) else value


def _listed(key: str, mapping: type[Any], item: type[Any]) -> BeforeValidator:
    """A bare list is the mapping ``{key: list}`` (``results: [a, b]`` is ``exactly``)."""
    return BeforeValidator(
        lambda value: {key: value} if isinstance(value, list) else value,
        json_schema_input_type=list[item] | mapping,  # type: ignore[valid-type]
    )


class _Condition(_Strict):
    _or: ClassVar[str] = ""
    """What else the mapping could have been, for the message when it is empty."""

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # A key left empty (`elapsed:`) would otherwise be no condition at all, and an
        # expectation of only such keys would silently match every run.
        if value is None:
            raise ValueError("expected a value, got nothing")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> _Condition:
        if not self.model_fields_set:
            keys = ", ".join(info.alias or name for name, info in type(self).model_fields.items())
            raise ValueError(f"an empty condition; expected at least one of: {keys}{self._or}")
        return self


class TimeRange(_Condition):
    """A time in seconds between ``min`` and ``max`` (both included); a bare duration is exact."""

    min: Duration | None = None
    max: Duration | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(
                f"min {format_duration(self.min)} is more than max {format_duration(self.max)}; "
                "expected min <= max"
            )
        return self


class IntRange(_Condition):
    """An integer between ``min`` and ``max`` (both included); a bare integer is exact."""

    min: StrictInt | None = None
    max: StrictInt | None = None

    @model_validator(mode="after")
    def _ordered(self) -> IntRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is more than max {self.max}; expected min <= max")
        return self


class CountRange(IntRange):
    """A number of things between ``min`` and ``max``; a bare number is exact."""

    min: Annotated[StrictInt, Field(ge=0)] | None = None
    max: Annotated[StrictInt, Field(ge=0)] | None = None


# Each shorthand's input forms are what the JSON Schema shows (json_schema_input_type).
Timing = Annotated[
    TimeRange, BeforeValidator(_exactly, json_schema_input_type=Duration | TimeRange)
]
Value = Annotated[IntRange, BeforeValidator(_exactly, json_schema_input_type=StrictInt | IntRange)]
Count = Annotated[
    CountRange,
    BeforeValidator(
        _exactly, json_schema_input_type=Annotated[StrictInt, Field(ge=0)] | CountRange
    ),
]


class MainCondition(_Condition):
    """How ``main()`` ended."""

    outcome: (
        Annotated[
            tuple[MainOutcome, ...],
            BeforeValidator(_one_or_more, json_schema_input_type=MainOutcome | list[MainOutcome]),
        ]
        | None
    ) = None
    """ok, raised, hung or exited (os._exit); a list means any of them."""
    error: ErrorType | None = None
    """The type name of the exception that left ``main()``."""


class TaskCondition(_Condition):
    """How one task ended; a repeated task's name means every copy."""

    outcome: (
        Annotated[
            tuple[TaskOutcome, ...],
            BeforeValidator(_one_or_more, json_schema_input_type=TaskOutcome | list[TaskOutcome]),
        ]
        | None
    ) = None
    """ok, failed, cancelled, killed, never_started or hung; a list means any of them."""
    error: ErrorType | None = None
    """The type name of the exception that ended it."""
    cleanup: Cleanup | None = None
    """Its ``finally:`` block: ran, skipped or none."""
    started: Timing | None = None
    """When it started running: a duration, or a range ``{min: .., max: ..}``."""
    ended: Timing | None = None
    """When it ended: a duration, or a range ``{min: .., max: ..}``."""
    exitcode: Annotated[StrictInt, Field(ge=-64, le=255)] | None = Field(
        None, json_schema_extra={"since": 2}
    )
    """A plain ``multiprocessing.Process`` task: its process's ``exitcode`` (0 returned, 1
    an uncaught exception, n ``sys.exit(n)``, -15 ``terminate()``, -9 ``kill()``)."""


class ResultsCondition(_Condition):
    """The values ``main()`` received, in the order it received them."""

    exactly: tuple[Any, ...] | None = None
    """These values, in this order, and no others (a bare list means this)."""
    any_order: tuple[Any, ...] | None = None
    """These values and no others, in any order."""
    includes: tuple[Any, ...] | None = None
    """These values are among the results (others may be there too)."""
    order: tuple[Any, ...] | None = None
    """These values arrive in this order (others may come in between)."""
    count: Count | None = None
    """How many results: a number, or a range ``{min: .., max: ..}``."""


class LinesCondition(_Condition):
    """Lines of text: what the program printed, or the run's warnings."""

    exactly: tuple[str, ...] | None = None
    """These lines, in this order, and no others (a bare list means this)."""
    contains: (
        Annotated[
            tuple[str, ...], BeforeValidator(_one_or_more, json_schema_input_type=str | list[str])
        ]
        | None
    ) = None
    """Each text given appears within some line."""
    count: Count | None = None
    """How many lines: a number, or a range ``{min: .., max: ..}``."""


class Conditions(_Condition):
    """What the outcome must show for the expectation to match: every key given must hold."""

    _or: ClassVar[str] = f"; or `{OTHERWISE}` for the outcomes no other expectation matches"

    elapsed: Timing | None = None
    """When the program exited: a duration, or a range ``{min: .., max: ..}``."""
    main: MainCondition | None = None
    results: Annotated[ResultsCondition, _listed("exactly", ResultsCondition, Any)] | None = None
    tasks: dict[Name, TaskCondition] | None = None
    """Task name (a repeated task's copy ``NAME-k``, or ``NAME`` for all its copies) to how
    it ended."""
    shared: dict[Name, Value] | None = None
    """Shared variable to its final value: an integer, or a range ``{min: .., max: ..}``."""
    output: Annotated[LinesCondition, _listed("exactly", LinesCondition, str)] | None = None
    warnings: Annotated[LinesCondition, _listed("exactly", LinesCondition, str)] | None = None

    @field_validator("tasks", "shared")
    @classmethod
    def _names_something(cls, value: dict[str, Any] | None, info: ValidationInfo) -> Any:
        if value == {}:
            noun = "task" if info.field_name == "tasks" else "shared variable"
            raise ValueError(f"names nothing; expected at least one {noun}")
        return value


def _otherwise(value: Any) -> Any:
    """``otherwise`` is held as None; a missing or empty ``when:`` is an error, not a catch-all."""
    if value == OTHERWISE:
        return None
    if value is None or isinstance(value, str):
        raise ValueError(
            f"expected a mapping of conditions, or `{OTHERWISE}`, got {describe(value)}"
        )
    return value


class Expectation(_Strict):
    """One graded outcome: ``{grade: forbidden, when: {shared: {counter: 400}}, why: ...}``."""

    grade: Grade
    """acceptable, interesting or forbidden."""
    when: Annotated[
        Conditions | None,
        BeforeValidator(_otherwise, json_schema_input_type=Conditions | Literal["otherwise"]),
    ]
    """The conditions the outcome must meet, or ``otherwise``: when no other one matches."""
    why: str = ""
    """What the outcome means, in a sentence for the reader of the run."""

    @property
    def is_otherwise(self) -> bool:
        return self.when is None
