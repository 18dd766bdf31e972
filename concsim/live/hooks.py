"""Run a function right after a module is imported, without importing it before.

The probe wraps ``asyncio`` and ``concurrent.futures`` only if the program imports them: a
program that uses threads alone should not pay for importing ``asyncio`` (about 0.1 s) at
start. CPython's import system (``importlib``) asks each finder on ``sys.meta_path`` in
turn; this one goes first, lets the others find the module, and wraps its loader so that
the hook runs once the module's code has executed. Standard library only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from types import ModuleType

TYPE_CHECKING = False  # typing costs the program's process ~5 ms to import
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from typing import Any

Hook = Callable[[ModuleType], None]


class AfterImport:
    """Calls ``hooks[name](module)`` once, right after ``name`` is first imported. A meta
    path finder by its ``find_spec`` alone: ``importlib.abc`` costs about 15 ms to import."""

    def __init__(self, hooks: dict[str, Hook]) -> None:
        self.hooks = hooks

    def install(self) -> None:
        for name in list(self.hooks):
            module = sys.modules.get(name)
            if module is not None:  # already imported: patch it now
                self.hooks.pop(name)(module)
        sys.meta_path.insert(0, self)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        hook = self.hooks.pop(fullname, None)
        if hook is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: ModuleSpec | None = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Then(spec.loader, hook)  # type: ignore[assignment]
                return spec
        return None


class _Then:
    """A loader that runs a hook after the real loader executed the module."""

    def __init__(self, loader: Any, hook: Hook) -> None:
        self.loader = loader
        self.hook = hook

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader  # as if it had been loaded directly
        self.loader.exec_module(module)
        self.hook(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)
