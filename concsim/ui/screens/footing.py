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


class Footing(Screen[None]):
    """Below ``EVERY_KEY`` columns (``-tight``) the footer leaves ``WIDE_ONLY`` out."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        found = super().active_bindings
        if not self.has_class("-tight"):
            return found
        return {
            key: active._replace(binding=replace(active.binding, show=False))
            if active.binding.id in WIDE_ONLY
            else active
            for key, active in found.items()
        }

    def lay_out_footer(self, width: int) -> None:
        """The footer composed anew for this width (it lays out its keys when composed)."""
        tight = width < EVERY_KEY
        if self.has_class("-tight") != tight:
            self.set_class(tight, "-tight")
            self.query_one(Footer).refresh(recompose=True)
