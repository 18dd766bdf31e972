"""The program's own control flow: ``try``/``except``/``else``/``finally``, ``raise ... from``,
bare ``raise``, loops with ``break``/``continue``, and ``return`` (Python/ceval.c, Python/
compile.c: compiler_try_except, compiler_try_finally).

Each is run by the same rules CPython's compiled code follows: the first ``except`` clause
whose class matches handles the exception (``exceptions.matches``); ``else`` runs only when
the ``try`` body raised nothing; ``finally`` runs on every way out (an exception, a
``break``, a ``continue``, a ``return``) and an exception or ``return`` in it replaces what
was leaving; an exception raised inside an ``except`` block gets the handled one as its
``__context__``; ``as e`` is unbound when the clause ends (``del e``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, assert_never

from concsim.events import ExceptionCaught, ExceptionChained, ExceptionRaised
from concsim.scenario import model as m

from .code import Code
from .exceptions import matches
from .runtime import Actor, Lane, SimError, TaskRun

StepCall = Callable[[Lane, "TaskRun | None", list[Any]], "Actor | tuple[()]"]
"""A step made ready to run (interpreter.StepCall)."""


class BreakLoop(Exception):
    """``break``: leaves the innermost loop (never seen by the program's ``except``)."""


class ContinueLoop(Exception):
    """``continue``: the innermost loop's next round."""


class Returned(Exception):
    """``return VALUE`` from the task's function or from main()."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value


class Stopped(SimError):
    """A cooperative stop: ``if stop.is_set(): return``. Only the task's own function sees
    it, as a ``return``: run_task turns it into a normal result, never an exception; no
    ``except`` catches it."""

    def __init__(self) -> None:
        super().__init__("Stopped", "the stop event was set")


def do_break(lane: Lane, run: TaskRun | None) -> None:
    raise BreakLoop()


def do_continue(lane: Lane, run: TaskRun | None) -> None:
    raise ContinueLoop()


def do_return(value: Any) -> None:
    raise Returned(value)


FLOW_STEPS = (m.TryStep, m.ReraiseStep, m.LoopStep, m.BreakStep, m.ContinueStep, m.ReturnStep)
"""The steps ``Flow.flow_call`` runs."""

Leaving = SimError | BreakLoop | ContinueLoop | Returned
"""Every way out of a block that a ``finally`` sees."""


@dataclass
class Scope:
    """One function's frame: the names it bound (``as e``, a loop's round) and the
    exceptions it is handling (``sys.exc_info()``, innermost last)."""

    names: dict[str, Any] = field(default_factory=dict)
    handling: list[SimError] = field(default_factory=list)


_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def clause_text(clause: m.ExceptClause) -> str:
    """The clause as CPython source: ``except (KeyError, IndexError) as e``."""
    types = clause.types
    caught = "" if not types else types[0] if len(types) == 1 else "(" + ", ".join(types) + ")"
    head = f"except {caught}".rstrip()
    return f"{head} as {clause.as_}" if clause.as_ else head


class Flow(Code):
    """The steps that shape the program's control flow. The interpreter, which runs every
    step, is the class that mixes it in."""

    if TYPE_CHECKING:
        stop_set: bool

        def is_set(self, name: str) -> bool: ...

        def run_steps(
            self, lane: Lane, run: TaskRun | None, steps: Sequence[Any], consumed: list[Any]
        ) -> Actor: ...

        def _count_step(self) -> None: ...

        def _make_call(self, step: Any, label: str) -> StepCall: ...

        def _with_gil(self, action: Callable[[Lane, TaskRun | None], None]) -> StepCall: ...

        def put(
            self,
            lane: Lane,
            name: str,
            value: Any,
            label: str,
            timeout: int | None = None,
            block: bool = True,
        ) -> Actor: ...

        def write_output(
            self, lane: Lane, run: TaskRun | None, pieces: list[str], label: str
        ) -> Actor: ...

    def __init__(self, world: Any) -> None:
        super().__init__(world)
        self.scopes: dict[tuple[str, str | None], Scope] = {}
        self.asyncio = world.scenario.program.model is m.Model.ASYNCIO
        self.fills = world.scenario.version >= 2  # {i}, {name}, {e}: a version-2 meaning

    def scope(self, lane: Lane, run: TaskRun | None) -> Scope:
        key = (lane.id, run.name if run is not None else None)
        found = self.scopes.get(key)
        if found is None:
            found = self.scopes[key] = Scope()
        return found

    def fill(self, lane: Lane, run: TaskRun | None, text: str) -> str:
        """``{i}``, ``{name}`` and the names the function bound, as an f-string fills them;
        any other ``{...}`` stays as written. Version-1 files keep their text as is."""
        if not self.fills or "{" not in text:
            return text
        names = self.scope(lane, run).names

        def one(found: re.Match[str]) -> str:
            key = found.group(1)
            if key in names:
                value = names[key]
                return value.message if isinstance(value, SimError) else str(value)
            if run is not None and key == "i":
                return str(run.copy)
            if run is not None and key == "name":
                return run.name
            return found.group(0)

        return _FIELD.sub(one, text)

    @contextmanager
    def handling(self, lane: Lane, run: TaskRun | None, error: SimError) -> Iterator[None]:
        """``error`` is being handled (an ``on_error`` block): a bare ``raise`` raises it."""
        handling = self.scope(lane, run).handling
        handling.append(error)
        try:
            yield
        finally:
            handling.pop()

    def fill_value(self, lane: Lane, run: TaskRun | None, value: Any) -> Any:
        return self.fill(lane, run, value) if isinstance(value, str) else value

    def flow_call(
        self,
        step: m.TryStep | m.ReraiseStep | m.LoopStep | m.BreakStep | m.ContinueStep | m.ReturnStep,
    ) -> StepCall:
        """How a control-flow step runs (interpreter._make_call)."""
        with_gil = self._with_gil
        match step:
            case m.TryStep():
                return lambda lane, run, consumed: self.try_(lane, run, step, consumed)
            case m.ReraiseStep():
                return with_gil(self.reraise)
            case m.LoopStep():
                return lambda lane, run, consumed: self.loop(lane, run, step, consumed)
            case m.BreakStep():
                return with_gil(do_break)
            case m.ContinueStep():
                return with_gil(do_continue)
            case m.ReturnStep():
                return with_gil(lambda lane, run: do_return(step.return_))
            case _:
                assert_never(step)

    def filled_call(self, step: m.RaiseStep | m.PutStep | m.PrintStep, label: str) -> StepCall:
        """A version-2 step that writes a string: filled where it runs."""
        match step:
            case m.RaiseStep():
                return self._with_gil(lambda lane, run: self.raise_step(lane, run, step, label))
            case m.PutStep():
                return lambda lane, run, _: self.put(
                    lane, step.put, self.fill_value(lane, run, step.value), label, *step.waits
                )
            case m.PrintStep():
                return lambda lane, run, _: self.write_output(
                    lane, run, [self.fill(lane, run, step.print), "\n"], label
                )
            case _:
                assert_never(step)

    # --- try ----------------------------------------------------------------------------

    def try_(self, lane: Lane, run: TaskRun | None, step: m.TryStep, consumed: list[Any]) -> Actor:
        """``try: ... except ...: ... else: ... finally: ...``."""
        leaving: Leaving | None = None
        try:
            yield from self.run_steps(lane, run, step.try_, consumed)
        except (BreakLoop, ContinueLoop, Returned) as signal:
            leaving = signal
        except SimError as error:
            leaving = error
            clause = self._handler(step, error)
            if clause is not None:
                leaving = yield from self._handle(lane, run, clause, error, consumed)
        else:
            if step.else_:
                leaving = yield from self._guarded(lane, run, step.else_, consumed)
        if step.finally_:
            replaced = yield from self._guarded(lane, run, step.finally_, consumed)
            if replaced is not None:
                chained = isinstance(replaced, SimError) and replaced.context is None
                if chained and isinstance(leaving, SimError) and leaving is not replaced:
                    replaced.context = leaving
                leaving = replaced
        if leaving is not None:
            raise leaving

    def _handler(self, step: m.TryStep, error: SimError) -> m.ExceptClause | None:
        if isinstance(error, Stopped):
            return None
        for clause in step.except_:
            if matches(error.error, clause.types, asyncio=self.asyncio):
                return clause
        return None

    def _handle(
        self,
        lane: Lane,
        run: TaskRun | None,
        clause: m.ExceptClause,
        error: SimError,
        consumed: list[Any],
    ) -> Actor:
        """One ``except`` clause's body, with ``error`` being handled; returns what leaves
        it (None: the exception is handled and the code after the ``try`` runs)."""
        self.world.emit(
            ExceptionCaught,
            lane=lane.id,
            task=run.name if run is not None else None,
            error=error.error,
            message=error.message,
            clause=clause_text(clause),
        )
        scope = self.scope(lane, run)
        scope.handling.append(error)
        if clause.as_:
            scope.names[clause.as_] = error
        try:
            leaving = yield from self._guarded(lane, run, clause.steps, consumed)
        finally:
            scope.handling.pop()
            if clause.as_:
                scope.names.pop(clause.as_, None)  # ``except E as e`` ends with ``del e``
        if isinstance(leaving, SimError) and leaving is not error and leaving.context is None:
            leaving.context = error
        return leaving

    def _guarded(
        self, lane: Lane, run: TaskRun | None, steps: Sequence[Any], consumed: list[Any]
    ) -> Actor:
        """Run ``steps``; return what left them early, or None."""
        try:
            yield from self.run_steps(lane, run, steps, consumed)
        except (SimError, BreakLoop, ContinueLoop, Returned) as leaving:
            return leaving
        return None

    # --- raise --------------------------------------------------------------------------

    def raise_step(self, lane: Lane, run: TaskRun | None, step: m.RaiseStep, label: str) -> None:
        """``raise E(message)`` and ``raise E(message) from cause``."""
        message = self.fill(lane, run, step.message)
        scope = self.scope(lane, run) if step.from_ is not None or self.fills else None
        error = SimError(step.raise_, message)
        if scope is not None and scope.handling:
            error.context = scope.handling[-1]
        if step.from_ is not None:
            assert scope is not None
            cause = None if step.from_ == "none" else scope.names.get(step.from_)
            error.cause = cause if isinstance(cause, SimError) else None
            error.suppress_context = True
        self.raise_error(lane, run, error, label)
        if step.from_ is not None:
            cause_text = None if error.cause is None else repr(error.cause)
            self.world.emit(
                ExceptionChained,
                lane=lane.id,
                task=run.name if run is not None else None,
                error=step.raise_,
                cause=cause_text,
            )
        raise error

    def raise_error(self, lane: Lane, run: TaskRun | None, error: SimError, label: str) -> None:
        self.world.emit(
            ExceptionRaised,
            lane=lane.id,
            task=run.name if run is not None else None,
            error=error.error,
            message=error.message,
            step=label,
        )

    def reraise(self, lane: Lane, run: TaskRun | None) -> None:
        """Bare ``raise``: the exception being handled, as it is (its traceback grows)."""
        handling = self.scope(lane, run).handling
        if not handling:  # the checks refuse it outside an except block; CPython says so
            raise SimError("RuntimeError", "No active exception to reraise")
        raise handling[-1]

    # --- loops --------------------------------------------------------------------------

    def loop(self, lane: Lane, run: TaskRun | None, step: m.LoopStep, consumed: list[Any]) -> Actor:
        """``while True:``, ``for attempt in range(1, N + 1):`` or ``while not stop.is_set():``.
        ``{attempt}`` names the round inside the loop only, as the generated program's
        f-strings do (an enclosing loop's round is back in view after it)."""
        names = self.scope(lane, run).names
        outer = names.get("attempt")
        try:
            yield from self._rounds_of(lane, run, step, consumed, names)
        finally:
            if step.times is not None:
                if outer is None:
                    names.pop("attempt", None)
                else:
                    names["attempt"] = outer

    def _until_set(self, until: str, run: TaskRun | None) -> bool:
        """``EVENT.is_set()`` before a round of ``loop: ... until: EVENT``. The program's
        ``stop`` event is set by ``set_stop`` and a cancel of the task too, as well as by
        ``set: stop`` when it is declared."""
        if until == "stop" and (self.stop_set or (run is not None and run.stop_requested)):
            return True
        return self.is_set(until)

    def _rounds_of(
        self,
        lane: Lane,
        run: TaskRun | None,
        step: m.LoopStep,
        consumed: list[Any],
        names: dict[str, Any],
    ) -> Actor:
        attempt = 0
        while True:
            if step.times is not None and attempt >= step.times:
                return
            if step.until is not None:
                yield from self.world.ensure_gil(lane)
                if self._until_set(step.until, run):
                    return
            attempt += 1
            if step.times is not None:
                names["attempt"] = attempt
            self._count_step()
            try:
                yield from self.run_steps(lane, run, step.loop, consumed)
            except BreakLoop:
                return
            except ContinueLoop:
                continue
