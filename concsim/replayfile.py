"""A replay file's fields as a pydantic model: the one place that says what each field holds.

``ReplayFile`` validates what a replay file's reader (concsim.replaydoc) parsed, and writes
what ``save_replay`` saves. Every field names what it expects (``Expects``), so a problem
reads ``seed: expected an integer 0 to 2**64-1, got -1`` whatever pydantic found wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from concsim.limits import MAX_DURATION_S, MAX_SEED
from concsim.replay import FORMAT, Replay
from concsim.scenario.errors import describe
from concsim.scenario.model import FaultKind


@dataclass(frozen=True, slots=True)
class Expects:
    """What a field holds, as a problem with it says: ``expected <what>, got …``."""

    what: str


Text = Annotated[str, Field(strict=True, min_length=1), Expects("text")]
Time = Annotated[
    float,
    Field(strict=True, ge=0, le=MAX_DURATION_S, allow_inf_nan=False),
    Expects(f"a time in seconds, 0 to {MAX_DURATION_S}"),
]


class _Fields(BaseModel):
    # Keys a later concsim may add are left alone, so an older one still reads the file.
    model_config = ConfigDict(extra="ignore", frozen=True)


class InjectionEntry(_Fields):
    """One injected fault: ``{at: 0.3, fault: fail, target: request-2, error: ValueError}``."""

    expects: ClassVar[str] = "a mapping (at, fault, target)"

    at: Time
    """Virtual seconds from the start of the run."""
    fault: Annotated[FaultKind, Expects(f"one of {', '.join(FaultKind)}")]
    target: Text
    """The task or lane the fault lands on."""
    error: Text | None = None
    """The exception a ``fail`` raises; RuntimeError when left out."""


class ReplayFile(_Fields):
    """A replay file: ``concsim run --replay FILE`` runs its scenario again, fault for fault."""

    format: str = FORMAT
    scenario: Text
    """A scenario file, relative to the replay file, or a bundled scenario's name."""
    variant: Text | None = None
    seed: Annotated[StrictInt, Field(ge=0, le=MAX_SEED), Expects("an integer 0 to 2**64-1")]
    injections: Annotated[list[InjectionEntry] | None, Expects("a list of faults")] = None
    ended_at: Time | None = None
    """Where the clock stood when a stalled run was ended by hand."""
    choices: Annotated[
        dict[Annotated[int, Field(ge=0)], Text] | None,
        Expects("a mapping of decision numbers to the thread chosen"),
    ] = None
    """Who went first at a decision point, by its number (the evil scheduler, ``x``)."""
    draws: Annotated[
        dict[Annotated[int, Field(ge=0)], Annotated[float, Field(ge=0, lt=1)]] | None,
        Expects("a mapping of draw numbers to draws, 0 <= x < 1"),
    ] = None
    """The run's random draws, when they are a schedule rather than the seed's own (a
    shrunk run): each draw left out is 0.5, the run as written."""

    @classmethod
    def of(cls, replay: Replay) -> ReplayFile:
        return cls(
            scenario=replay.scenario,
            variant=replay.variant,
            seed=replay.seed,
            injections=[
                InjectionEntry(at=i.at, fault=FaultKind(i.fault), target=i.target, error=i.error)
                for i in replay.injections
            ],
            ended_at=replay.ended_at,
            choices=dict(replay.choices) or None,
            draws=None if replay.draws is None else dict(replay.draws),
        )

    def dump(self) -> dict[str, Any]:
        """The file's data, in the order it is written; ``ended_at``, ``choices`` and
        ``draws`` only when set."""
        data = self.model_dump(mode="json")
        for key in ("ended_at", "choices", "draws"):
            if data[key] is None:
                del data[key]
        return data

    def to_replay(self, scenario: str) -> Replay:
        """The replay, with ``scenario`` as the reader resolved it (a path or a name)."""
        from concsim.engine import Injection

        injections = tuple(
            Injection(float(i.at), i.fault.value, i.target, i.error or "RuntimeError")
            for i in self.injections or ()
        )
        ended = None if self.ended_at is None else float(self.ended_at)
        draws = None if self.draws is None else {i: float(v) for i, v in self.draws.items()}
        return Replay(
            scenario, self.seed, self.variant, injections, ended, dict(self.choices or {}), draws
        )


def problem_message(error: ErrorDetails) -> str:
    """``required key is missing``, or ``expected <what the value holds>, got <value>``."""
    if error["type"] == "missing":
        return "required key is missing"
    model: type[BaseModel] = ReplayFile
    what = ""
    previous = None
    for part in error["loc"]:
        if previous == "injections":  # an item of the one list of entries
            model, what = InjectionEntry, InjectionEntry.expects
        elif isinstance(part, str) and part in model.model_fields:
            what = _expects(model.model_fields[part])
        else:
            break  # a key of choices or draws: the field's own words say it
        previous = part
    return f"expected {what}, got {describe(error['input'])}"


def _expects(field: FieldInfo) -> str:
    """A field's ``Expects``, on the field or on its type inside ``… | None``."""
    metadata = [*field.metadata]
    for arm in get_args(field.annotation):
        metadata.extend(getattr(arm, "__metadata__", ()))
    return next(m.what for m in metadata if isinstance(m, Expects))
