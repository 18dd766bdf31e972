"""The notes' Markdown: Textual's widget, keeping the no-break spaces of the notes.

``glue_quantities`` joins each number to its unit with a no-break space so that ``0.5 s``
is never wrapped apart, and ``honour_no_break_spaces`` makes the line breaking keep it
whole. But Textual's Markdown collapses every run of white space in a paragraph's text to
one plain space (``MarkdownBlock._token_to_content``: ``re.sub(r"\\s+", " ", ...)``), and in
Python a no-break space is ``\\s``: the glue was gone before a line was wrapped. Here a
paragraph's no-break spaces are held as private-use characters through that step and put
back after it, so the wrapped paragraph still has them.
"""

from __future__ import annotations

from markdown_it.token import Token
from textual.content import Content
from textual.widgets import Markdown

NO_BREAK = "\u00a0\u202f\u2007"
"""The no-break spaces (``wrapping._GAPS`` never breaks at them)."""
_HELD = "\ue000\ue001\ue002"
"""Private-use characters, not white space, standing in for each of them."""
_HOLD = str.maketrans(NO_BREAK, _HELD)
_PUT_BACK = str.maketrans(_HELD, NO_BREAK)

_Paragraph = Markdown.BLOCKS["paragraph_open"]


class NotesParagraph(_Paragraph):  # type: ignore[misc,valid-type]
    """A paragraph whose text keeps its no-break spaces."""

    def build_from_token(self, token: Token) -> None:
        children = token.children
        if children is not None and any(
            child.type == "text" and not _plain(child.content) for child in children
        ):
            held = [
                child.copy(content=child.content.translate(_HOLD))
                if child.type == "text"
                else child
                for child in children
            ]
            token = token.copy(children=held)
        super().build_from_token(token)

    def set_content(self, content: Content) -> None:
        plain = content.plain
        if not _plain(plain, _HELD):
            content = Content(plain.translate(_PUT_BACK), spans=list(content.spans))
        super().set_content(content)


def _plain(text: str, marks: str = NO_BREAK) -> bool:
    """True if ``text`` has none of ``marks``."""
    return not any(mark in text for mark in marks)


class NotesMarkdown(Markdown):
    """Textual's Markdown whose paragraphs keep their no-break spaces (``NotesParagraph``)."""

    BLOCKS = {**Markdown.BLOCKS, "paragraph_open": NotesParagraph}
