"""Colours from a Textual theme's variables, made readable on the background they are drawn on.

The palette names each colour by its theme role (``$success``, ``$error``, ``$warning``, …);
this module turns a theme's variables (``App.get_css_variables()``, or
``Theme.to_color_system().generate()``) into Rich colours. A role's colour that is too
faint on the theme's background (``$success`` on ``textual-light`` is 1.9:1) is blended
toward the theme's foreground until it reaches ``READABLE`` against every surface the lanes
draw on. ANSI themes name the terminal's own colours, which only the terminal knows: those
are used as they are.

Pure: no Textual import, so the headless text timeline uses it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from rich.color import Color, ColorParseError
from rich.color_triplet import ColorTriplet
from rich.style import Style

READABLE = 3.0
"""The least contrast of a glyph with its surface: WCAG 2.1's 3:1 for graphical objects
and large text (success criterion 1.4.11, non-text contrast)."""

TINT = 0.3  # a band is this much of its role's colour over the background


class Role(StrEnum):
    """A colour the palette asks of the theme: the theme variable's name."""

    BACKGROUND = "background"
    FOREGROUND = "foreground"
    MUTED = "foreground-muted"
    SUCCESS = "success"
    ERROR = "error"
    WARNING = "warning"
    ACCENT = "accent"
    PRIMARY = "primary"
    SECONDARY = "secondary"


@dataclass(frozen=True, slots=True)
class Ink:
    """How one palette entry is coloured: a glyph in ``fg``, or on a cell of ``bg`` (its
    glyph then black or white, whichever reads better), or a band of ``tint`` under glyphs."""

    fg: Role | None = None
    bg: Role | None = None
    tint: Role | None = None
    bold: bool = False
    underline: bool = False
    reverse: bool = False


# textual-dark's values of the roles (Theme.to_color_system().generate(), Textual 8): the
# colours of the headless text timeline, and of the app until it reads its theme.
DEFAULT_VARIABLES: dict[str, str] = {
    "background": "#121212",
    "foreground": "#E0E0E0",
    "foreground-muted": "#E0E0E099",
    "success": "#4EBF71",
    "error": "#B93C5B",
    "warning": "#FEA62B",
    "accent": "#FEA62B",
    "primary": "#0178D4",
    "secondary": "#004578",
}

_BLACK = ColorTriplet(0, 0, 0)
_WHITE = ColorTriplet(255, 255, 255)


def luminance(colour: ColorTriplet) -> float:
    """Relative luminance (WCAG 2.1, sRGB)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = colour
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: ColorTriplet, b: ColorTriplet) -> float:
    """The WCAG contrast ratio of two colours, from 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def blend(a: ColorTriplet, b: ColorTriplet, amount: float) -> ColorTriplet:
    """``amount`` of ``b`` over ``a``."""
    return ColorTriplet(*(round(x + (y - x) * amount) for x, y in zip(a, b, strict=True)))


def _hex(value: str, under: ColorTriplet | None) -> ColorTriplet | None:
    """A ``#RRGGBB`` or ``#RRGGBBAA`` value (its alpha over ``under``); None: not a hex."""
    text = value.strip().split()[0] if value.strip() else ""
    if not text.startswith("#") or len(text) not in (7, 9):
        return None
    try:
        rgb = ColorTriplet(int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16))
        alpha = int(text[7:9], 16) / 255 if len(text) == 9 else 1.0
    except ValueError:
        return None
    return rgb if alpha >= 1.0 or under is None else blend(under, rgb, alpha)


def _ansi(value: str) -> Color | None:
    """A theme's ``ansi_red`` as Rich's ``red`` (the terminal's own colour)."""
    name = value.strip().split()[0] if value.strip() else ""
    if not name.startswith("ansi_"):
        return None
    try:
        return Color.parse(name[5:])
    except ColorParseError:  # a name Rich does not know: no colour at all
        return None


class Inks:
    """The colours of one theme: resolve each ``Ink`` into a Rich style."""

    def __init__(self, variables: Mapping[str, str], tints: Iterable[Role] = ()) -> None:
        back = _hex(variables.get("background", ""), None)
        fore = _hex(variables.get("foreground", ""), back)
        self.variables = variables
        self.is_ansi = back is None or fore is None
        self.background = back or _BLACK
        self.foreground = fore or _WHITE
        self.surfaces = [self.background] + [self.tint(role) for role in tints]
        self._glyphs: dict[Role, ColorTriplet] = {}  # each role's readable colour, found once

    def raw(self, role: Role) -> ColorTriplet:
        """The role's colour as the theme gives it (alpha over the background)."""
        found = _hex(self.variables.get(role.value, ""), self.background)
        return found if found is not None else self.foreground

    def tint(self, role: Role) -> ColorTriplet:
        return blend(self.background, self.raw(role), TINT)

    def glyph(self, role: Role) -> ColorTriplet:
        """The role's colour, moved toward the foreground until it reads on every surface."""
        found = self._glyphs.get(role)
        if found is None:
            found = self._glyphs[role] = self._readable(role)
        return found

    def _readable(self, role: Role) -> ColorTriplet:
        colour = self.raw(role)
        # Toward the foreground first (the theme's own ink); should even that be faint on a
        # band (solarized-dark's foreground is 4.8:1 on its background), toward white or
        # black, whichever is further from the background.
        extreme = max((_BLACK, _WHITE), key=lambda c: contrast(c, self.background))
        for target in (self.foreground, extreme):
            for step in range(11):
                moved = blend(colour, target, step / 10)
                if min(contrast(moved, s) for s in self.surfaces) >= READABLE:
                    return moved
        return extreme

    def on(self, role: Role) -> tuple[ColorTriplet, ColorTriplet]:
        """A cell of the role's colour and its glyph's colour, black or white."""
        cell = self.raw(role)
        text = max((_BLACK, _WHITE), key=lambda c: contrast(c, cell))
        return cell, text

    def style(self, ink: Ink) -> Style:
        """The Rich style of ``ink`` in this theme."""
        colour = bgcolour = None
        if self.is_ansi:
            under = ink.bg or ink.tint
            colour = self._ansi(ink.fg) if ink.fg else None
            bgcolour = self._ansi(under) if under else None
        elif ink.bg is not None:
            cell, text = self.on(ink.bg)
            colour, bgcolour = Color.from_triplet(text), Color.from_triplet(cell)
        else:
            if ink.fg is not None:
                colour = Color.from_triplet(self.glyph(ink.fg))
            if ink.tint is not None:
                bgcolour = Color.from_triplet(self.tint(ink.tint))
        return Style(
            color=colour,
            bgcolor=bgcolour,
            bold=ink.bold or None,
            underline=ink.underline or None,
            reverse=ink.reverse or None,
        )

    def _ansi(self, role: Role) -> Color | None:
        if role in (Role.FOREGROUND, Role.MUTED):
            # ansi_default: the terminal's text colour, which a band or a dim glyph cannot be.
            return Color.parse("bright_black")
        return _ansi(self.variables.get(role.value, ""))
