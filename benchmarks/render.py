"""Render cost of the lanes view, and process start to first frame.

Prints the time to draw 100 lanes x 200 columns for runs of 1k, 100k and 1M events, cold (a new
zoom level: every column sampled) and during playback (the playhead moves one column per
frame, columns already drawn come from the memo), then a cold frame of the run's last second
at a fixed zoom (the same picture whatever the run's length, so only history length varies),
plus the wall time from starting ``python -m concsim run`` to its first frame and the CPU
time the app's process spent by then (on a shared machine the CPU time moves less with the
load than the wall time; a cold frame's CPU time is given beside its wall time for the same
reason). Targets: frames <= 5 ms and flat in run length, first frame <= 0.5 s.

    python benchmarks/render.py
"""

from __future__ import annotations

import contextlib
import math
import os
import pty
import random
import select
import signal
import statistics
import subprocess
import sys
import time

from textual.strip import Strip

from concsim.events import Event, LaneCreated, LaneKind, LaneState, LaneStateChanged, RunStarted
from concsim.ui.cells import Window
from concsim.ui.draw import Columns, draw_lane
from concsim.ui.timeline import Timeline

LANES, WIDTH = 100, 200
STATES = [LaneState.RUNNING, LaneState.GIL_WAIT, LaneState.IO, LaneState.BLOCKED]


def timeline(events: int) -> tuple[Timeline, float]:
    """A run of ``events`` state changes spread over 100 lanes, 1 ms apart."""
    rnd = random.Random(1)
    out: list[Event] = [
        RunStarted(t=0, seq=0, scenario="bench", variant=None, seed=0, model="threads", gil=True)
    ]
    for i in range(LANES):
        out.append(
            LaneCreated(
                t=0,
                seq=len(out),
                lane=f"thread-{i}",
                lane_kind=LaneKind.THREAD,
                name=f"thread-{i}",
                process="main",
            )
        )
    t = 0.0
    while len(out) < events:
        t += 0.001
        state = rnd.choice(STATES) if rnd.random() > 0.01 else LaneState.CLEANUP
        lane = f"thread-{rnd.randrange(LANES)}"
        out.append(LaneStateChanged(t=t, seq=len(out), lane=lane, state=state, step="cpu 1ms"))
    result = Timeline()
    result.feed(out)
    return result, t


def frame(tracks: Timeline, window: Window, now: float, columns: Columns) -> float:
    return timed_frame(tracks, window, now, columns)[0]


def timed_frame(
    tracks: Timeline, window: Window, now: float, columns: Columns
) -> tuple[float, float]:
    """The wall time and the CPU time (this thread's) of drawing every row once."""
    start, cpu = time.perf_counter(), time.thread_time()
    for track in tracks.rows:
        Strip(
            draw_lane(track, window, now, columns), columns.name + columns.bar + 1 + columns.label
        )
    return time.perf_counter() - start, time.thread_time() - cpu


def forget(tracks: Timeline) -> None:
    """Forget what was drawn, as a new zoom level finds it: the rows' memos, the log's frame."""
    for track in tracks.rows:
        track.memo.clear()
    tracks.log.forget()


def render(events: int) -> tuple[float, float, float]:
    """The fastest cold frame (wall, then CPU: of 15) and the median playback frame."""
    tracks, end = timeline(events)
    columns = Columns(18, WIDTH, 30)
    window = Window(0.0, end / WIDTH, WIDTH)
    cold, cold_cpu = [], []
    for _ in range(15):
        forget(tracks)
        wall, cpu = timed_frame(tracks, window, end, columns)
        cold.append(wall)
        cold_cpu.append(cpu)
    warm = []
    forget(tracks)
    frame(tracks, window, (WIDTH - 60) * window.dt, columns)
    for col in range(WIDTH - 59, WIDTH):
        warm.append(frame(tracks, window, (col + 0.3) * window.dt, columns))
    return min(cold), min(cold_cpu), statistics.median(warm)


def render_tail(tracks: Timeline, end: float, dt: float = 0.005) -> float:
    """A cold frame of the run's last WIDTH columns of ``dt`` seconds: the same picture
    (about 5 changes a column) whether the run behind it is short or long."""
    columns = Columns(18, WIDTH, 30)
    window = Window((math.floor(end / dt) - WIDTH + 1) * dt, dt, WIDTH)
    cold = []
    for _ in range(5):
        forget(tracks)
        cold.append(frame(tracks, window, end, columns))
    return min(cold)


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a running process so far (Linux ``/proc``; else None)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_frame(target: str = "io-threads", runs: int = 3) -> tuple[float, float | None]:
    """Seconds from spawning the app in a pseudo-terminal to its status bar on screen, and
    the CPU seconds the app's process spent by then (medians of ``runs``)."""
    times, cpus = [], []
    for _ in range(runs):
        leader, follower = pty.openpty()
        os.set_blocking(leader, False)
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "concsim", "run", target, "--paused"],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env=env,
            start_new_session=True,
        )
        seen = b""
        while b"paused" not in seen and time.perf_counter() - start < 10:
            ready, _, _ = select.select([leader], [], [], 0.05)
            if ready:
                with contextlib.suppress(BlockingIOError):
                    seen += os.read(leader, 65536)
        times.append(time.perf_counter() - start)
        cpus.append(cpu_seconds(proc.pid))
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        os.close(leader)
        os.close(follower)
    known = [cpu for cpu in cpus if cpu is not None]
    return statistics.median(times), statistics.median(known) if known else None


def main() -> None:
    print(f"lanes view, {LANES} lanes x {WIDTH} columns (target <= 5 ms, flat):")
    figures, tails = {}, {}
    for events in (1_000, 100_000, 1_000_000):
        cold, cold_cpu, warm = render(events)
        tracks, end = timeline(events)
        figures[events], tails[events] = warm, render_tail(tracks, end)
        print(
            f"  {events:>9,} events: whole run: playback frame {warm * 1e3:5.2f} ms, "
            f"new zoom (cold) {cold * 1e3:5.2f} ms (cpu {cold_cpu * 1e3:5.2f} ms); "
            f"last second, cold {tails[events] * 1e3:5.2f} ms"
        )
    print(
        f"  1M / 1k: whole run playback {figures[1_000_000] / figures[1_000]:.2f}x (busier "
        f"columns), same picture {tails[1_000_000] / tails[1_000]:.2f}x (history length alone)"
    )
    wall, cpu = first_frame()
    spent = "" if cpu is None else f", cpu {cpu:.2f} s"
    print(f"process start to first frame (target <= 0.5 s): {wall:.2f} s{spent}")


if __name__ == "__main__":
    main()
