"""Every key binding fires on what a real terminal sends, and the keymap file means the same keys.

Pilot can press any name, even one no terminal produces (``period``), so a binding on such a
name passes every Pilot test and does nothing in a real terminal. Here each binding's keys are
checked against Textual's own parser fed the bytes a terminal sends.
"""

from __future__ import annotations

import tomllib
import unicodedata
from pathlib import Path

import pytest
from textual._xterm_parser import XTermParser
from textual.binding import Binding
from textual.keys import REPLACED_KEYS, _get_unicode_name_from_key

from concsim.ui.keymap import (
    APP_BINDINGS,
    BROWSER_BINDINGS,
    RUN_BINDINGS,
    load_keymap,
    parse_keymap,
)
from concsim.ui.keynames import is_terminal_key, terminal_key
from concsim.ui.screens.help import HelpScreen

# What a terminal (xterm, tmux) sends for keys that are not a character.
SEQUENCES = {
    "space": " ",
    "enter": "\r",
    "escape": "\x1b",
    "up": "\x1b[A",
    "down": "\x1b[B",
    "right": "\x1b[C",
    "left": "\x1b[D",
    "shift+right": "\x1b[1;2C",
    "shift+left": "\x1b[1;2D",
    "home": "\x1b[H",
    "end": "\x1b[F",
    "delete": "\x1b[3~",
    "pageup": "\x1b[5~",
    "pagedown": "\x1b[6~",
    "backspace": "\x7f",
    "ctrl+c": "\x03",
}

SCREENS = {
    "run": RUN_BINDINGS,
    "browser": BROWSER_BINDINGS,
    "app": APP_BINDINGS,
    "help": [b for b in HelpScreen.BINDINGS if isinstance(b, Binding)],
}


def sent_by_terminal(key: str) -> str:
    """The bytes a terminal sends for ``key``: its character, or its escape sequence."""
    if key in SEQUENCES:
        return SEQUENCES[key]
    if len(key) == 1:
        return key
    return unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))


def parsed(sequence: str) -> list[str]:
    """The key names Textual's parser makes of ``sequence`` (escape alone needs the EOF)."""
    parser = XTermParser()
    events = [*parser.feed(sequence), *parser.feed("")]
    return [event.key for event in events if hasattr(event, "key")]


def all_keys() -> list[tuple[str, str, str]]:
    return [
        (screen, binding.id or binding.action, key)
        for screen, bindings in SCREENS.items()
        for binding in bindings
        for key in binding.key.split(",")
    ]


@pytest.mark.parametrize(("screen", "binding", "key"), all_keys())
def test_each_binding_key_is_what_the_terminal_sends(screen: str, binding: str, key: str) -> None:
    """GIVEN a binding's key, WHEN a terminal sends that key's bytes, THEN Textual's parser
    names it exactly as the binding does."""
    assert is_terminal_key(key), f"{screen}/{binding}: Textual never produces {key!r}"
    assert parsed(sent_by_terminal(key)) == [key]


@pytest.mark.parametrize(
    ("character", "binding"),
    [
        (".", "step"),
        (",", "step_back"),
        (">", "to_next_mark"),
        ("<", "to_prev_mark"),
        ("g", "seek"),
        ("\x1b[1;2C", "pan_later"),
        ("\x1b[1;2D", "pan_earlier"),
        ("[", "slower"),
        ("]", "faster"),
        ("?", "help"),
        ("+", "zoom_in"),
        ("=", "zoom_in"),
        ("-", "zoom_out"),
        ("0", "zoom_fit"),
        ("V", "prev_variant"),
        (" ", "play"),
        ("\x1b[F", "to_end"),
        ("\x03", "quit_now"),
    ],
)
def test_a_terminal_character_reaches_its_binding(character: str, binding: str) -> None:
    """The characters the README names reach the binding it promises."""
    (key,) = parsed(character)
    bound = {b.id for b in (*RUN_BINDINGS, *APP_BINDINGS) if key in b.key.split(",")}
    assert bound == {binding}


@pytest.mark.parametrize(
    "name", ["period", "dot_key", "questionmark", "square_bracket", "ctl+c", "Space ", ""]
)
def test_names_no_terminal_produces_are_refused(name: str) -> None:
    assert not is_terminal_key(name)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        (".", "full_stop"),
        ("period", "full_stop"),
        ("full_stop", "full_stop"),
        (",", "comma"),
        ("comma", "comma"),
        ("[", "left_square_bracket"),
        ("?", "question_mark"),
        ("+", "plus"),
        ("plus_sign", "plus"),
        ("-", "minus"),
        ("l", "l"),
        ("F", "F"),
        ("esc", "escape"),
        ("End", "end"),
        ("shift+ctrl+up", "ctrl+shift+up"),
        ("ctrl+.", "ctrl+full_stop"),
        ("f5", "f5"),
        ("nope", None),
        ("ctl+x", None),
    ],
)
def test_keymap_names_mean_terminal_keys(typed: str, key: str | None) -> None:
    """A keymap file may write a key as its character, its usual name or Textual's name."""
    assert terminal_key(typed) == key


def test_the_readme_keymap_example_works() -> None:
    """The README's keymap lines remap to keys a terminal sends."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    keymap, problems = parse_keymap(tomllib.loads(block))
    assert keymap == {"fail": "F", "step": "full_stop,l", "step_back": "comma,j"}
    assert problems == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            'keymap = "F"\n',
            "ignored, keymap must be a [keymap] table: "
            'one id = "keys" line per binding, e.g. fail = "F" or step = "period,l"',
        ),
        (
            "[[keymap]]\nfail = 'F'\n",
            "ignored, keymap must be a [keymap] table: "
            'one id = "keys" line per binding, e.g. fail = "F" or step = "period,l"',
        ),
        ("fail = 5\n", 'fail = 5 ignored: expected a string of keys, e.g. fail = "F"'),
        (
            'fail = ["F", "x"]\n',
            "fail = ['F', 'x'] ignored: expected a string of keys, e.g. fail = \"F\"",
        ),
        ("fail = {a = 1}\n", 'fail = a table ignored: expected a string of keys, e.g. fail = "F"'),
        ('fail = ""\n', "fail = '' ignored: expected a string of keys, e.g. fail = \"F\""),
        (
            'step = "period,nope"\n',
            "step = 'period,nope' ignored: no key is called 'nope'; "
            'name a character (".", "[") or a key (space, end, f5, ctrl+x)',
        ),
        ('stepp = "l"\n', "unknown binding ids ignored: stepp"),
        ("fail = \n", "ignored, not readable TOML: Invalid value (at line 1, column 8)"),
    ],
)
def test_a_bad_keymap_says_what_is_wrong(tmp_path: Path, text: str, problem: str) -> None:
    """Wrong types, unknown names and ids: one line naming the file, and no remapping."""
    path = tmp_path / "keymap.toml"
    path.write_text(text)
    keymap, said = load_keymap(path)
    assert keymap == {}
    assert said == f"{path}: {problem}"


def test_a_good_line_survives_a_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "keymap.toml"
    path.write_text('fail = "F"\nstep = 5\n[ignored]\n')
    keymap, said = load_keymap(path)
    assert keymap == {"fail": "F"}
    assert said is not None and said.startswith(f"{path}: unknown binding ids ignored: ignored\n")


def test_a_keymap_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    """A folder (or a FIFO) in the keymap's place is never opened: reading one could block."""
    path = tmp_path / "keymap.toml"
    path.mkdir()
    assert load_keymap(path) == ({}, f"{path}: ignored, is a directory")
