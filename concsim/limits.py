"""Every limit on what concsim reads or runs, in one place (docs/scenarios.md, Limits).

Kept free of imports so that the command line can name them without loading the engine.
"""

from __future__ import annotations

MAX_FILE_BYTES = 1_000_000
"""The largest scenario, replay or keymap file read (1 MB): far above any real one."""

MAX_DURATION_S = 1_000_000
"""The longest duration, in seconds (about 11.6 days)."""

MAX_SEED = 2**64 - 1
"""Seeds are 0 to 2**64 - 1: any seed of ``random.Random`` a person would type."""

MIN_INT64, MAX_INT64 = -(2**63), 2**63 - 1
"""The range of a shared variable's initial value and of a write's ``add``."""

MAX_KB = 1_000_000.0
"""The largest ``arg_kb`` / ``result_kb``: 1 GB of arguments or results."""

DEFAULT_MAX_EVENTS = 500_000
"""A run stops after this many events, or this many steps run (about 5 s and 200 MB);
``--max-events`` changes it."""

MAX_SPEED = 64.0
"""The fastest playback, virtual seconds per second: as far as `]` goes in the app."""
