"""threading and the GIL: how threads share one interpreter."""
