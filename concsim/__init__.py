"""concsim: see Python concurrency — a deterministic simulator with live worker lanes."""

__version__ = "0.1.0"
