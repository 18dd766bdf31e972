"""The user's settings file, ``settings.toml`` beside the keymap: the theme chosen last.

Written when the theme changes (Ctrl+P, "Change theme"), read when the app starts without
a theme given. A file that cannot be read is ignored: the default theme is used.
"""

from __future__ import annotations

from pathlib import Path

from concsim.files import FileRefused, read_small_file
from concsim.ui.keymap import keymap_path

SETTINGS_LIMIT = 16 * 1024


def settings_path() -> Path:
    """``settings.toml`` in the configuration folder, where ``keymap.toml`` is."""
    return keymap_path().with_name("settings.toml")


def load_theme(path: Path | None = None) -> str | None:
    """The theme saved last, or None (no file, not readable, no theme in it)."""
    path = path or settings_path()
    try:
        raw = read_small_file(path, SETTINGS_LIMIT)
    except (FileRefused, OSError):
        return None
    import tomllib  # only with a file to read: importing it costs a start without one ~8 ms

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    theme = data.get("theme")
    return theme if isinstance(theme, str) and theme else None


def save_theme(theme: str, path: Path | None = None) -> Path:
    """Remember ``theme``: the file holds one ``theme = "NAME"`` line."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    escaped = theme.replace("\\", "\\\\").replace('"', '\\"')
    path.write_text(f'theme = "{escaped}"\n', encoding="utf-8")
    return path
