"""Responsiveness of the app on big runs: key-to-screen latency, playback rate, ``End``.

Drives the real app headless (``App.run_test``, real wall clock, 160x48) on
``process-overhead`` (1,000 tasks, the largest bundled scenario) and on the same program
generated with 10,000 tasks, and prints:

- **key to screen**: for space, ``.``, ``,``, ``end``, ``[`` and ``]`` pressed while the run
  plays, the wall time from the key leaving the "terminal" to the first frame drawn after
  its action ran (median and max). Keys are sent from another thread through the driver,
  as a terminal's input thread does, so a busy event loop delays them as it would a person's.
- **every other key** of the footer and help (faults, zoom, lanes, log filter, notes,
  help, variants, seed, save, trace), pressed once each while the run plays.
- **playback**: frames drawn per second of wall time, and virtual time gained per wall
  second divided by the speed (1.00 keeps the speed), counted from the frame after space:
  from a fresh start (the engine runs ahead as the run plays), then after a rewind at
  several speeds, the slowest playing for several seconds.
- **End**: wall time from the key to the finished run on screen, and the longest gap
  between two frames meanwhile (a frozen screen shows as a gap as long as the whole wait).
- **moving in time** (``--moving``): on the generated run played to its end (10,000 tasks,
  about 107,000 events), ``,`` ``.`` ``<`` ``>`` pressed at its end, its middle and near its
  start: key to screen for each (a step back feeds the views from the nearest checkpoint,
  never from the start; the goal is 50 ms).

    python benchmarks/responsiveness.py              # both scenarios, about a minute
    python benchmarks/responsiveness.py --tasks 0    # process-overhead only
    python benchmarks/responsiveness.py --moving     # moving in time on the generated run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual import events

from concsim.scenario.library import bundled_scenarios
from concsim.ui.app import ConcsimApp, make_app
from concsim.ui.keymap import RUN_BINDINGS

SIZE = (160, 48)
TIMEOUT = 120.0  # seconds a key may take before the benchmark gives up on it
QUIET = 1.0  # a key whose action changes nothing on screen counts once its action has run


def ui_cpu() -> float:
    """CPU seconds of the UI thread (the main thread, where the app's event loop runs),
    read from any thread: what the app itself spent, whatever else the machine runs."""
    return time.clock_gettime(time.pthread_getcpuclockid(threading.main_thread().ident or 0))


def generated(tasks: int, folder: Path) -> str:
    """``process-overhead`` with ``tasks`` tasks instead of 1,000: same program, longer run."""
    bundled = next(p for p in bundled_scenarios() if p.stem == "process-overhead").read_text()
    path = folder / f"process-overhead-{tasks // 1000}k.yaml"
    path.write_text(
        bundled.replace("repeat: 1000", f"repeat: {tasks}").replace(
            "name: process-overhead", f"name: process-overhead-{tasks // 1000}k"
        )
    )
    return str(path)


def key_for(binding_id: str) -> str:
    """The first key bound to ``binding_id``: what a terminal's key press arrives as."""
    for binding in RUN_BINDINGS:
        if binding.id == binding_id:
            return binding.key.split(",")[0].strip()
    raise KeyError(binding_id)


KEYS = {  # what the person presses -> binding id
    "space": "play",
    ".": "step",
    ",": "step_back",
    "end": "to_end",
    "[": "slower",
    "]": "faster",
    "r": "rewind",
    "up": "lane_up",
    "down": "lane_down",
    "f": "fail",
    "t": "timeout",
    "c": "cancel",
    "k": "kill",
    "h": "hang",
    "i": "interrupt",
    "+": "zoom_in",
    "-": "zoom_out",
    "0": "zoom_fit",
    "x": "remove_fault",
    "v": "next_variant",
    "V": "prev_variant",
    "e": "filter_log",
    "n": "notes",
    "N": "new_seed",
    "s": "save",
    "T": "trace",
    "?": "help",
    "escape": "back",
    ">": "to_next_mark",
    "<": "to_prev_mark",
}
OTHER_KEYS = [  # every other key of the footer and help, each pressed while the run plays
    *["down", "up", "+", "-", "0", "e", "e", "n", "n", "?", "escape"],
    *["down", "f", "x", "t", "x", "c", "x", "k", "x", "h", "x", "i", "x", "up"],
    *["s", "T", "v", "V", "N"],
]
"""q quits (nothing is left to draw) and home is r's second key: neither is timed."""


@dataclass
class Probe:
    """Frames drawn and actions run, with their wall times, read by the typist thread."""

    app: ConcsimApp
    frames: list[float] = field(default_factory=list)
    actions: list[float] = field(default_factory=list)
    cpu: dict[float, float] = field(default_factory=dict)  # UI thread's CPU time at moments
    cpu_taken: float = 0.0  # the UI thread's CPU seconds from the last key to its frame
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        app = self.app
        display, dispatch = app._display, app._dispatch_action

        def on_display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                with self.lock:
                    now = time.perf_counter()
                    self.frames.append(now)
                    self.cpu[now] = time.thread_time()  # on the UI thread

        async def on_dispatch(*args: Any) -> bool:
            done = await dispatch(*args)
            with self.lock:
                now = time.perf_counter()
                self.actions.append(now)
                self.cpu[now] = time.thread_time()
            return done

        app._display = on_display  # type: ignore[method-assign]
        app._dispatch_action = on_dispatch  # type: ignore[method-assign]

    def frame_after(self, moment: float, timeout: float = TIMEOUT) -> float | None:
        """Block (in the typist thread) until a frame is drawn after ``moment``."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.lock:
                if self.frames and self.frames[-1] > moment:
                    return next(f for f in self.frames if f > moment)
            time.sleep(0.0005)
        return None

    def press(self, key: str, *, until: Callable[[], bool] | None = None) -> float:
        """Send ``key`` as a terminal would; seconds until the frame after its action
        (or, with ``until``, the first frame after ``until()`` holds)."""
        name = key_for(KEYS[key])
        with self.lock:
            handled = len(self.actions)
        sent, cpu = time.perf_counter(), ui_cpu()
        driver = self.app._driver
        assert driver is not None
        driver.send_message(events.Key(name, key if len(key) == 1 else None))
        deadline = sent + TIMEOUT
        while time.perf_counter() < deadline:
            with self.lock:
                acted = self.actions[handled] if len(self.actions) > handled else None
            if acted is not None and (until is None or until()):
                moment = max(acted, time.perf_counter() if until else acted)
                shown = self.frame_after(moment, QUIET)
                with self.lock:
                    self.cpu_taken = self.cpu.get(shown or acted, cpu) - cpu
                return (shown or moment) - sent
            time.sleep(0.0005)
        return TIMEOUT


async def wait_thread(worker: threading.Thread) -> None:
    worker.start()
    while worker.is_alive():
        await asyncio.sleep(0.01)


async def playback(app: ConcsimApp, probe: Probe, speed: float, seconds: float) -> str:
    """Play from t = 0 at ``speed`` for up to ``seconds`` of wall time."""
    screen = app.run_screen
    screen.speed = speed
    probe_thread = threading.Thread(target=probe.press, args=("space",))
    await wait_thread(probe_thread)
    # From the frame after space: the rate, not the key's latency.
    start_now, frames0, start = screen.session.now, len(probe.frames), time.perf_counter()
    cpu, process = ui_cpu(), time.process_time()
    while time.perf_counter() - start < seconds and not screen.session.finished:
        await asyncio.sleep(0.002)
    wall = time.perf_counter() - start
    cpu, process = ui_cpu() - cpu, time.process_time() - process
    gained = screen.session.now - start_now
    frames = len(probe.frames) - frames0
    if screen.playing:
        screen.playing = False
    # The CPU the UI thread (and the whole process: the engine's worker too) spent while
    # playing: on a shared machine the wall time says more about the others' work.
    return (
        f"x{speed:g}: {frames / wall:5.1f} frames/s, speed kept {gained / wall / speed:4.2f}"
        f" ({gained * 1e3:.0f} ms virtual in {wall:.2f} s wall; cpu {cpu * 1e3:.0f} ms UI"
        f" thread, {process * 1e3:.0f} ms process)"
    )


def end_run(probe: Probe) -> tuple[float, float, float]:
    """``end`` from a paused start: key to first frame, key to the finished run on screen,
    and the longest gap between two frames meanwhile."""
    screen = probe.app.run_screen
    first = probe.press("end")
    sent = time.perf_counter() - first
    total = probe.press_wait(lambda: screen.session.finished and not _busy(screen), sent)
    with probe.lock:
        frames = [f for f in probe.frames if sent <= f <= sent + total]
    gaps = [b - a for a, b in zip([sent, *frames], frames, strict=False)]
    return first, total, max(gaps, default=total)


def _busy(screen: Any) -> bool:
    """Whether a background job is running (never, in an app without them)."""
    return getattr(screen, "job", None) is not None


def _press_wait(self: Probe, done: Callable[[], bool], sent: float) -> float:
    deadline = sent + TIMEOUT
    while time.perf_counter() < deadline and not done():
        time.sleep(0.001)
    shown = self.frame_after(time.perf_counter())
    return (shown or deadline) - sent


Probe.press_wait = _press_wait  # type: ignore[attr-defined]


async def measure(
    target: str, label: str, speeds: tuple[float, ...], slow: float, rounds: int, folder: Path
) -> list[str]:
    app = make_app(run=target, paused=True, keymap={}, theme="textual-dark", replay_dir=folder)
    app.prefetch = True  # as the command line's app
    lines = [f"{label}:"]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        probe = Probe(app)
        probe.install()
        screen = app.run_screen
        session = screen.session
        lines.append(f"  {len(_all_events(session)):,} events, {_elapsed(session):.3f} s virtual")
        await _settle(screen)

        # Playback from a fresh start: nothing simulated yet, the engine runs ahead as it plays.
        lines.append("  playback from a fresh start " + await playback(app, probe, 1.0, 4.0))

        # Key latency while playing slowly enough that every key has something to change.
        latencies: dict[str, list[float]] = defaultdict(list)
        cpu: dict[str, list[float]] = defaultdict(list)
        for _ in range(rounds):
            for key in ["r", "space", "]", "[", ".", "space", ",", "space", "end"]:
                if key == "space" and not screen.playing:
                    screen.speed = slow
                await wait_thread(
                    threading.Thread(target=lambda k=key: latencies[k].append(probe.press(k)))
                )
                cpu[key].append(probe.cpu_taken)
                await _settle(screen)
                await asyncio.sleep(0.1)
        lines.append(
            "  key to screen while playing (median / max over the presses; r, space, ], [, .,"
            " space, ,, space, end per round):"
        )
        for key in ["space", ".", ",", "end", "[", "]", "r"]:
            values, spent = latencies[key], cpu[key]
            lines.append(
                f"    {key:>5}: wall {statistics.median(values) * 1e3:7.1f} ms / "
                f"{max(values) * 1e3:7.1f} ms, UI-thread cpu {statistics.median(spent) * 1e3:5.1f}"
                f" ms / {max(spent) * 1e3:6.1f} ms  ({len(values)} presses)"
            )

        # Every other key of the footer and help, once each, while the run plays.
        others: list[tuple[str, float, float]] = []
        for key in OTHER_KEYS:
            if not screen.playing and screen.app.screen is screen and not screen.session.finished:
                screen.speed = slow
                await wait_thread(threading.Thread(target=probe.press, args=("space",)))
            taken: list[float] = []
            await wait_thread(
                threading.Thread(target=lambda k=key, t=taken: t.append(probe.press(k)))
            )
            others.append((key, taken[0], probe.cpu_taken))
            if screen.app.screen is screen:
                await _settle(screen)
            if screen.session.finished:
                await wait_thread(threading.Thread(target=probe.press, args=("r",)))
                await _settle(screen)
        lines.append("  every other key, pressed once while playing (wall ms / UI-thread cpu ms):")
        for start in range(0, len(others), 8):
            lines.append(
                "    "
                + "  ".join(
                    f"{key}: {wall * 1e3:.0f}/{spent * 1e3:.0f}"
                    for key, wall, spent in others[start : start + 8]
                )
            )
        worst = max(others, key=lambda other: other[1])
        lines.append(
            f"    median {statistics.median(o[1] for o in others) * 1e3:.0f} ms, "
            f"max {worst[1] * 1e3:.0f} ms ({worst[0]})"
        )

        # Playback rate, from t = 0 after a rewind (the history is made by now).
        for speed in speeds:
            await wait_thread(threading.Thread(target=probe.press, args=("r",)))
            await _settle(screen)
            lines.append("  playback " + await playback(app, probe, speed, seconds=4.0))

        # End from a paused run at t = 0.
        await wait_thread(threading.Thread(target=probe.press, args=("r",)))
        await _settle(screen)
        result: list[tuple[float, float, float]] = []
        await wait_thread(threading.Thread(target=lambda: result.append(end_run(probe))))
        first, total, gap = result[0]
        lines.append(
            f"  end from t=0: first frame {first * 1e3:.0f} ms, finished on screen {total:.2f} s,"
            f" longest frame gap {gap * 1e3:.0f} ms"
        )
    return lines


async def _settle(screen: Any) -> None:
    """Wait for background work the last key started (none in a synchronous app)."""
    wait = getattr(screen, "wait_idle", None)
    if wait is not None:
        await asyncio.wait_for(wait(), TIMEOUT)


def _all_events(session: Any) -> list[Any]:
    from concsim.engine import Simulation

    sim = Simulation(session.scenario, variant=session.variant, seed=session.seed)
    return sim.run()


def _elapsed(session: Any) -> float:
    from concsim.engine import Simulation

    sim = Simulation(session.scenario, variant=session.variant, seed=session.seed)
    sim.run()
    return sim.now


async def moving(target: str, label: str, presses: int, folder: Path) -> list[str]:
    """Key to screen for , . < > on a big run played to its end, at three places."""
    app = make_app(run=target, paused=True, keymap={}, theme="textual-dark", replay_dir=folder)
    app.prefetch = True  # as the command line's app
    lines = [f"{label}, moving in time:"]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        probe = Probe(app)
        probe.install()
        screen = app.run_screen
        await _settle(screen)
        await wait_thread(threading.Thread(target=probe.press, args=("end",)))
        while not screen.session.finished or _busy(screen):
            await asyncio.sleep(0.05)
        session = screen.session
        end, count = session.now, session.seen
        kept = len(session.run.made.checkpoints)
        lines.append(f"  {count:,} events, {end:.3f} s virtual, {kept} checkpoints of the views")
        for share in (1.0, 0.5, 0.02):
            if share < 1.0:
                screen.seek_to(end * share)
                await _settle(screen)
            where = f"{session.now:.3f} s ({session.seen:,} events)"
            for key, times in ((",", presses), (".", presses), ("<", 3), (">", 3)):
                taken: list[float] = []
                spent: list[float] = []
                for _ in range(times):
                    await wait_thread(
                        threading.Thread(target=lambda k=key, t=taken: t.append(probe.press(k)))
                    )
                    spent.append(probe.cpu_taken)
                    await _settle(screen)
                lines.append(
                    f"    at {where}: {key} wall {statistics.median(taken) * 1e3:5.1f} ms / "
                    f"{max(taken) * 1e3:5.1f} ms, UI-thread cpu "
                    f"{statistics.median(spent) * 1e3:5.1f} ms / {max(spent) * 1e3:5.1f} ms"
                    f" (median / max, {times} presses)"
                )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000, help="generated scenario (0: none)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of key presses")
    parser.add_argument("--moving", action="store_true", help="only , . < > on the big run")
    args = parser.parse_args()
    print(f"terminal {SIZE[0]}x{SIZE[1]}, real wall clock, keys sent from another thread")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        if args.moving:
            path = generated(args.tasks or 10_000, Path(folder))
            label = f"generated ({args.tasks or 10_000:,} tasks)"
            for line in asyncio.run(moving(path, label, 10, Path(folder))):
                print(line, flush=True)
            return
        # (target, label, chosen speed, slow speed for the key presses)
        # (target, label, speeds played, slow speed for the key presses); the slowest speed
        # plays for several seconds.
        targets = [
            ("process-overhead", "process-overhead (1,000 tasks)", (1.0, 1 / 8, 1 / 32), 1 / 16)
        ]
        if args.tasks:
            path = generated(args.tasks, Path(folder))
            targets.append((path, f"generated ({args.tasks:,} tasks)", (4.0, 1.0, 1 / 4), 1 / 4))
        for target, label, speeds, slow in targets:
            lines = asyncio.run(measure(target, label, speeds, slow, args.rounds, Path(folder)))
            for line in lines:
                print(line, flush=True)


if __name__ == "__main__":
    main()
