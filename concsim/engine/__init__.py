"""The deterministic simulator: scenario + seed + injections in, events out.

It never reads wall time and never imports a user interface.
"""

from .faults import FAULTS, Injection
from .simulation import Simulation

__all__ = ["FAULTS", "Injection", "Simulation"]
