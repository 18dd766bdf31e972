"""Where tracing is on: inside the program's task and main functions, nowhere else.

CPython 3.11 runs every instruction of a thread on its slower tracing path while a trace
function is set in that thread (``sys.settrace``), even in frames whose call hook returned
``None``: a pure-Python loop runs about 3x slower. So the probe does not trace the whole
program. It runs the module's definitions and module-level code (the calibration of the
``cpu`` loop included) untraced, exactly as ``python program.py`` would; then, before the
``if __name__ == "__main__":`` block, it replaces each task function and ``main`` in the
module's globals by a wrapper that traces the call, and each helper (``spin``, ``crunch``)
by one that suspends tracing for the call. The wrappers keep the function's name, module
and qualified name, so ``pickle`` still sends ``__main__.request`` to a worker process and
``threading`` names the thread's target as written.

Coroutine functions are not wrapped: the event loop's thread is traced from the moment
``main()`` is called, which covers every coroutine it runs. Standard library only.
"""

from __future__ import annotations

import builtins
import functools
import sys
import types

TYPE_CHECKING = False  # typing costs the program's process ~5 ms to import
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    Trace = Callable[..., Any]
_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect (about 10 ms)


class Scope:
    """Wraps the program's functions once they are defined."""

    def __init__(self, file: str, traced: frozenset[str], helpers: frozenset[str], trace: Trace):
        self.file = file
        self.traced = traced  # task functions and main
        self.helpers = helpers
        self.trace = trace

    def wrap_all(self, namespace: dict[str, Any]) -> None:
        for name, value in list(namespace.items()):
            if not isinstance(value, types.FunctionType) or value.__code__.co_filename != self.file:
                continue
            if name in self.helpers:
                namespace[name] = untraced(value)
            elif name in self.traced:
                namespace[name] = self._traced(value)

    def _traced(self, function: Any) -> Any:
        trace = self.trace
        if function.__code__.co_flags & _CO_COROUTINE:  # inspect.iscoroutinefunction

            @functools.wraps(function)
            def start_tracing(*args: Any, **kwargs: Any) -> Any:
                sys.settrace(trace)  # this thread runs the event loop from here on
                return function(*args, **kwargs)

            return start_tracing

        @functools.wraps(function)
        def traced(*args: Any, **kwargs: Any) -> Any:
            before = sys.gettrace()
            sys.settrace(trace)
            try:
                return function(*args, **kwargs)
            finally:
                sys.settrace(before)

        return traced


def untraced(function: Any) -> Any:
    """``function`` run with the thread's trace function off, put back after it. For the
    program's ``cpu`` helpers, and for the standard library's calls that the probe wraps
    anyway (``Executor.submit``, ``Future.result``): traced, CPython would run all their
    code on its slower tracing path and call the trace function at each of their calls."""

    @functools.wraps(function)
    def untraced(*args: Any, **kwargs: Any) -> Any:
        before = sys.gettrace()
        if before is None:
            return function(*args, **kwargs)
        sys.settrace(None)
        try:
            return function(*args, **kwargs)
        finally:
            sys.settrace(before)  # the caller's frame keeps its own line tracing

    return untraced


def program_code(path: str, source: str, guard: Sequence[int]) -> tuple[Any, Any]:
    """The program's two code objects: its definitions and module-level code, then its
    ``__main__`` block compiled on its own lines (its tracebacks and line events say the
    same). ``guard`` is where that block starts and the module's ``__future__`` flags
    (``concsim.live.split.main_guard``)."""
    lines = source.splitlines(keepends=True)
    line, flags = guard
    split = line - 1 if line > 0 else len(lines)
    head = compile("".join(lines[:split]), path, "exec", dont_inherit=True)
    tail = "\n" * split + "".join(lines[split:])
    return head, compile(tail, path, "exec", flags=flags, dont_inherit=True)


def run_program(
    path: str,
    scope: Scope,
    guard: Sequence[int],
    name: str = "__main__",
    code: tuple[Any, Any] | None = None,
) -> types.ModuleType:
    """Run ``path`` as ``__main__``, as ``python PATH`` does (``runpy.run_path``), with the
    scope's wrappers installed between the module's code and its ``__main__`` block. ``code``
    is ``program_code``'s, compiled by the parent when the program runs on its own
    interpreter: ``compile()`` here would first make the ``ast`` module's node classes
    (``PyAST_Check`` initialises them, about a hundred types), a few milliseconds that
    ``python PATH`` never spends (it compiles its script without them). A spawned child
    imports it as ``__mp_main__`` (``multiprocessing.spawn``), whose ``__main__`` block does
    not run."""
    if code is None:  # another interpreter: its own bytecode
        with open(path, encoding="utf-8") as file:
            code = program_code(path, file.read(), guard)
    head, tail = code
    module = types.ModuleType(name)
    module.__file__ = path
    module.__builtins__ = builtins  # type: ignore[attr-defined]
    module.__loader__ = None
    module.__spec__ = None
    sys.modules[name] = module
    namespace = module.__dict__
    exec(head, namespace)
    scope.wrap_all(namespace)
    exec(tail, namespace)
    return module
