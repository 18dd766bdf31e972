"""Key bindings, each with an id, and the user's keymap file that remaps them by id.

Every key is named as Textual's parser names what a terminal sends (``full_stop`` for ``.``,
``left_square_bracket`` for ``[``; see ``concsim.ui.keynames``). The keymap file,
``keymap.toml`` in the user's configuration folder (``$XDG_CONFIG_HOME/concsim`` or
``~/.config/concsim`` on Linux, found by ``platformdirs``), has one ``id = "keys"`` line per
binding to change, several keys separated by commas, each a character or a key's name::

    fail = "F"
    step = "period,l"
    step_back = "comma,j"
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import assert_never

import platformdirs
from textual.binding import Binding

from concsim.files import FileRefused, read_small_file
from concsim.scenario.model import FaultKind


def fault_key(kind: FaultKind) -> tuple[str, str, str]:
    """The key that injects a fault of this kind into the selected lane, its footer label
    and its tooltip."""
    match kind:
        case FaultKind.FAIL:
            return ("f", "Fail", "raise an exception in the selected lane's task")
        case FaultKind.TIMEOUT:
            return ("t", "Timeout", "expire the timeout the selected lane's waiter is under")
        case FaultKind.CANCEL:
            return ("c", "Cancel", "cancel the selected lane's task (future.cancel / task.cancel)")
        case FaultKind.KILL:
            return ("k", "Kill", "kill the selected worker process (SIGKILL)")
        case FaultKind.HANG:
            return ("h", "Hang", "make the selected lane's current step never return")
        case FaultKind.INTERRUPT:
            return ("i", "Ctrl-C", "a simulated Ctrl-C: KeyboardInterrupt in the main thread")
        case _:
            assert_never(kind)


_FAULTS = tuple(
    (key, kind.value, label, about)
    for kind in sorted(FaultKind, key=lambda kind: kind is FaultKind.INTERRUPT)
    for key, label, about in [fault_key(kind)]
)
"""Every fault kind's binding, Ctrl-C last (the footer's order)."""

_FAULT_GROUP = Binding.Group("fault")
# The footer shows a group as its keys and its word: ". , > < step" (by an event, a mark).
_STEP_GROUP = Binding.Group("step")

RUN_BINDINGS: list[Binding] = [
    Binding("space", "toggle_play", "Play", id="play"),
    Binding(
        "full_stop,right",
        "step",
        "Step",
        id="step",
        tooltip="the playhead on one event",
        group=_STEP_GROUP,
    ),
    Binding(
        "comma,left",
        "step_back",
        "Back",
        id="step_back",
        tooltip="the playhead back one event",
        group=_STEP_GROUP,
    ),
    Binding(
        "greater_than_sign",
        "jump(1)",
        "Next mark",
        id="to_next_mark",
        tooltip="on to the next mark of any lane (raised, re-raised, fault, cancel, "
        "lost update, result), and select it",
        group=_STEP_GROUP,
    ),
    Binding(
        "less_than_sign",
        "jump(-1)",
        "Prev mark",
        id="to_prev_mark",
        tooltip="back to the previous mark, and select it",
        group=_STEP_GROUP,
    ),
    Binding(
        "g",
        "seek",
        "Go to",
        show=False,
        id="seek",
        tooltip="type a time (1.2s, 350ms, 0.35): the playhead goes there; "
        "a click on the ruler does too",
    ),
    Binding("r,home", "rewind", "Rewind", show=False, id="rewind"),
    Binding("end", "to_end", "To the end", show=False, id="to_end"),
    Binding("up", "select(-1)", "Lane up", show=False, id="lane_up"),
    Binding("down", "select(1)", "Lane down", show=False, id="lane_down"),
    *[
        Binding(key, f"fault('{fault}')", label, id=fault, tooltip=about, group=_FAULT_GROUP)
        for key, fault, label, about in _FAULTS
    ],
    Binding("right_square_bracket", "speed(2)", "Faster", show=False, id="faster"),
    Binding("left_square_bracket", "speed(0.5)", "Slower", show=False, id="slower"),
    Binding("plus,equals_sign", "zoom('in')", "Zoom in", show=False, id="zoom_in"),
    Binding("minus", "zoom('out')", "Zoom out", show=False, id="zoom_out"),
    Binding("0", "zoom('fit')", "Fit", show=False, id="zoom_fit"),
    Binding(
        "shift+left",
        "pan(-1)",
        "Pan earlier",
        show=False,
        id="pan_earlier",
        tooltip="while paused and zoomed in; the mouse wheel over the bars pans too",
    ),
    Binding("shift+right", "pan(1)", "Pan later", show=False, id="pan_later"),
    Binding(
        "delete,backspace",
        "remove_fault",
        "Remove fault",
        show=False,
        id="remove_fault",
        tooltip="take back the highlighted injected fault: re-simulates to now without it",
    ),
    Binding(
        "x",
        "schedule",
        "Schedule",
        show=False,
        id="schedule",
        tooltip=(
            "be the scheduler: at the next point where several threads wait for the GIL or "
            "a lock, pick who goes next (only what CPython could do; asyncio's FIFO ready "
            "queue is never reordered)"
        ),
    ),
    Binding("v", "variant(1)", "Variant", show=False, id="next_variant"),
    Binding("V", "variant(-1)", "Prev variant", show=False, id="prev_variant"),
    Binding(
        "e",
        "filter_log",
        "Log filter",
        show=False,
        id="filter_log",
        tooltip="show only the selected lane's events in the log; e again for every lane",
    ),
    Binding(
        "E",
        "log_kind",
        "Log kind",
        show=False,
        id="log_kind",
        tooltip="cycle what the log shows: the story (routine folded), every event, one kind",
    ),
    Binding(
        "m",
        "mark(1)",
        "Select next mark",
        show=False,
        id="next_mark",
        tooltip="on the selected lane, among the marks so far; the playhead stays",
    ),
    Binding("M", "mark(-1)", "Select prev mark", show=False, id="prev_mark"),
    Binding(
        "w",
        "why",
        "Why",
        id="why",
        tooltip="light the chain of causes through the selected mark; w again puts it out",
    ),
    Binding(
        "b",
        "branch",
        "Branch",
        show=False,
        id="branch",
        tooltip="fork the run at the playhead: faults then change only the branch",
    ),
    Binding(
        "B",
        "branches",
        "Branches",
        show=False,
        id="branches",
        tooltip="list the branches: enter shows one, d closes one",
    ),
    Binding("n", "toggle_notes", "Notes", id="notes", tooltip="the scenario's notes and lesson"),
    Binding(
        "pagedown",
        "notes_page(1)",
        "Notes down",
        show=False,
        id="notes_down",
        tooltip="scroll the notes a page down (to Try this)",
    ),
    Binding("pageup", "notes_page(-1)", "Notes up", show=False, id="notes_up", tooltip="a page up"),
    Binding(
        "o",
        "toggle_code",
        "Code",
        id="code",
        tooltip="the program beside the lanes, each lane's current line marked",
    ),
    Binding("N", "new_seed", "New seed", show=False, id="new_seed"),
    Binding(
        "X",
        "explore",
        "Explore seeds",
        show=False,
        id="explore",
        tooltip="run many seeds, see how often each outcome comes; enter opens one",
    ),
    Binding("s", "save", "Save replay", show=False, id="save"),
    Binding(
        "T",
        "export_trace",
        "Export trace",
        show=False,
        id="trace",
        tooltip="write the run so far as a Chrome trace for Perfetto",
    ),
    Binding(
        "S",
        "screenshot",
        "Screenshot",
        show=False,
        id="screenshot",
        tooltip="save an SVG of the screen where replays are saved",
    ),
    Binding("question_mark", "help", "Help", id="help"),
    Binding("escape", "back", "Browser", show=False, id="back"),
]

BROWSER_BINDINGS: list[Binding] = [
    Binding("enter", "open", "Open", id="open"),
    Binding("slash", "filter", "Filter", id="filter", tooltip="type words to narrow the list"),
    Binding("question_mark", "help", "Help", id="help"),
]

APP_BINDINGS: list[Binding] = [
    Binding("q", "quit", "Quit", id="quit"),
    # The real Ctrl-C quits, as in most terminal tools (Textual only tells how to quit);
    # priority, so that it quits from the command palette's input too. i is the simulated one.
    Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit_now"),
]


KEYMAP_LIMIT = 64 * 1024
"""A keymap file is a few lines; anything bigger is refused unread."""

_HOW = 'one id = "keys" line per binding, e.g. fail = "F" or step = "period,l"'


def keymap_path() -> Path:
    """Where the keymap file lives (platformdirs honours XDG_CONFIG_HOME on Linux)."""
    return platformdirs.user_config_path("concsim", appauthor=False) / "keymap.toml"


def shown_path(path: Path) -> str:
    """A path as a person would type it: ``~/.config/...`` under the home directory."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def binding_ids() -> set[str]:
    return {b.id for b in (*RUN_BINDINGS, *BROWSER_BINDINGS, *APP_BINDINGS) if b.id}


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """The binding id -> keys table, and what was wrong with the file (one line a problem).

    Whatever is wrong is reported and left out: every binding not remapped keeps its default
    keys, so a bad file never stops the app from opening.
    """
    path = path or keymap_path()
    if not path.exists():
        return {}, None
    import tomllib  # only with a file to read: importing it costs a start without one ~8 ms

    try:
        data = tomllib.loads(read_small_file(path, KEYMAP_LIMIT).decode("utf-8"))
    except FileRefused as error:
        return {}, f"{path}: ignored, {error.reason}"
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return {}, f"{path}: ignored, not readable TOML: {error}"
    table = data.get("keymap", data)
    if not isinstance(table, dict):
        return {}, f"{path}: ignored, keymap must be a [keymap] table: {_HOW}"
    keymap, problems = parse_keymap(table)
    return keymap, "\n".join(f"{path}: {problem}" for problem in problems) or None


