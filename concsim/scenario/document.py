"""A YAML document read safely: its plain data, where each value sits, and YAML-level traps."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from concsim.scenario.errors import FILE, Problem, ScenarioError, describe
from concsim.scenario.syntax import CORE, mark_problem, reader_problem, yaml11_trap

# libyaml parses and composes in C; the pure-Python loader gives the same nodes, only slower.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Loc = tuple[Any, ...]
"""A path into the data: mapping keys and list indices, e.g. ``("tasks", 1, "steps", 0)``."""

_CORE = CORE
_PLAIN_TAGS = {_CORE + name for name in ("str", "int", "float", "bool", "null", "seq", "map")}
_MERGE = _CORE + "merge"

_SCALAR_TAGS = {_CORE + name for name in ("int", "float", "bool")}
_TAG_EXPECTS = {"int": "an integer", "float": "a number", "bool": "true or false"}

MAX_NUMBER_DIGITS = 4300
"""Python reads integers of at most 4300 digits (``sys.get_int_max_str_digits``)."""
MAX_VALUES = 100_000
"""Aliases can make a small file expand to billions of values; a scenario never needs this many."""
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Spot:
    """Where a value sits: its key's node (None for a list item or the top) and its own node."""

    key: Node | None
    value: Node


@dataclass
class Document:
    """The data of one YAML file and the node of every value in it, from the same parse."""

    path: str
    data: Any
    spots: dict[Loc, Spot]
    problems: list[Problem] = field(default_factory=list)
    """YAML-level problems that do not stop validation: duplicate keys, YAML 1.1 traps."""

    def spot(self, loc: Loc) -> Spot:
        """The spot of ``loc``, or of its nearest ancestor when the value is missing."""
        for end in range(len(loc), -1, -1):
            found = self.spots.get(loc[:end])
            if found is not None:
                return found
        raise KeyError(loc)  # the top () is always present

    def problem(self, loc: Loc, message: str, *, at_key: bool = False) -> Problem:
        """A problem at ``loc``'s value, or at its key (an unknown or duplicate key)."""
        spot = self.spot(loc)
        node = spot.key if at_key and spot.key is not None else spot.value
        return _problem_at(self.path, node, self.dotted(loc), message)

    def warning(self, loc: Loc, message: str) -> Problem:
        """A warning at ``loc``'s key: the option is valid, but nothing will use it."""
        return replace(self.problem(loc, message, at_key=True), warning=True)

    def dotted(self, loc: Loc) -> str:
        """``tasks[1].steps[0].io``: keys as written in the file, list items as ``[i]``."""
        return dotted(loc, self.spots)


def dotted(loc: Loc, spots: dict[Loc, Spot] | None = None) -> str:
    """A path for people; a key that is not a plain word is shown in brackets, quoted."""
    text = ""
    for end, part in enumerate(loc, start=1):
        if isinstance(part, int) and not isinstance(part, bool) and not _is_key(loc[:end], spots):
            text += f"[{part}]"
            continue
        word = _key_text(loc[:end], part, spots)
        if re.fullmatch(r"[A-Za-z_][\w\-]*", word):
            text += f".{word}"
        else:  # quoted, so that a key with spaces or dots still reads as one key
            text += f"[{json.dumps(word, ensure_ascii=False) if isinstance(part, str) else word}]"
    return text.lstrip(".") or FILE


def _is_key(loc: Loc, spots: dict[Loc, Spot] | None) -> bool:
    spot = spots.get(loc) if spots else None
    return spot is not None and spot.key is not None


def _key_text(loc: Loc, part: Any, spots: dict[Loc, Spot] | None) -> str:
    spot = spots.get(loc) if spots else None
    if spot is not None and isinstance(spot.key, ScalarNode):
        return str(spot.key.value)  # as written: `on`, not true
    return part if isinstance(part, str) else describe(part)


def _problem_at(path: str, node: Node, dotted_path: str, message: str) -> Problem:
    mark = node.start_mark
    return Problem(path, mark.line + 1, mark.column + 1, dotted_path, message)


class _TooBig(Exception):
    pass


