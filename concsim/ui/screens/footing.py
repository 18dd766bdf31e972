"""The run screen's footer at 80 columns: every key it shows and ``^p palette`` in one line.

A base of ``RunScreen``. Below ``EVERY_KEY`` columns the footer leaves out two keys that help
(``?``) and the command palette still name, so that the palette's own key, the way to every
other action, stays in view at the right.
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import ActiveBinding
from textual.screen import Screen
from textual.widgets import Footer

WIDE_ONLY = frozenset({"code", "why"})
"""Binding ids the footer shows only on a wide terminal (``o`` Code, ``w`` Why)."""
EVERY_KEY = 90
"""From this many columns the footer shows every key it has and ``^p palette``."""


PLAY, PAUSE = "play", "Pause"
"""The play/pause binding's id, and its word in the footer while the run plays."""


class Footing(Screen[None]):
    """Below ``EVERY_KEY`` columns (``-tight``) the footer leaves ``WIDE_ONLY`` out; while
    the run plays, the play/pause key says what it does now: ``Pause``."""

    @property
    def is_playing(self) -> bool:
        """Whether the run plays now (the run screen's ``playing``)."""
        return False

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        found = super().active_bindings
        tight = self.has_class("-tight")
        playing = self.is_playing
        if not tight and not playing:
            return found
        shown: dict[str, ActiveBinding] = {}
        for key, active in found.items():
            binding = active.binding
            if tight and binding.id in WIDE_ONLY:
                binding = replace(binding, show=False)
            if playing and binding.id == PLAY:
                binding = replace(binding, description=PAUSE)
            shown[key] = active if binding is active.binding else active._replace(binding=binding)
        return shown

    def lay_out_footer(self, width: int) -> None:
        """The footer composed anew for this width (it lays out its keys when composed)."""
        tight = width < EVERY_KEY
        if self.has_class("-tight") != tight:
            self.set_class(tight, "-tight")
            self.query_one(Footer).refresh(recompose=True)
