"""Key bindings, each with an id, and the user's keymap file that remaps them by id.

The keymap file is ``$XDG_CONFIG_HOME/concsim/keymap.toml`` (``~/.config/concsim/keymap.toml``
when XDG_CONFIG_HOME is unset), one ``id = "keys"`` line per binding to change, several keys
separated by commas::

    fail = "F"
    step = "period,l"
    step_back = "comma,j"
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from textual.binding import Binding

from concsim.files import FileRefused, read_small_file

_FAULTS = (
    ("f", "fail", "Fail", "raise an exception in the selected lane's task"),
    ("t", "timeout", "Timeout", "expire the timeout the selected lane's waiter is under"),
    ("c", "cancel", "Cancel", "cancel the selected lane's task (future.cancel / task.cancel)"),
    ("k", "kill", "Kill", "kill the selected worker process (SIGKILL)"),
    ("h", "hang", "Hang", "make the selected lane's current step never return"),
)

_FAULT_GROUP = Binding.Group("fault")

RUN_BINDINGS: list[Binding] = [
    Binding("space", "toggle_play", "Play", id="play"),
    Binding("period,right", "step", "Step", id="step", key_display="."),
    Binding("comma,left", "step_back", "Back", id="step_back", key_display=","),
    Binding("r,home", "rewind", "Rewind", show=False, id="rewind"),
    Binding("end", "to_end", "To the end", show=False, id="to_end"),
    Binding("up", "select(-1)", "Lane up", show=False, id="lane_up"),
    Binding("down", "select(1)", "Lane down", show=False, id="lane_down"),
    *[
        Binding(key, f"fault('{fault}')", label, id=fault, tooltip=about, group=_FAULT_GROUP)
        for key, fault, label, about in _FAULTS
    ],
    Binding(
        "i",
        "fault('interrupt')",
        "Ctrl-C",
        id="interrupt",
        group=_FAULT_GROUP,
        tooltip="a simulated Ctrl-C: KeyboardInterrupt in the main thread",
    ),
    Binding("right_square_bracket", "speed(2)", "Faster", show=False, id="faster"),
    Binding("left_square_bracket", "speed(0.5)", "Slower", show=False, id="slower"),
    Binding("plus,equals_sign", "zoom('in')", "Zoom in", show=False, id="zoom_in"),
    Binding("minus", "zoom('out')", "Zoom out", show=False, id="zoom_out"),
    Binding("0", "zoom('fit')", "Fit", show=False, id="zoom_fit"),
    Binding("v", "variant(1)", "Variant", show=False, id="next_variant"),
    Binding("V", "variant(-1)", "Prev variant", show=False, id="prev_variant"),
    Binding("e", "filter_log", "Log filter", show=False, id="filter_log"),
    Binding("n", "toggle_notes", "Notes", show=False, id="notes"),
    Binding("N", "new_seed", "New seed", show=False, id="new_seed"),
    Binding("s", "save", "Save replay", show=False, id="save"),
    Binding(
        "x",
        "export_trace",
        "Export trace",
        show=False,
        id="trace",
        tooltip="write the run so far as a Chrome trace for Perfetto",
    ),
    Binding("question_mark", "help", "Help", id="help", key_display="?"),
    Binding("escape", "back", "Browser", show=False, id="back"),
]

BROWSER_BINDINGS: list[Binding] = [
    Binding("enter", "open", "Open", id="open"),
    Binding("question_mark", "help", "Help", id="help", key_display="?"),
]

APP_BINDINGS: list[Binding] = [
    Binding("q", "quit", "Quit", id="quit"),
]


def keymap_path(environ: Mapping[str, str] = os.environ) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "concsim" / "keymap.toml"


def shown_path(path: Path) -> str:
    """A path as a person would type it: ``~/.config/...`` under the home directory."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """The binding id -> keys table, and a one-line problem to show if the file is unusable."""
    path = path or keymap_path()
    if not path.exists():
        return {}, None
    try:
        data = tomllib.loads(read_small_file(path).decode("utf-8"))
    except FileRefused as error:
        return {}, f"{path}: ignored, {error.reason}"
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return {}, f"{path}: ignored, not readable TOML: {error}"
    table = data.get("keymap", data)
    known = {b.id for b in (*RUN_BINDINGS, *BROWSER_BINDINGS, *APP_BINDINGS)}
    keymap = {k: v for k, v in table.items() if isinstance(v, str) and k in known}
    unknown = sorted(k for k in table if k not in known)
    problem = None
    if unknown:
        problem = f"{path}: unknown binding ids ignored: {', '.join(unknown)}"
    return keymap, problem
