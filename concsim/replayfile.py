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
from concsim.replay import FORMAT, Branch, Replay
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


class BranchEntry(_Fields):
    """One timeline of a branched session: ``{name: branch 1, from: original, at: 0.3,
    injections: [...]}``. The one that was on screen (``branch:``) lists no injections of
    its own: they are the file's ``injections``."""

    expects: ClassVar[str] = "a mapping (name, from, at, injections)"
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    name: Text
    parent: Annotated[Text | None, Field(alias="from")] = None
    """The branch it was forked from; none for the original."""
    at: Time = 0.0
    """Where it was forked, in virtual seconds."""
    injections: Annotated[list[InjectionEntry] | None, Expects("a list of faults")] = None


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
    branch: Text | None = None
    """Which of ``branches`` was on screen: the file's ``injections`` are its."""
    branches: Annotated[list[BranchEntry] | None, Expects("a list of branches")] = None
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
            injections=_entries(replay.injections),
            ended_at=replay.ended_at,
            branch=replay.branch if replay.branches else None,
            branches=[
                BranchEntry(
                    name=b.name,
                    parent=b.parent,
                    at=b.at,
                    injections=None if b.name == replay.branch else _entries(b.injections),
                )
                for b in replay.branches
            ]
            or None,
            choices=dict(replay.choices) or None,
            draws=None if replay.draws is None else dict(replay.draws),
        )

    def dump(self) -> dict[str, Any]:
        """The file's data, in the order it is written; ``ended_at``, the branches,
        ``choices`` and ``draws`` only when set, a branch's ``from`` and ``injections`` only
        when it has them."""
        data = self.model_dump(mode="json", by_alias=True)
        for key in ("ended_at", "branch", "branches", "choices", "draws"):
            if data[key] is None:
                del data[key]
        for entry in data.get("branches", ()):
            for key in ("from", "injections"):
                if entry[key] is None:
                    del entry[key]
        return data

    def to_replay(self, scenario: str) -> Replay:
        """The replay, with ``scenario`` as the reader resolved it (a path or a name)."""
        injections = _injections(self.injections)
        ended = None if self.ended_at is None else float(self.ended_at)
        branches = tuple(
            Branch(
                b.name,
                injections if b.name == self.branch else _injections(b.injections),
                b.parent,
                float(b.at),
            )
            for b in self.branches or ()
        )
        draws = None if self.draws is None else {i: float(v) for i, v in self.draws.items()}
        return Replay(
            scenario,
            self.seed,
            self.variant,
            injections,
            ended,
            branches,
            self.branch,
            dict(self.choices or {}),
            draws,
        )

    def branch_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """What is wrong with the branches as a whole: each name once, each parent an
        earlier branch, forked no earlier than its parent, ``branch`` one of them."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        seen: dict[str, float] = {}
        for index, entry in enumerate(self.branches or ()):
            problem = _branch_problem(index, entry, seen)
            if problem is not None:
                found.append(problem)
            seen[entry.name] = float(entry.at)
        if self.branches and self.branch not in seen:
            names = ", ".join(map(repr, seen))
            where = ("branch",) if self.branch else ()
            found.append((where, f"expected `branch:` naming one of {names}"))
        return found


def _branch_problem(
    index: int, entry: BranchEntry, seen: dict[str, float]
) -> tuple[tuple[str | int, ...], str] | None:
    """What is wrong with branch ``index`` given the branches before it (``seen``)."""
    if entry.name in seen:
        return ("branches", index, "name"), (
            f"a second branch named {entry.name!r}; expected each name once"
        )
    if index == 0:
        if entry.parent is None:
            return None
        return ("branches", 0, "from"), "the first branch is the original; expected no `from:`"
    if entry.parent not in seen:
        names = ", ".join(map(repr, seen))
        return ("branches", index), f"expected `from:` naming one of {names}"
    parent_at = seen[entry.parent]
    if entry.at < parent_at:
        return ("branches", index, "at"), (
            f"forked at {entry.at:g}, before its parent was (at {parent_at:g}); "
            f"expected {parent_at:g} or later"
        )
    return None


def _entries(injections: tuple[Any, ...]) -> list[InjectionEntry]:
    return [
        InjectionEntry(at=i.at, fault=FaultKind(i.fault), target=i.target, error=i.error)
        for i in injections
    ]


def _injections(entries: list[InjectionEntry] | None) -> tuple[Any, ...]:
    from concsim.engine import Injection

    return tuple(
        Injection(float(i.at), i.fault.value, i.target, i.error or "RuntimeError")
        for i in entries or ()
    )


def problem_message(error: ErrorDetails) -> str:
    """``required key is missing``, or ``expected <what the value holds>, got <value>``."""
    if error["type"] == "missing":
        return "required key is missing"
    model: type[BaseModel] = ReplayFile
    items: type[BaseModel] | None = None
    what = ""
    for part in error["loc"]:
        if isinstance(part, int) and items is not None:  # an item of injections, branches
            model, items = items, None
            what = getattr(model, "expects", what)
        elif isinstance(part, str) and (field := _field(model, part)) is not None:
            what = _expects(field)
            items = _item_model(field)
        else:
            break  # a key of choices or draws: the field's own words say it
    return f"expected {what}, got {describe(error['input'])}"


def _field(model: type[BaseModel], name: str) -> FieldInfo | None:
    """A field by its name or by its alias (``from``); None for a key of a mapping."""
    fields = model.model_fields
    return fields.get(name) or next((f for f in fields.values() if f.alias == name), None)


def _item_model(field: FieldInfo) -> type[BaseModel] | None:
    """The model of a list field's items (``list[BranchEntry] | None`` -> BranchEntry)."""
    stack = [field.annotation]
    while stack:
        kind = stack.pop()
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind
        stack.extend(get_args(kind))
    return None


def _expects(field: FieldInfo) -> str:
    """A field's ``Expects``, on the field or on its type inside ``… | None``."""
    metadata = [*field.metadata]
    for arm in get_args(field.annotation):
        metadata.extend(getattr(arm, "__metadata__", ()))
    return next(m.what for m in metadata if isinstance(m, Expects))
