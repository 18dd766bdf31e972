"""The variants bar fits its width: the variant shown is always in view, whole."""

from __future__ import annotations

import pytest

from concsim.ui.panels import variants_text

ELAPSED: dict[str | None, float | None] = {
    None: 0.61,
    "kill": 0.61,
    "join-timeout": 0.61,
    "os-exit": 0.5,
    "spawn": 2.13,
}


def test_every_variant_with_its_time_when_the_line_fits() -> None:
    text = variants_text("kill", ELAPSED, "v", 79)
    assert text.plain == (
        "v  as written 610ms  kill 610ms  join-timeout 610ms  os-exit 500ms  spawn 2.13s"
    )


def test_too_wide_only_the_variant_shown_keeps_its_time() -> None:
    text = variants_text("spawn", ELAPSED, "v", 78)
    assert text.plain == "v  as written  kill  join-timeout  os-exit  spawn 2.13s"


@pytest.mark.parametrize(
    ("current", "plain"),
    [
        (None, "v   as written 610ms  kill  join-timeou…"),
        ("join-timeout", "v …s written  kill  join-timeout 610ms …"),
        ("spawn", "v …  join-timeout  os-exit  spawn 2.13s"),
    ],
)
def test_still_too_wide_the_line_is_cut_around_the_variant_shown(
    current: str | None, plain: str
) -> None:
    text = variants_text(current, ELAPSED, "v", 40)
    assert text.plain == plain
    assert text.cell_len <= 40


@pytest.mark.parametrize("width", range(8, 90))
def test_the_variant_shown_is_whole_in_view_at_every_width(width: int) -> None:
    for current in ELAPSED:
        text = variants_text(current, ELAPSED, "v", width)
        name = current or "as written"
        assert text.cell_len <= width
        if width >= len(name) + 16:  # the key, the marks, the name and its time
            assert name in text.plain
