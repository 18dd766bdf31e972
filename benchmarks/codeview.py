"""Cost of the code view: the fold of events into lines, and a frame of the view.

Prints, for process-overhead (1,000 tasks on four processes) played in the app at 120x36 with
the code view open: the mean and worst wall time ``follow`` takes per frame, the lines the view
is asked for and those drawn anew (not from its cache) per frame, against its height; then the
fold's speed in events per second, and what one step back costs at the end of a run of 1M
events (refolded from the nearest copy, not from the start). Targets: a frame's follow <= 2 ms,
lines asked for per frame <= the view's height, a step back <= 10 ms at 1M events.

    python benchmarks/codeview.py
"""

from __future__ import annotations

import asyncio
import statistics
import time

from textual.strip import Strip

from concsim.codegen import program
from concsim.engine import Simulation
from concsim.events import Event, LaneState, LaneStateChanged
from concsim.replay import open_scenario
from concsim.ui.app import make_app
from concsim.ui.codecursor import CodeCursor
from concsim.ui.codemap import SiteIndex, Whereabouts
from concsim.ui.widgets.code import CodeView


async def play(name: str, frames: int = 200) -> None:
    app = make_app(run=name, paused=True, keymap={}, theme="textual-dark", clock=lambda: 0.0)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        code = app.run_screen.query_one(CodeView)
        timed: list[float] = []
        original = code.follow

        def follow(*args: object) -> None:
            start = time.perf_counter()
            original(*args)  # type: ignore[arg-type]
            timed.append(time.perf_counter() - start)

        code.follow = follow  # type: ignore[method-assign]
        asked = [0]
        render_line = code.render_line

        def counted(y: int) -> Strip:
            asked[0] += 1
            return render_line(y)

        code.render_line = counted  # type: ignore[method-assign]
        sim = Simulation(open_scenario(name))
        sim.run()
        end = sim.now
        drawn: list[int] = []
        lines: list[int] = []
        for k in range(1, frames + 1):
            before, calls = code.drawn, asked[0]
            app.advance_to(end * k / frames)
            await pilot.pause()
            drawn.append(code.drawn - before)
            lines.append(asked[0] - calls)
        height = code.scrollable_content_region.height
        events = len(app.run_screen.session.events)
        print(
            f"{name}: {events} events, {frames} frames: follow mean "
            f"{statistics.mean(timed) * 1e3:.3f} ms, worst {max(timed) * 1e3:.3f} ms; "
            f"lines asked for per frame mean {statistics.mean(lines):.1f}, worst {max(lines)}, "
            f"drawn anew (not cached) mean {statistics.mean(drawn):.2f}, worst {max(drawn)} "
            f"(view {height} lines high)"
        )


def fold_speed() -> None:
    scenario = open_scenario("process-overhead")
    sim = Simulation(scenario)
    sim.run()
    sites = SiteIndex(program(scenario))
    events = sim.events * 20
    start = time.perf_counter()
    Whereabouts(sites).feed(events)
    took = time.perf_counter() - start
    print(f"fold: {len(events) / took / 1e6:.2f} M events/s ({len(events)} events)")


def step_back_at_a_million() -> None:
    scenario = open_scenario("io-threads")
    sites = SiteIndex(program(scenario))
    events: list[Event] = [
        LaneStateChanged(
            t=k / 1e4,
            seq=k,
            lane=f"thread-{k % 5 + 1}",
            state=LaneState.IO if k % 2 else LaneState.GIL_WAIT,
            task=f"request-{k % 5 + 1}",
            step="requests.get(url)",
        )
        for k in range(1_000_000)
    ]
    cursor = CodeCursor(sites)
    start = time.perf_counter()
    cursor.at(events, len(events))
    first = time.perf_counter() - start
    backs = []
    for k in range(1, 51):
        start = time.perf_counter()
        cursor.at(events, len(events) - k)
        backs.append(time.perf_counter() - start)
    print(
        f"1M events: fold to the end {first * 1e3:.0f} ms (once, while the view is open); "
        f"a step back mean {statistics.mean(backs) * 1e3:.2f} ms, worst {max(backs) * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    asyncio.run(play("process-overhead"))
    fold_speed()
    step_back_at_a_million()