class _Walker:
    """Walks the node tree once: records every value's spot and finds YAML-level problems."""

    def __init__(self, loader: yaml.SafeLoader, path: str) -> None:
        self.loader = loader
        self.path = path
        self.spots: dict[Loc, Spot] = {}
        self.problems: list[Problem] = []
        self.fatal: list[Problem] = []
        self.reported: set[int] = set()
        self.count = 0

    def walk(self, node: Node, loc: Loc, key: Node | None, stack: tuple[int, ...]) -> None:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooBig
        if id(node) in stack:
            self._fatal(
                node,
                loc,
                "an alias refers to a value that contains it; expected a value without a cycle",
            )
            return
        if len(stack) > MAX_DEPTH:
            self._fatal(node, loc, f"nested more than {MAX_DEPTH} levels deep")
            return
        self.spots[loc] = Spot(key, node)  # the last assignment wins, as in the data
        self._check_tag(node, loc)
        stack = (*stack, id(node))
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, (*loc, index), None, stack)
        elif isinstance(node, MappingNode):
            for key_node, value_node, key_value in self._pairs(node, loc):
                self.walk(value_node, (*loc, key_value), key_node, stack)

    def _pairs(
        self, node: MappingNode, loc: Loc, merging: frozenset[int] = frozenset()
    ) -> list[tuple[Node, Node, Any]]:
        # `<<: *anchor` merges are resolved here, on the nodes, before anything is
        # constructed: of merged mappings the first one listed wins, and the mapping's own
        # keys win over merged ones (the YAML merge rule). The constructor then sees plain
        # pairs, so the data and the recorded positions cannot disagree.
        merging = merging | {id(node)}
        merged: list[tuple[Node, Node, Any]] = []
        own: list[tuple[Node, Node, Any]] = []
        first: dict[Any, Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, MappingNode):
                        self._fatal(
                            source,
                            loc,
                            "`<<` merges a mapping; expected a mapping or a list of mappings",
                        )
                    elif id(source) in merging:
                        message = "a mapping merges itself (`<<`); expected another mapping"
                        self._fatal(source, loc, message)
                    else:
                        merged.extend(self._pairs(source, loc, merging))
                continue
            value = self._key(key_node, loc)
            if value is not _UNHASHABLE and value in first and id(key_node) not in self.reported:
                self.reported.add(id(key_node))
                mark = first[value].start_mark
                where = f"{mark.line + 1}:{mark.column + 1}"
                message = f"duplicate key `{key_node.value}` (first at {where})"
                self.problems.append(
                    _problem_at(self.path, key_node, dotted((*loc, value)), message)
                )
            if value is not _UNHASHABLE:
                first.setdefault(value, key_node)
            own.append((key_node, value_node, value))
        kept: list[tuple[Node, Node, Any]] = []
        for pair in merged:
            if pair[2] not in first:
                first[pair[2]] = pair[0]
                kept.append(pair)
        node.value = [(key, value) for key, value, _ in kept + own]
        # An unhashable key stays in the node for the constructor to report, with its place.
        return [pair for pair in kept + own if pair[2] is not _UNHASHABLE]

    def _key(self, node: Node, loc: Loc) -> Any:
        self._check_tag(node, loc, is_key=True)
        if not isinstance(node, ScalarNode) or node.tag not in _PLAIN_TAGS:
            return _UNHASHABLE
        if node.tag == _CORE + "str":
            return node.value  # the common case, without the constructor's bookkeeping
        return self.loader.construct_object(node)

    def _check_tag(self, node: Node, loc: Loc, *, is_key: bool = False) -> None:
        if id(node) in self.reported:
            return
        tag = node.tag
        if isinstance(node, ScalarNode) and tag in _SCALAR_TAGS:
            wrong = self._wrong_scalar(node)
            if wrong:
                self.reported.add(id(node))
                where = (*loc, node.value) if is_key else loc
                self.problems.append(_problem_at(self.path, node, dotted(where), wrong))
                node.tag = _CORE + "str"  # read as text; this line stands for the value
                return
        if tag in _PLAIN_TAGS or tag == _MERGE:
            trap = yaml11_trap(node)
            if trap:
                self.reported.add(id(node))
                where = (*loc, node.value) if is_key else loc
                self.problems.append(_problem_at(self.path, node, dotted(where), trap))
            return
        self.reported.add(id(node))
        if tag == _CORE + "timestamp":
            message = (
                f'`{node.value}` is read as a date; expected text, so quote it ("{node.value}")'
            )
        else:
            shown = "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag
            message = (
                f"tag `{shown}` is not allowed; expected plain YAML values (text, "
                "numbers, true/false, lists and mappings)"
            )
        where = (*loc, node.value) if is_key and isinstance(node, ScalarNode) else loc
        self.problems.append(_problem_at(self.path, node, dotted(where), message))
        # Read it as the plain value it spells, so the rest of the file is still checked
        # (and nothing but plain YAML is ever constructed); the loader shows this line
        # instead of any complaint about the same value.
        if isinstance(node, ScalarNode):
            node.tag = _CORE + "str"
        elif isinstance(node, SequenceNode):
            node.tag = _CORE + "seq"
        else:
            node.tag = _CORE + "map"

    def _wrong_scalar(self, node: ScalarNode) -> str | None:
        """A number or boolean YAML cannot make of its text: more digits than Python reads
        (``int()`` stops at 4300), or a core tag on the wrong text (``!!int abc``)."""
        text = node.value
        kind = node.tag[len(_CORE) :]
        if kind in ("int", "float") and len(text) > MAX_NUMBER_DIGITS:
            return (
                f"a number of {len(text)} characters; expected a number of at most "
                f"{MAX_NUMBER_DIGITS} digits"
            )
        try:
            self.loader.construct_object(node)
        except (ValueError, KeyError, IndexError, OverflowError, TypeError, yaml.YAMLError):
            # The constructor marks a node as in progress and leaves the mark on an error.
            self.loader.recursive_objects.pop(node, None)
            shown = describe(text) if text else "nothing"
            return f"`!!{kind}` on {shown}; expected {_TAG_EXPECTS[kind]}, or no tag"
        return None

    def _fatal(self, node: Node, loc: Loc, message: str) -> None:
        self.fatal.append(_problem_at(self.path, node, dotted(loc), message))


