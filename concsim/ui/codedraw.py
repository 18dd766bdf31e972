"""Pure drawing of the code view: one line of the program, with the lanes on it.

A line is its number (in the colour of the first lane on it, reversed), a ``▶`` when a lane
is there, the code (cropped to leave room), and at its end the name of every lane on it, each
in its own colour, the selected lane's reversed. Nothing here knows about Textual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style

from concsim import palette

NUMBER = Style.parse("grey62")
PICKED = Style.parse("bold underline")  # the line last clicked
ELLIPSIS = "…"
HERE = "▶"
_NAMES = 18  # cells the lane names may always take, the code cut short for them


@dataclass(frozen=True, slots=True)
class Here:
    """A lane on a line: its name, its colour's place, whether it is the selected lane."""

    name: str
    hue: int
    selected: bool = False


def gutter_width(lines: int) -> int:
    """Cells before the code: the widest line number, a space, the ``▶`` column, a space."""
    return len(str(max(1, lines))) + 3


def draw_code_line(
    number: int,
    code: Sequence[Segment],
    here: Sequence[Here],
    width: int,
    digits: int,
    *,
    picked: bool = False,
) -> list[Segment]:
    """Line ``number`` of the program, exactly ``width`` cells wide."""
    if here:
        first = palette.lane_style(here[0].hue)
        lead = [Segment(f"{number:>{digits}}", first + Style(reverse=True)), Segment(" ")]
        lead.append(Segment(HERE, first))
    else:
        lead = [Segment(f"{number:>{digits}}", NUMBER), Segment("  ")]
    if picked:
        lead[0] = Segment(lead[0].text, (lead[0].style or Style()) + PICKED)
    lead.append(Segment(" "))
    room = max(0, width - digits - 3)
    # The names take the room the code leaves, and at least enough for one name and a
    # count of the others: the code is cut short for them, never the other way round.
    free = room - Segment.get_line_length(list(code)) - 1
    names = _names(here, max(free, min(room // 2, _NAMES)))
    names_width = sum(len(segment.text) for segment in names)
    code_room = max(0, room - names_width - (1 if names else 0))
    body = _crop(code, code_room)
    used = Segment.get_line_length(body)
    gap = room - used - names_width
    line = [*lead, *body]
    if names and gap >= 1:
        line += [Segment(" " * gap), *names]
    else:
        line.append(Segment(" " * max(0, room - used)))
    return Segment.adjust_line_length(line, width)


def _names(here: Sequence[Here], room: int) -> list[Segment]:
    """``◀ thread-1 thread-2 +3``: as many names as fit in ``room``, then how many more."""
    if not here or room <= 2:
        return []
    segments = [Segment("◀", palette.lane_style(here[0].hue))]
    used = 1
    for k, lane in enumerate(here):
        more = len(here) - k - 1
        tail = len(f" +{more}") if more else 0
        if used + 1 + len(lane.name) + tail > room:
            segments.append(Segment(f" +{len(here) - k}", NUMBER))
            break
        style = palette.lane_style(lane.hue)
        if lane.selected:
            style += Style(reverse=True)
        segments += [Segment(" "), Segment(lane.name, style)]
        used += 1 + len(lane.name)
    return segments


def _crop(code: Sequence[Segment], room: int) -> list[Segment]:
    """The code's first ``room`` cells, its last an ellipsis if it was longer."""
    if Segment.get_line_length(list(code)) <= room:
        return list(code)
    if room <= 0:
        return []
    return [*Segment.adjust_line_length(list(code), room - 1), Segment(ELLIPSIS, NUMBER)]