def parse_keymap(table: Mapping[str, object]) -> tuple[dict[str, str], list[str]]:
    """Check each ``id = "keys"`` entry; keys come back as Textual names (``full_stop``)."""
    from concsim.ui.keynames import terminal_key

    known = binding_ids()
    keymap: dict[str, str] = {}
    problems: list[str] = []
    unknown = sorted(k for k in table if k not in known)
    if unknown:
        problems.append(f"unknown binding ids ignored: {', '.join(unknown)}")
    for binding_id, value in table.items():
        if binding_id not in known:
            continue
        if not isinstance(value, str) or not value.strip():
            shown = f"{value!r}" if not isinstance(value, dict) else "a table"
            problems.append(
                f"{binding_id} = {shown} ignored: expected a string of keys, "
                f'e.g. {binding_id} = "F"'
            )
            continue
        # A comma separates keys; the comma key itself is "comma" (or "," alone).
        texts = [","] if value.strip() == "," else value.split(",")
        names = [terminal_key(text) for text in texts]
        bad = [text.strip() for text, name in zip(texts, names, strict=True) if name is None]
        if bad:
            problems.append(
                f"{binding_id} = {value!r} ignored: no key is called "
                + ", ".join(repr(text) for text in bad)
                + '; name a character (".", "[") or a key (space, end, f5, ctrl+x)'
            )
            continue
        keymap[binding_id] = ",".join(name for name in names if name is not None)
    return keymap, problems
