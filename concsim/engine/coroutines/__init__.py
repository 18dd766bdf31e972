"""asyncio: one event loop on the main thread, its tasks, and ``asyncio.run``."""

from .runners import AsyncioModel

__all__ = ["AsyncioModel"]
