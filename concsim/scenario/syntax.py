"""YAML's own complaints and its YAML 1.1 surprises, as problems of a scenario file."""

from __future__ import annotations

import re

import yaml
from yaml.nodes import Node, ScalarNode

from concsim.scenario.errors import FILE, Problem

CORE = "tag:yaml.org,2002:"
_BOOL_WORDS = {"yes", "no", "on", "off", "y", "n"}
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_OCTAL = re.compile(r"^[-+]?0[0-7_]+$")
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def mark_problem(path: str, error: yaml.MarkedYAMLError, text: str) -> Problem:
    """A YAML syntax error at the position YAML gives, in YAML's words plus a hint."""
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if error.problem == "but found another document":
        return Problem(
            path, line, col, FILE, "a second document starts here; expected one scenario per file"
        )
    message = f"invalid YAML: {error.problem or error.context or 'cannot parse'}"
    if error.context and error.problem and error.context_mark:
        where = f"{error.context_mark.line + 1}:{error.context_mark.column + 1}"
        message += f" ({error.context} at {where})"
    lines = text.splitlines()
    if "tab" not in message and 0 < line <= len(lines) and "\t" in lines[line - 1][:col]:
        message += "; indent with spaces, not tabs"
    return Problem(path, line, col, FILE, message)


def reader_problem(path: str, error: yaml.YAMLError, text: str) -> Problem:
    """A character YAML refuses (NUL, a control code), placed by its index in the text."""
    position = getattr(error, "position", 0)
    before = text[:position]
    line, col = before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1
    reason = getattr(error, "reason", None) or str(error).splitlines()[0]
    character = getattr(error, "character", None)
    if isinstance(character, str) and character:
        character = ord(character[0])
    code = f" U+{character:04X}" if isinstance(character, int) else ""
    return Problem(
        path,
        line,
        col,
        FILE,
        f"invalid YAML: character{code} is not allowed ({reason}); expected printable text",
    )


def yaml11_trap(node: Node) -> str | None:
    """YAML 1.1 reads some plain words and numbers as something the author did not mean."""
    if not isinstance(node, ScalarNode) or node.style not in (None, ""):
        return None  # quoted text is always text
    text = node.value
    if node.tag == CORE + "bool" and text.lower() in _BOOL_WORDS:
        word = "true" if text.lower() in {"yes", "on", "y"} else "false"
        return (
            f"`{text}` is read as {word} (YAML 1.1); write {word}, or quote it "
            f'("{text}") to mean the text'
        )
    if node.tag in {CORE + "int", CORE + "float"} and _SEXAGESIMAL.match(text):
        number = _Loader("").construct_object(node)
        return (
            f"`{text}` is read as the number {number} (YAML 1.1 base 60); quote it "
            f'("{text}") to mean the text'
        )
    if node.tag == CORE + "int" and _OCTAL.match(text):
        number = _Loader("").construct_object(node)
        return (
            f"`{text}` is read as the octal number {number} (YAML 1.1); write it without "
            "the leading 0, or quote it"
        )
    return None
