"""One line of the code view drawn: number, mark, code, the names of the lanes on it."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style

from concsim import palette
from concsim.ui.codedraw import Here, draw_code_line, gutter_width

CODE = [Segment("    time.sleep(0.5)"), Segment("  # requests.get(url)", Style(italic=True))]
THREADS = tuple(Here(f"thread-{n}", n) for n in range(1, 6))


def plain(segments: list[Segment]) -> str:
    return "".join(segment.text for segment in segments)


def test_a_line_with_no_lane_is_its_number_and_code() -> None:
    """No lane: the number, no mark, the code padded to the width."""
    line = draw_code_line(11, CODE, (), 50, 2)
    assert plain(line) == "11       time.sleep(0.5)  # requests.get(url)".ljust(50)


def test_every_lane_on_a_line_is_named_in_its_colour() -> None:
    """With room, every lane is named at the end, each in its colour, the first's ▶."""
    line = draw_code_line(11, CODE, THREADS, 120, 2)
    expected = "11 ▶     time.sleep(0.5)  # requests.get(url)"
    names = "◀ thread-1 thread-2 thread-3 thread-4 thread-5"
    assert plain(line) == expected + " " * (120 - len(expected) - len(names)) + names
    styled = {segment.text: segment.style for segment in line}
    assert styled["thread-3"] == palette.lane_style(3)
    assert styled["▶"] == palette.lane_style(1)
    assert styled["11"] == palette.lane_style(1) + Style(reverse=True)


def test_a_narrow_line_names_the_first_lane_and_counts_the_rest() -> None:
    """Short of room the code is cut short for one name and a count of the others."""
    line = draw_code_line(11, CODE, THREADS, 50, 2)
    assert plain(line) == "11 ▶     time.sleep(0.5)  # request… ◀ thread-1 +4"


def test_the_selected_lane_is_reversed_and_a_picked_line_underlined() -> None:
    """The selected lane's name is reversed; the clicked line's number underlined."""
    line = draw_code_line(19, CODE, (Here("main", 0, selected=True),), 60, 2, picked=True)
    styled = {segment.text: segment.style for segment in line}
    assert styled["main"] == palette.lane_style(0) + Style(reverse=True)
    assert styled["19"] is not None and styled["19"].underline


def test_the_gutter_fits_the_widest_number() -> None:
    """Digits of the last line, a space, the mark, a space."""
    assert gutter_width(9) == 4
    assert gutter_width(57) == 5
    assert gutter_width(1200) == 7
