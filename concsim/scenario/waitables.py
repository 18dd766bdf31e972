"""Names of the primitives a step waits on or signals (events, conditions, barriers): which
family a step's name must belong to, and one name per primitive across all families."""

from __future__ import annotations

from typing import Any

from concsim.scenario.document import Document
from concsim.scenario.errors import Problem, did_you_mean
from concsim.scenario.kinds import STEP_KIND_NAMES, primitive_families

FAMILIES = ("locks", "semaphores", "queues", "events", "conditions", "barriers")
"""The top-level mappings that declare named primitives; a name is unique across them."""

_DECLARED_AS = {
    "locks": "a lock",
    "semaphores": "a semaphore",
    "queues": "a queue",
    "events": "an event",
    "conditions": "a condition",
    "barriers": "a barrier",
}

WAITABLE_STEPS: dict[str, tuple[str, ...]] = {
    kind: families for kind in STEP_KIND_NAMES if (families := primitive_families(kind))
}
"""A step kind -> the families its name may come from (``wait`` dispatches on the family);
decided per kind in ``kinds.primitive_families``."""

_NOUNS = {"events": "event", "conditions": "condition", "barriers": "barrier"}


def declared(data: dict[Any, Any], family: str) -> dict[Any, Any]:
    found = data.get(family)
    return found if isinstance(found, dict) else {}


def waitable_problem(data: dict[Any, Any], kind: str, name: str) -> str:
    """What is wrong with ``{kind: name}``, or ``""`` if it names a primitive it applies to."""
    families = WAITABLE_STEPS[kind]
    names: dict[Any, Any] = {}
    for family in families:
        names |= declared(data, family)
    if name in names:
        return ""
    nouns = [_NOUNS[family] for family in families]
    noun = ", ".join(nouns[:-1]) + " or " + nouns[-1] if len(nouns) > 1 else nouns[0]
    noun = ("an " if noun[0] in "aeiou" else "a ") + noun
    for family in FAMILIES:
        if name in declared(data, family):
            return (
                f"`{kind}` applies to {noun}, and `{name}` is declared under `{family}:`; "
                f"expected {noun}"
            )
    hint = did_you_mean(name, names, listing=False)
    if not hint:
        sections = " or ".join(f"`{family}:`" for family in families)
        known = ", ".join(sorted(str(key) for key in names))
        hint = f"declare it under {sections}" + (f" (declared: {known})" if known else "")
    return f"no {noun.split(' ', 1)[1]} `{name}`; {hint}"


def barrier_else_problem(data: dict[Any, Any], step: dict[Any, Any]) -> str:
    """``else`` on a barrier's ``wait`` in threads: threading.Barrier.wait raises, it never
    returns False (asyncio's ``else`` is the TimeoutError of the wait_for around it)."""
    if (
        "else" in step
        and step.get("wait") in declared(data, "barriers")
        and "asyncio" not in _models(data)
    ):
        return (
            "a barrier's wait raises BrokenBarrierError when it times out, it never returns "
            "False; expected no `else` (catch the error instead)"
        )
    return ""


def until_problem(data: dict[Any, Any], step: dict[Any, Any]) -> str:
    """``wait_for``'s predicate must read a declared shared variable."""
    until = step.get("until")
    name = until.get("shared") if isinstance(until, dict) else None
    shared = data.get("shared")
    shared = shared if isinstance(shared, dict) else {}
    if not isinstance(name, str) or name in shared:
        return ""
    hint = did_you_mean(name, shared, listing=False) or "declare it under `shared:`"
    return f"no shared variable `{name}`; {hint}"


def loop_until_problem(data: dict[Any, Any], step: dict[Any, Any]) -> str:
    """``loop``'s ``until`` names the program's ``stop`` event or a declared event."""
    name = step.get("until")
    events = declared(data, "events")
    if not isinstance(name, str) or name == "stop" or name in events:
        return ""
    for family in FAMILIES:
        if name in declared(data, family):
            return (
                f"`until` reads an event's is_set(), and `{name}` is declared under "
                f"`{family}:`; expected an event (or `stop`)"
            )
    hint = did_you_mean(name, [*events, "stop"], listing=False)
    return f"no event `{name}`; " + (hint or "declare it under `events:` (or use `stop`)")


def family_clashes(doc: Document) -> list[Problem]:
    """A problem at each name declared again in another family (``events: {go: {}}`` and
    ``barriers: {go: ...}``), at the later of the two: a step names a primitive by name."""
    data = doc.data if isinstance(doc.data, dict) else {}
    names = [
        (family, name)
        for family in FAMILIES
        for name in declared(data, family)
        if isinstance(name, str)
    ]
    where = {key: doc.problem(key, "", at_key=True) for key in names}
    first: dict[str, str] = {}
    problems: list[Problem] = []
    for family, name in sorted(names, key=lambda key: (where[key].line, where[key].col)):
        if name in first:
            problems.append(
                doc.problem(
                    (family, name),
                    f"`{name}` is already {_DECLARED_AS[first[name]]} (under `{first[name]}:`); "
                    "expected one name per primitive",
                    at_key=True,
                )
            )
        else:
            first[name] = family
    return problems


_MODELS = {
    "events": ("threads", "asyncio"),
    "barriers": ("threads", "asyncio"),
    "conditions": ("threads", "asyncio"),
}
"""The models each family is simulated for: ``threading.Event``/``asyncio.Event``,
``threading.Barrier``/``asyncio.Barrier``, and ``threading.Condition``/``asyncio.Condition``."""


def _models(data: dict[Any, Any]) -> set[str]:
    """The models the program and its variants run."""
    programs = [data.get("program")]
    variants = data.get("variants")
    programs += (
        [v.get("program") for v in variants if isinstance(v, dict)]
        if isinstance(variants, list)
        else []
    )
    return {
        str(program.get("model", "threads")) if isinstance(program, dict) else "threads"
        for program in programs
    }


_NOT_IN_ASYNCIO = {
    "timeout": "expected it on each `wait` step (asyncio.wait_for around wait())",
    "action": "expected no `action` in model asyncio",
}
"""What ``asyncio.Barrier(parties)`` has no parameter for, and what to write instead."""


def model_problems(doc: Document) -> list[Problem]:
    """A problem at ``events``/``barriers`` when the program (or a variant) runs a model
    they are not simulated for, and at a barrier's ``timeout`` or ``action`` in asyncio."""
    data = doc.data if isinstance(doc.data, dict) else {}
    models = _models(data)
    problems: list[Problem] = []
    if "asyncio" in models:
        for name, spec in declared(data, "barriers").items():
            for key, instead in _NOT_IN_ASYNCIO.items():
                if isinstance(spec, dict) and key in spec:
                    problems.append(
                        doc.problem(
                            ("barriers", name, key),
                            f"asyncio.Barrier(parties) takes no {key}; {instead}",
                            at_key=True,
                        )
                    )
    for family, allowed in _MODELS.items():
        wrong = sorted(model for model in models if model not in allowed)
        if declared(data, family) and wrong:
            problems.append(
                doc.problem(
                    (family,),
                    f"`{family}` are simulated for model {' and '.join(allowed)}, not "
                    f"{', '.join(wrong)}; expected model: {allowed[0]}",
                    at_key=True,
                )
            )
    return problems
