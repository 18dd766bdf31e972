"""With no --speed, a run plays in about five seconds, whatever its virtual length."""

from __future__ import annotations

from pathlib import Path

import pytest
from appkit import build, sync

from concsim.ui.panels import speed_words
from concsim.ui.screens.run import auto_speed
from concsim.ui.widgets.panels import StatusBar


@pytest.mark.parametrize(
    ("length", "speed"),
    [(0.5, 1 / 8), (0.12, 1 / 32), (2.0, 0.5), (25.0, 4.0), (1e-6, 1 / 64), (1e6, 64.0)],
)
def test_the_power_of_two_that_plays_the_run_in_about_five_seconds(
    length: float, speed: float
) -> None:
    assert auto_speed(length) == speed


def test_speeds_below_a_half_read_as_fractions() -> None:
    assert [speed_words(s) for s in (1 / 32, 0.25, 0.5, 1.0, 4.0, 0.3)] == [
        "1/32",
        "1/4",
        "0.5",
        "1",
        "4",
        "0.3",
    ]


@sync
async def test_the_app_picks_the_speed_and_the_keys_take_over(tmp_path: Path) -> None:
    app, _ = build("race-lost-update", tmp_path, speed=None)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.run_screen
        assert screen.speed == 1 / 32  # 120 ms of virtual time in about 4 s
        await pilot.pause()
        assert "×1/32" in str(screen.query_one(StatusBar).render())  # noqa: RUF001
        await pilot.press("]")
        assert screen.speed == 1 / 16
        screen.choose_speed()  # a length measured later changes nothing now
        assert screen.speed == 1 / 16
    assert app._exception is None


@sync
async def test_a_speed_given_is_kept(tmp_path: Path) -> None:
    app, _ = build("race-lost-update", tmp_path, speed=2.0)
    async with app.run_test(size=(120, 36)):
        assert app.run_screen.speed == 2.0
    assert app._exception is None
