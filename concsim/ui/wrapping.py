"""Printed output wrapped for a narrow panel: at spaces, and a word too long for a line
broken where it has parts (``asyncio.exceptions.`` | ``CancelledError:``), folded only
where it has none.

A quantity is never broken: a number stays with its unit (``0.5 s``, ``5 ms``), and a
word is never broken inside a number (``3.11``, ``1,000``) nor between a name and its
number (``job-2``, a times sign's ``1``). A no-break space (U+00A0, U+202F, U+2007) joins what it
stands between, as Unicode line breaking has it.
"""

from __future__ import annotations

import re

from rich.cells import cell_len

_GAPS = re.compile(r"[^\S\u00a0\u202f\u2007]+")
"""The spaces a line may break at: any white space but the no-break ones."""
_NUMBER_END = re.compile(r"\d[)\]]?$")
"""A word that ends with a number (``0.5``, ``(5``): a unit after it is glued to it."""
_UNIT = re.compile(r"(?:s|ms|us|µs|ns|min|h|%)(?![\w\d])")
"""A word that is a unit of time (or a percentage), maybe with punctuation after it."""
_BREAK_AFTER = frozenset("./_:-")
"""Where a long word may break: after one of these, unless inside a number or a name's
number (see ``_breaks``)."""


_QUANTITY = re.compile(r"(?<![\w.])(\d[\d.,]*) ((?:s|ms|us|µs|ns|min|h|%)(?!\w))")
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.DOTALL)
_NO_BREAK_WORD = re.compile(
    r"[^\S\u00a0\u202f\u2007]*[\S\u00a0\u202f\u2007]+[^\S\u00a0\u202f\u2007]*"
)


def glue_quantities(markdown: str) -> str:
    """``markdown`` with each number joined to its unit by a no-break space (``0.5 s``,
    ``5 ms``), outside code, where a space is the program's own."""
    parts = _CODE.split(markdown)
    return "".join(
        part if k % 2 else _QUANTITY.sub("\\1\u00a0\\2", part) for k, part in enumerate(parts)
    )


def honour_no_break_spaces() -> None:
    """Make Rich's line breaking (which Textual's Markdown wraps with) keep a no-break space
    whole: its words are runs of ``\\S``, and in Python a no-break space is ``\\s``, so it
    breaks there (Textualize/rich#4196). Text with no such space wraps as before. A Rich
    without that private pattern is left alone (tests/test_wrapping.py notices)."""
    try:
        import rich._wrap as wrap
    except ImportError:  # pragma: no cover - a Rich that moved its line breaking
        return
    if hasattr(wrap, "re_word"):
        wrap.re_word = _NO_BREAK_WORD


def wrap_words(line: str, width: int) -> list[str]:
    """``line`` as lines no wider than ``width`` cells: broken at spaces (the spaces that
    lead a line are kept, a traceback's indent), never between a number and its unit; a
    word wider than a line is split after a ``.``, ``_``, ``/``, ``:`` or ``-`` where it
    has one (not inside a number: ``3.11``, ``job-2``), else folded at the width."""
    if width <= 0 or cell_len(line) <= width:
        return [line]
    indent = line[: len(line) - len(line.lstrip(" "))]
    lines: list[str] = []
    current = indent if cell_len(indent) < width else ""
    for word in _words(line):
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


def _words(line: str) -> list[str]:
    """The line's words between the spaces it may break at, a unit glued to the number
    before it (``0.5 s`` is one word)."""
    words: list[str] = []
    for word in _GAPS.split(line.strip(" ")):
        if not word:
            continue
        if words and _UNIT.match(word) and _NUMBER_END.search(words[-1]):
            words[-1] += " " + word
        else:
            words.append(word)
    return words


def _pieces(word: str, width: int) -> list[str]:
    """A word in pieces no wider than ``width``: whole if it fits, else at its punctuation,
    a piece still too wide folded (never inside a number if the number fits a line)."""
    if cell_len(word) <= width:
        return [word]
    pieces: list[str] = []
    start = 0
    for end in [*_breaks(word), len(word)]:
        part = word[start:end]
        start = end
        while cell_len(part) > width:
            cut = _fold_at(part, width)
            pieces.append(part[:cut])
            part = part[cut:]
        if part:
            pieces.append(part)
    return pieces


def _breaks(word: str) -> list[int]:
    """Where ``word`` may break: after its punctuation, except between two digits
    (``3.11``, ``1:30``) and before a digit after a ``-`` (``job-2``)."""
    found = []
    for k in range(1, len(word)):
        mark, after = word[k - 1], word[k]
        if mark not in _BREAK_AFTER or mark == word[k]:
            continue
        if after.isdigit() and (mark == "-" or (k >= 2 and word[k - 2].isdigit())):
            continue
        found.append(k)
    return found


def _fold_at(part: str, width: int) -> int:
    """Where to fold ``part`` (wider than ``width``): at the width, moved back to the
    start of the number it would cut, when that leaves something on the line."""
    cut = width
    while cut > 0 and cell_len(part[:cut]) > width:
        cut -= 1
    back = cut
    while back > 0 and _in_number(part, back):
        back -= 1
    return back if back > 0 else max(cut, 1)


def _in_number(text: str, k: int) -> bool:
    """Whether a cut before ``text[k]`` falls inside a number or between a name and its
    number (``3|.11``, ``job|-2``, a times sign and its ``1``)."""
    before, after = text[k - 1], text[k]
    if after.isdigit():
        return before.isdigit() or before in ".,:-+\u00d7"
    return after in ".,:-" and before.isalnum() and k + 1 < len(text) and text[k + 1].isdigit()
