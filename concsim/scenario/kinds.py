"""Every step kind by name, and the decisions each kind needs: which primitives its name
may refer to, what it shares between processes, whether only main() may take it.

``StepKind`` is the keys of ``model.STEP_KINDS`` as a type (model.py annotates the table with
it, and checks at import that each name has its class). Each decision is a ``match`` that
names every kind and ends in ``assert_never``: a kind added to ``StepKind`` without a
decision here fails ``mypy`` at that function, naming the kind, and the tables below are
derived from the functions, never kept by hand."""

from __future__ import annotations

from enum import Enum
from typing import Literal, assert_never, get_args

StepKind = Literal[
    "cpu",
    "native",
    "io",
    "sleep",
    "blocking",
    "to_thread",
    "acquire",
    "release",
    "read",
    "write",
    "put",
    "get",
    "consume",
    "repeat",
    "raise",
    "print",
    "log",
    "submit",
    "collect",
    "shutdown",
    "check_stop",
    "set_stop",
    "try",
    "reraise",
    "loop",
    "break",
    "continue",
    "return",
    "with",
    "task_done",
    "join",
    "set",
    "clear",
    "wait",
    "abort",
    "reset",
    "terminate",
    "kill",
    "exit",
    "os_exit",
    "add_done_callback",
    "future",
    "create_task",
    "await",
    "gather",
    "taskgroup",
    "cancel",
    "within",
    "shield",
    "wait_for",
    "notify",
    "notify_all",
    "join_process",
    "reschedule",
]
"""A step's kind: the one key of its mapping (``{cpu: 10ms}``)."""

STEP_KIND_NAMES: tuple[StepKind, ...] = get_args(StepKind)


def primitive_families(kind: StepKind) -> tuple[str, ...]:
    """The top-level families (``events:``, ``barriers:``, ``conditions:``) the name of a
    step of this kind must be declared in; ``()`` for a kind that names none of them (locks
    and queues have checks of their own: an undeclared lock is a plain lock)."""
    match kind:
        case "set" | "clear":
            return ("events",)
        case "wait":
            return ("events", "barriers", "conditions")
        case "wait_for" | "notify" | "notify_all":
            return ("conditions",)
        case "abort" | "reset":
            return ("barriers",)
        case (
            "cpu" | "native" | "io" | "sleep" | "blocking" | "to_thread" | "acquire"
            | "release" | "read" | "write" | "put" | "get" | "consume" | "repeat" | "raise"
            | "print" | "log" | "submit" | "collect" | "shutdown" | "check_stop" | "set_stop"
            | "try" | "reraise" | "loop" | "break" | "continue" | "return" | "with"
            | "task_done" | "join" | "terminate" | "kill" | "exit" | "os_exit"
            | "add_done_callback" | "future" | "create_task" | "await" | "gather"
            | "taskgroup" | "cancel" | "within" | "shield" | "join_process" | "reschedule"
        ):  # fmt: skip
            return ()
        case _:
            assert_never(kind)


class Shared(Enum):
    """What a step uses that processes share: a module-level object, made again by each
    child that imports the program under ``spawn``/``forkserver``."""

    LOCK = "lock"
    QUEUE = "queue"
    PRIMITIVE = "primitive"  # an event, condition or barrier, by its name
    STOP = "stop event"


def shared_by(kind: StepKind) -> Shared | None:
    """What a step of this kind uses that processes would share, if anything."""
    match kind:
        case "acquire" | "release" | "with":
            return Shared.LOCK
        case "put" | "get" | "consume" | "task_done" | "join":
            return Shared.QUEUE
        case "set" | "clear" | "wait" | "wait_for" | "notify" | "notify_all" | "abort" | "reset":
            return Shared.PRIMITIVE
        case "check_stop" | "set_stop":
            return Shared.STOP
        case (
            "cpu" | "native" | "io" | "sleep" | "blocking" | "to_thread" | "read" | "write"
            | "repeat" | "raise" | "print" | "log" | "submit" | "collect" | "shutdown" | "try"
            | "reraise" | "loop" | "break" | "continue" | "return" | "terminate" | "kill"
            | "exit" | "os_exit" | "add_done_callback" | "future" | "create_task" | "await"
            | "gather" | "taskgroup" | "cancel" | "within" | "shield" | "join_process"
            | "reschedule"
        ):  # fmt: skip
            return None
        case _:
            assert_never(kind)


def main_only(kind: StepKind) -> bool:
    """A step only main() has: it holds the executor, its futures and the Process objects."""
    match kind:
        case (
            "submit" | "collect" | "shutdown" | "terminate" | "kill" | "os_exit"
            | "add_done_callback" | "future" | "join_process"
        ):  # fmt: skip
            return True
        case (
            "cpu" | "native" | "io" | "sleep" | "blocking" | "to_thread" | "acquire"
            | "release" | "read" | "write" | "put" | "get" | "consume" | "repeat" | "raise"
            | "print" | "log" | "check_stop" | "set_stop" | "try" | "reraise" | "loop"
            | "break" | "continue" | "return" | "with" | "task_done" | "join" | "set" | "clear"
            | "wait" | "abort" | "reset" | "exit" | "create_task" | "await" | "gather"
            | "taskgroup" | "cancel" | "within" | "shield" | "wait_for" | "notify"
            | "notify_all" | "reschedule"
        ):  # fmt: skip
            return False
        case _:
            assert_never(kind)
