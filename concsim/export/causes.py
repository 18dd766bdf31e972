"""``__cause__`` of the exception that ended main or a task, folded from the events: the
``raise X from e`` (``ExceptionChained``) that raised it, if the last exception raised
there was that one."""

from __future__ import annotations

from concsim.events import Event, ExceptionChained, ExceptionRaised, ResultReceived

CAUSE_EVENTS: frozenset[type[Event]] = frozenset(
    {ExceptionRaised, ExceptionChained, ResultReceived}
)
"""What ``Causes`` reads, besides the ends it is asked about."""

MAIN = "main"


class Causes:
    """Who raised what ``from`` what: per task (or ``main``), the type and ``repr`` of the
    cause of the last exception it raised, if that was a ``raise ... from e``."""

    def __init__(self) -> None:
        self.last: dict[str, tuple[str, str | None]] = {}

    def feed(self, event: Event) -> None:
        if isinstance(event, ExceptionRaised):
            self.last.pop(_who(event.task), None)  # a new exception, with no cause yet
        elif isinstance(event, ExceptionChained):
            self.last[_who(event.task)] = (event.error, event.cause)
        elif isinstance(event, ResultReceived) and event.error is not None:
            # future.result() re-raises the task's own exception object, __cause__ and all
            chained = self.last.get(event.task)
            if chained is not None and chained[0] == event.error:
                self.last[MAIN] = chained
            else:
                self.last.pop(MAIN, None)

    def of(self, who: str, error: str | None) -> str | None:
        """The ``repr`` of the ``__cause__`` of ``error`` as it ended ``who``, or None (no
        cause, ``from None``, or another exception)."""
        chained = self.last.get(who)
        if error is None or chained is None or chained[0] != error:
            return None
        return chained[1]


def _who(task: str | None) -> str:
    return task if task is not None else MAIN
