"""A line buffer that knows its indentation and which line stands for which step."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from .sites import Path, Site, SiteKind

INDENT = "    "
MODULES = re.compile(
    r"\b(asyncio|functools|hashlib|logging|multiprocessing|queue|sys|threading|time)\."
)
"""Standard modules a line may use as ``module.name``; ``line`` imports them."""
WIDTH = 100


def _wrap(code: str) -> tuple[str, str, str] | None:
    """``f(a, b)`` too long for a line as ``f(`` / ``a, b`` / ``)``, the way ruff format
    splits a call: at the first bracket whose partner ends the line (before ``,`` or ``:``)."""
    end = len(code.rstrip(",:"))
    opening = code.find("(")
    if opening < 0:
        return None
    depth = 0
    quote = ""
    for index in range(opening, end):
        char = code[index]
        if quote:
            if char == quote and code[index - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                if index != end - 1:
                    return None
                return code[: opening + 1], code[opening + 1 : index], code[index:]
    return None


class Writer:
    """Lines of code, each optionally tied to a :class:`Site`; also the imports they need."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sites: dict[int, Site] = {}  # 0-based index into ``lines``
        self.depth = 0
        self.imports: set[str] = set()  # ``import X``
        self.from_imports: dict[str, set[str]] = {}  # ``from X import a, b``

    def line(
        self,
        code: str,
        *,
        owner: str | None = None,
        kind: SiteKind | None = None,
        label: str = "",
        path: Path = (),
        comment: str | None = None,
    ) -> None:
        """Write one line; with ``kind``, the line stands for that site."""
        self.imports.update(MODULES.findall(code))
        pad = INDENT * self.depth
        text = pad + code
        if comment and comment.strip() != code.strip():
            text += "  # " + comment.replace("\n", " ")
        if kind is not None:
            assert owner is not None
            self.sites[len(self.lines)] = Site(owner, kind, label, path)
        parts = _wrap(code) if len(pad + code) > WIDTH else None
        if parts is None:
            self.lines.append(text)
            return
        head, inner, tail = parts  # the comment goes with the line the site is on
        self.lines.append(text[: len(pad + head)] + text[len(pad + code) :])
        loop = inner.rfind(" for i in range(")
        if len(pad + INDENT + inner) > WIDTH and loop > 0:  # a generator: its for on a line
            self.lines += [pad + INDENT + inner[:loop], pad + INDENT + inner[loop + 1 :]]
        else:
            self.lines.append(pad + INDENT + inner)
        self.lines.append(pad + tail)

    def blank(self) -> None:
        self.lines.append("")

    @contextmanager
    def indented(self) -> Iterator[None]:
        self.depth += 1
        start = len(self.lines)
        try:
            yield
        finally:
            if len(self.lines) == start:
                self.line("pass")
            self.depth -= 1

    def need(self, module: str, *names: str) -> None:
        """Record ``import module`` (no names) or ``from module import names``."""
        if names:
            self.from_imports.setdefault(module, set()).update(names)
        else:
            self.imports.add(module)

    def extend(self, other: Writer) -> None:
        """Append another writer's lines (at its own indentation) with their sites."""
        offset = len(self.lines)
        for index, site in other.sites.items():
            self.sites[offset + index] = site
        self.lines.extend(INDENT * self.depth + line if line else line for line in other.lines)
        self.imports |= other.imports
        for module, names in other.from_imports.items():
            self.need(module, *names)


def display(
    w: Writer, head: str, items: list[str], tail: str, brackets: str = "[]", **site: object
) -> None:
    """``head[a, b, c]tail`` on one line if it fits in 100 columns, else one item a line.
    The site (if any) is on the first line. ``brackets=""``: the items are arguments."""
    opening, closing = (brackets[0], brackets[1]) if brackets else ("", "")
    one = f"{head}{opening}{', '.join(items)}{closing}{tail}"
    if len(INDENT * w.depth + one) <= WIDTH or len(items) < 2:
        w.line(one, **site)  # type: ignore[arg-type]
        return
    w.line(f"{head}{opening}", **site)  # type: ignore[arg-type]
    with w.indented():
        for item in items:
            w.line(item + ",")
    w.line(f"{closing}{tail}")
