"""Key names as Textual makes them from what a terminal sends, and as a person reads them.

A terminal sends characters and escape sequences; Textual's parser turns a printable
character into a name with ``textual.keys._character_to_key`` (``.`` is ``full_stop``, ``[``
is ``left_square_bracket``, ``+`` is ``plus``) and a sequence into a name of ``textual.keys.Keys``
(``end``, ``up``, ``ctrl+c``). A binding on any other name, such as ``period``, never fires.
People write keys their own way in the keymap file, so ``.``, ``period`` and ``full_stop``
all mean the same key there.
"""

from __future__ import annotations

import unicodedata

from textual.keys import (
    KEY_NAME_REPLACEMENTS,
    REPLACED_KEYS,
    Keys,
    _character_to_key,
    _get_unicode_name_from_key,
)

MODIFIERS = ("alt", "ctrl", "hyper", "meta", "shift", "super")
"""In the order Textual's parser joins them (sorted), before the key: ``ctrl+shift+left``."""

NAMED_KEYS = frozenset(
    key.value for key in Keys if "+" not in key.value and not key.value.startswith("<")
)
"""Keys that are not a character: ``end``, ``up``, ``f5``, ``space``, ``enter``, ..."""

ALIASES = {
    "period": "full_stop",
    "dot": "full_stop",
    "esc": "escape",
    "return": "enter",
    "del": "delete",
    "pgup": "pageup",
    "pgdn": "pagedown",
    "lbracket": "left_square_bracket",
    "rbracket": "right_square_bracket",
    "equals": "equals_sign",
    "equal": "equals_sign",
    "question": "question_mark",
}
"""Names people use for a key that Textual calls otherwise (keymap files may use either)."""


def is_terminal_key(key: str) -> bool:
    """True if Textual's parser can produce ``key`` (modifiers included) from a terminal."""
    *modifiers, base = key.split("+")
    if any(modifier not in MODIFIERS for modifier in modifiers) or not base:
        return False
    if base in NAMED_KEYS:
        return True
    # A character's key: the name must round-trip through the character it stands for,
    # exactly as textual.app.App._press_keys and the xterm parser compute it.
    original = REPLACED_KEYS.get(base, base)
    try:
        character = unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        character = base if len(base) == 1 else ""
    return character.isprintable() and len(character) == 1 and _character_to_key(character) == base


def terminal_key(text: str) -> str | None:
    """``"."``, ``"period"`` or ``"full_stop"`` -> ``"full_stop"``; None if no key has the name.

    Modifiers come first and are put in Textual's order: ``"shift+ctrl+up"`` ->
    ``"ctrl+shift+up"``.
    """
    text = text.strip()
    if len(text) == 1:
        key = _character_to_key(text)
        return key if is_terminal_key(key) else None
    *modifiers, base = text.split("+")
    if len(base) == 1:
        base = _character_to_key(base)
    else:
        base = ALIASES.get(base.lower(), base)
        if base.lower() in NAMED_KEYS:
            base = base.lower()
    base = KEY_NAME_REPLACEMENTS.get(base, base)
    key = "+".join([*sorted(m.lower() for m in modifiers), base])
    return key if is_terminal_key(key) else None
