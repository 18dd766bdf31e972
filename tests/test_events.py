"""The event vocabulary: closed, frozen, past tense, each with a one-sentence why."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import pytest

from concsim import events
from concsim.events import EVENT_TYPES, Event

SAMPLES: dict[type, object] = {str: "x", int: 1, float: 0.5, bool: True}


def _sample(event_type: type[Event]) -> Event:
    hints = typing.get_type_hints(event_type)
    values = {}
    for field in dataclasses.fields(event_type):
        hint = hints[field.name]
        origin = typing.get_origin(hint)
        if origin is tuple:
            values[field.name] = ("a", "b")
        elif isinstance(hint, type) and issubclass(hint, str):  # the StrEnums
            values[field.name] = next(iter(hint)) if hint is not str else "x"
        else:
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            values[field.name] = SAMPLES.get(args[0] if args else hint, "x")
    return event_type(**values)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_each_event_is_frozen_and_explains_itself(name: str) -> None:
    """Every event type is a frozen dataclass whose why is one sentence."""
    event = _sample(EVENT_TYPES[name])
    assert dataclasses.is_dataclass(event)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.t = 1.0  # type: ignore[misc]
    assert event.why and "\n" not in event.why
    if name != "WarningIssued":  # a warning's why is its own message
        assert event.why.endswith(".")
    data = event.to_dict()
    assert data["type"] == name and data["why"] == event.why


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_the_fast_constructor_keeps_the_dataclass_signature(name: str) -> None:
    """The quicker __init__ has exactly the keyword-only signature dataclasses generates."""
    event_type = EVENT_TYPES[name]
    fields = dataclasses.fields(event_type)
    expected = [
        inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default,
        )
        for f in fields
    ]
    actual = list(inspect.signature(event_type.__init__).parameters.values())[1:]
    assert [(p.name, p.kind, p.default) for p in actual] == [
        (p.name, p.kind, p.default) for p in expected
    ]
    event = _sample(event_type)
    assert dataclasses.replace(event) == event
    with pytest.raises(TypeError):
        event_type(t=0.0)  # required fields stay required


def test_a_profile_tells_each_event_kinds_construction_apart() -> None:
    """Each generated __init__ has a file name of its own, so cProfile/pstats keep one row
    per event kind instead of folding them all into ``<string>:1(__init__)``."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    events.TaskEnded(t=0.0, seq=0, task="a", outcome=events.Outcome.OK)
    events.MainEnded(t=0.0, seq=1, outcome=events.MainOutcome.OK, error=None)
    profiler.disable()
    stats: dict[tuple[str, int, str], object] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    labels = {(file, name) for file, _, name in stats if name == "__init__"}
    assert ("<generated TaskEnded.__init__>", "__init__") in labels
    assert ("<generated MainEnded.__init__>", "__init__") in labels


def test_the_gil_is_named_for_its_process_not_as_if_main_had_one() -> None:
    """Each process has its own GIL (CPython: one per interpreter); the main process's is
    just "the GIL", which no thread called main owns."""
    from concsim.events import GilChanged

    taken = GilChanged(t=0, seq=0, process="main", holder="thread-1", reason="it was free")
    assert taken.why == "thread-1 took the GIL: it was free."
    freed = GilChanged(t=0, seq=0, process="process-1", holder=None, reason="it waits for work")
    assert freed.why == "Process-1's GIL is free: it waits for work."


@pytest.mark.parametrize(
    ("wait", "cancel_futures", "cancelled", "why"),
    [
        (True, False, (), "; it waits for running and queued tasks."),
        (True, True, ("job-3",), "; queued futures cancelled: job-3; it waits for running tasks."),
        # A process pool's manager thread cancels the queued futures when it next wakes
        # (CPython 3.11 flag_executor_shutting_down), so none is named at the call.
        (
            True,
            True,
            (),
            "; the queued futures are to be cancelled, not run; it waits for running tasks.",
        ),
        (False, False, (), "."),
    ],
)
def test_shutdown_says_what_it_waits_for_and_what_it_cancels(
    wait: bool, cancel_futures: bool, cancelled: tuple[str, ...], why: str
) -> None:
    event = events.ExecutorShutdown(
        seq=0, t=0, wait=wait, cancel_futures=cancel_futures, cancelled=cancelled
    )
    assert event.why == f"shutdown(wait={wait}, cancel_futures={cancel_futures}) was called{why}"


def test_a_queued_task_started_after_shutdown_is_not_said_to_be_waited_for() -> None:
    """shutdown(wait=False) cancels no queued task either: it still runs."""
    event = events.TaskStarted(seq=0, t=0, task="job-4", lane="worker-1", during_shutdown=True)
    assert event.why == (
        "Queued task job-4 started on worker-1 after shutdown() was called: "
        "shutdown cancels no queued task unless cancel_futures=True."
    )
