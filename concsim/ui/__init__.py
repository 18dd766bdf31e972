"""The terminal app: worker lanes drawn from the event stream, with playback and fault keys."""
