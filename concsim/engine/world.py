"""The simulated machine of one run: the driver and its lanes (driver.py), the GIL
(threads/gil.py) and the CPU cores (cores.py), in layers; and how a lane is killed."""

from __future__ import annotations

from .ahead import RunAhead
from .runtime import Lane


class World(RunAhead):
    """Clock, event log, lanes and the shared hardware (GILs and cores) of one run."""

    def kill(self, lane: Lane) -> None:
        """End a lane abruptly: no ``finally`` of the simulated program runs."""
        lane.ended = True
        gen, lane.gen, lane.wait = lane.gen, None, None
        self.release_gil(lane, "its thread was stopped")
        if gen is not None:
            gen.close()  # runs only the engine's own bookkeeping (waiter queues)
