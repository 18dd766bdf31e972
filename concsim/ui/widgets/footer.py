"""The footer of keys, changed in place: a key whose word or state changed is redrawn alone.

Textual's ``Footer`` composes itself anew (every key removed, every key mounted and styled
again, then the whole screen laid out) each time the screen's bindings may have changed:
each time the run is played or paused (the play key says ``Play`` or ``Pause``), a
screen is pushed or popped, the focus moves. Here the keys it would compose are compared
with those it shows: if they are the same keys in the same places, only the words,
tooltips and states that differ are copied over, and only a key whose width changed asks
for a new layout (of a footer one line high). Anything else is composed anew, as before.
A key whose word alternates (``Play``, ``Pause``) is as wide as its widest word
(``SteadyKey``): changing it never asks for a layout.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.compose import compose
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel


class SteadyKey(FooterKey):
    """A footer key as wide as the widest of its words: its word changes in place."""

    def __init__(self, *args: object, widest: int, **options: object) -> None:
        super().__init__(*args, **options)  # type: ignore[arg-type]
        self.widest = widest

    def render(self) -> Text:
        text = super().render()
        spare = self.widest - cell_len(self.description)
        if self.description and spare > 0:
            style = self.rich_style + self.get_component_rich_style("footer-key--description")
            text.append(" " * spare, style)
        return text


def _steady(key: FooterKey, words: Iterable[str]) -> SteadyKey:
    """``key`` as a ``SteadyKey`` as wide as the widest of ``words`` (and its own)."""
    steady = SteadyKey(
        key.key,
        key.key_display,
        key.description,
        key.action,
        disabled=key._disabled,
        tooltip=str(key.tooltip or ""),
        classes=" ".join(key.classes),
        widest=max(cell_len(word) for word in (*words, key.description)),
    )
    return steady.data_bind(compact=Footer.compact)


class KeysFooter(Footer):
    """``Footer``, whose keys change in place when only their words or states changed;
    ``steady`` names the actions whose key alternates between words, and the words."""

    def __init__(self, *, steady: Mapping[str, Iterable[str]] | None = None, **options: bool):
        super().__init__(**options)  # type: ignore[arg-type]
        self.steady = {action: tuple(words) for action, words in (steady or {}).items()}

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.action in self.steady:
                yield _steady(widget, self.steady[widget.action])
            else:
                yield widget

    recomposed = 0
    """Times the footer was composed anew (every key remounted), for the tests."""

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._update_keys)

    _composing = False
    """A recompose is under way: its keys are being removed and mounted."""

    async def recompose(self) -> None:
        self.recomposed += 1
        # A narrower screen asks twice (the footer's own reactive, and the bindings):
        # whichever comes first composes the keys, the other has nothing left to do.
        self._recompose_required = False
        self._composing, self._asked = True, False
        try:
            await super().recompose()
        finally:
            self._composing = False
        if self._asked:  # the bindings changed while the keys were mounted: compare again
            self.call_after_refresh(self._update_keys)

    _asked = False
    """The bindings changed during a recompose."""

    async def _update_keys(self) -> None:
        if self._composing:
            self._asked = True
            return
        if not self.is_attached or self._pruning or self._recompose_required:
            return
        wanted = compose(self)
        shown = list(self.query_children("*").exclude(".-textual-system"))
        if not _same_places(shown, wanted):
            await self.recompose()
            return
        for old, new in zip(_leaves(shown), _leaves(wanted), strict=True):
            if isinstance(old, FooterKey) and isinstance(new, FooterKey):
                _copy_key(old, new)
            elif (
                isinstance(old, FooterLabel)
                and isinstance(new, FooterLabel)
                and old.content != new.content
            ):
                old.update(new.content)


def _leaves(nodes: list[Widget]) -> list[Widget]:
    """The keys and labels, in order, of ``nodes`` (a group's from its children, composed
    or mounted)."""
    found: list[Widget] = []
    for node in nodes:
        children = list(node.children) or list(node._pending_children)
        if isinstance(node, FooterKey | FooterLabel) or not children:
            found.append(node)
        else:
            found.extend(_leaves(children))
    return found


def _same_places(shown: list[Widget], wanted: list[Widget]) -> bool:
    """Whether ``wanted`` (composed, not mounted) are the keys ``shown``, in the same groups
    and places, with the same classes (so the same styles)."""
    if len(shown) != len(wanted):
        return False
    for old, new in zip(shown, wanted, strict=True):
        if type(old) is not type(new):
            return False
        if isinstance(old, FooterKey) and isinstance(new, FooterKey):
            if (old.key, old.key_display, old.action) != (new.key, new.key_display, new.action):
                return False
            if (old.classes - {"-disabled", "-compact"}) != (
                new.classes - {"-disabled", "-compact"}
            ):
                return False
        elif not isinstance(old, FooterLabel) and not _same_places(
            list(old.children), list(new._pending_children)
        ):
            return False
    return True


def _copy_key(old: FooterKey, new: FooterKey) -> None:
    """``new``'s word, tooltip and state on ``old``; a new layout only if its width changed."""
    if old.tooltip != new.tooltip:
        old.tooltip = new.tooltip
    if old._disabled != new._disabled:
        old._disabled = new._disabled
        old.set_class(new._disabled, "-disabled")
    if old.description != new.description:
        wider = _width(old) != _width(new)
        old.description = new.description
        old.refresh(layout=wider)


def _width(key: FooterKey) -> int:
    """The cells ``key``'s word takes (a steady key's: at least its widest word's)."""
    width = cell_len(key.description)
    return max(width, key.widest) if isinstance(key, SteadyKey) else width
