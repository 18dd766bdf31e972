"""Printed output wrapped for a narrow panel: at spaces, and a word too long for a line
broken where it has parts (``asyncio.exceptions.`` | ``CancelledError:``), folded only
where it has none."""

from __future__ import annotations

import re

from rich.cells import cell_len

_PARTS = re.compile(r"[^./_:-]*[./_:-]+|[^./_:-]+$")
"""A long word's pieces, each ending in the punctuation after which it may break."""


def wrap_words(line: str, width: int) -> list[str]:
    """``line`` as lines no wider than ``width`` cells: broken at spaces (the spaces that
    lead a line are kept, a traceback's indent); a word wider than a line is split after a
    ``.``, ``_``, ``/``, ``:`` or ``-`` where it has one, else folded at the width."""
    if width <= 0 or cell_len(line) <= width:
        return [line]
    indent = line[: len(line) - len(line.lstrip(" "))]
    lines: list[str] = []
    current = indent if cell_len(indent) < width else ""
    for word in line.split():
        gap = "" if current.strip() == "" else " "
        if cell_len(current) + len(gap) + cell_len(word) <= width:
            current += gap + word
            continue
        if current.strip():
            lines.append(current)
            current = ""
        for piece in _pieces(word, width):
            if cell_len(current) + cell_len(piece) <= width:
                current += piece
            else:
                if current:
                    lines.append(current)
                current = piece
    if current.strip():
        lines.append(current)
    return lines or [line]


def _pieces(word: str, width: int) -> list[str]:
    """A word in pieces no wider than ``width``: whole if it fits, else at its punctuation,
    a piece still too wide folded."""
    if cell_len(word) <= width:
        return [word]
    pieces: list[str] = []
    for part in _PARTS.findall(word):
        while cell_len(part) > width:
            pieces.append(part[:width])
            part = part[width:]
        if part:
            pieces.append(part)
    return pieces