_UNHASHABLE = object()


def read_document(text: str, path: str) -> Document:
    """Parse ``text`` safely; raise ScenarioError for problems that leave no data to check."""
    if _too_many_nodes(text):
        raise ScenarioError.one(path, FILE, _TOO_BIG.format(MAX_VALUES))
    loader = _Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            raise ScenarioError([mark_problem(path, error, text)]) from None
        except yaml.YAMLError as error:  # a reader error: a character YAML does not allow
            raise ScenarioError([reader_problem(path, error, text)]) from None
        if root is None or (root.tag == _CORE + "null" and isinstance(root, ScalarNode)):
            raise ScenarioError.one(
                path, FILE, "the file is empty; expected a scenario mapping with at least `name:`"
            )
        walker = _Walker(loader, path)
        try:
            walker.walk(root, (), None, ())
        except _TooBig:
            raise ScenarioError.one(path, FILE, _TOO_BIG.format(MAX_VALUES)) from None
        if walker.fatal:
            raise ScenarioError(walker.fatal + walker.problems)
        try:
            data = loader.construct_document(root)
        except yaml.MarkedYAMLError as error:
            raise ScenarioError([mark_problem(path, error, text), *walker.problems]) from None
        return Document(path, data, walker.spots, walker.problems)
    finally:
        loader.dispose()


_TOO_BIG = (
    "more than {} values (aliases count each time they are used); expected a smaller scenario"
)
_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent)


def _too_many_nodes(text: str) -> bool:
    """Whether the text surely holds more than ``MAX_VALUES`` values (keys aside) before any
    alias is expanded.

    Building the node tree costs ten times what parsing does, so a big file is counted
    with the parser first and refused before it is built. A syntax error stops the count:
    building the tree then reports it, at its place.
    """
    if len(text) < 2 * MAX_VALUES:
        return False  # each value takes at least two characters: too short to be too big
    loader = _Loader(text)
    count = 0
    try:
        while loader.check_event():
            if isinstance(loader.get_event(), _NODE_EVENTS):  # type: ignore[no-untyped-call]
                count += 1
                if count > 2 * MAX_VALUES:  # values and their keys
                    return True
    except yaml.YAMLError:
        return False
    finally:
        loader.dispose()
    return False
