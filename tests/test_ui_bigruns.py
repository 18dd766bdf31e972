"""Big runs stay responsive: the event log draws what is visible, the futures panel sums up,
and running to the end happens on a worker thread with the same events as the direct path."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult

from concsim.engine import Simulation
from concsim.events import Event, LaneState, LaneStateChanged
from concsim.replay import open_scenario
from concsim.scenario.loader import load_scenario_text
from concsim.ui.app import make_app
from concsim.ui.jobs import JobKind
from concsim.ui.panels import futures_text, tasks_noun
from concsim.ui.session import Session, SimulationLike, engine_factory
from concsim.ui.widgets.eventlog import EventLog


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def changes(count: int) -> list[Event]:
    """``count`` lane changes, 1 ms apart, alternating between two lanes."""
    return [
        LaneStateChanged(
            t=k / 1000, seq=k, lane=f"thread-{k % 2}", state=LaneState.RUNNING, step=f"step {k}"
        )
        for k in range(count)
    ]


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EventLog(id="log")


async def wrapped_for(events: Sequence[Event], fed: int = 0) -> tuple[int, EventLog, list[str]]:
    """Events wrapped into lines to draw one screen of ``events`` (and after ``fed`` more)."""
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(EventLog)
        log.rebuild(events, len(events) - fed, None)
        await pilot.pause()
        before = log.wrapped
        if fed:
            log.feed(len(events))
            await pilot.pause()
        region = log.scrollable_content_region
        lines = [strip.text for strip in log._lines(region.width, region.height)]
        return log.wrapped - (before if fed else 0), log, lines


def test_the_event_log_draws_only_the_lines_on_screen() -> None:
    """A 100,000-event log costs what a 1,000-event one does: the events of one screen
    wrapped (twice: the first layout draws before the scrollbar takes its column)."""
    small, _, small_lines = asyncio.run(wrapped_for(changes(1_000)))
    big, log, big_lines = asyncio.run(wrapped_for(changes(100_000)))
    assert small == big <= 2 * 12
    assert big_lines[-1].startswith("   100s thread-1")  # the newest event at the bottom
    assert "step 99999" in big_lines[-2] + big_lines[-1]
    assert small_lines[-1].startswith("  999ms thread-1")
    assert log.virtual_size.height == 100_000 and log.follow


def test_feeding_the_event_log_wraps_only_the_new_lines_in_view() -> None:
    """5,000 events fed at once wrap about a screen's worth, not 5,000."""
    wrapped, _, lines = asyncio.run(wrapped_for(changes(100_000), fed=5_000))
    assert wrapped <= 12
    assert "step 99999" in lines[-2] + lines[-1]


def test_a_lane_filter_scans_a_slice_per_turn_and_keeps_what_the_filter_keeps() -> None:
    """e on a 100,000-event log: the scan runs in slices (keys in between), newest first."""

    async def scenario() -> tuple[list[int], list[int]]:
        app = LogApp()
        async with app.run_test(size=(60, 12)) as pilot:
            log = app.query_one(EventLog)
            events = changes(100_000)
            log.rebuild(events, len(events), lambda e: getattr(e, "lane", "") == "thread-1")
            assert log.is_scanning  # not all at once
            while log.is_scanning:
                await pilot.pause()
            return list(log.entries), [k for k in range(len(events)) if k % 2 == 1]

    kept, expected = asyncio.run(scenario())
    assert kept == expected


def test_the_futures_panel_summarises_process_overhead() -> None:
    """1,000 futures: counts by state, the running ones, the latest to change; the latest
    results, never 1,000 rows."""
    session = Session(open_scenario("process-overhead"), source="process-overhead")
    session.advance_to(0.1)
    assert futures_text(session.ledger).plain.splitlines() == [
        "1,000 futures: ◐ 9 running · ○ 271 pending · ✓ 720 done",
        "running:",  # moved into the call queue (marked running), no worker took them yet
        *[f"◔ square-{k} running, in queue" for k in range(721, 727)],
        "  and 3 more",
        "latest to change:",  # the manager thread sets results, then moves calls in
        *[f"◔ square-{k} running, in queue" for k in (727, 728, 729)],
        "✓ square-718 done",
        "✓ square-719 done",
        "✓ square-720 done",
        "◔ marked running in the call queue; no worker took it",
        "received 720, in order; the latest:",
        "  …",
        *[f"{k}. '{k}'" for k in range(715, 721)],
    ]
    session.run_to_end()
    assert futures_text(session.ledger).plain.splitlines()[:2] == [
        "1,000 futures: ✓ 1,000 done",
        "latest to change:",
    ]


class Gate:
    """Holds the engine when a worker thread steps it, until the test opens the gate."""

    def __init__(self) -> None:
        self.armed = threading.Event()
        self.open = threading.Event()
        self.waiting = threading.Event()


class GatedSimulation:
    """The real simulation; ``step`` on a worker thread waits for the gate."""

    def __init__(self, sim: SimulationLike, gate: Gate) -> None:
        self._sim = sim
        self._gate = gate

    def step(self) -> list[Event]:
        self._hold()
        return self._sim.step()

    def step_count(self) -> int:
        """``step`` as the app drives it (its events left as rows), held alike."""
        self._hold()
        return self._sim.step_count()  # type: ignore[attr-defined, no-any-return]

    def _hold(self) -> None:
        if self._gate.armed.is_set() and threading.current_thread() is not threading.main_thread():
            self._gate.waiting.set()
            self._gate.open.wait(timeout=60)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sim, name)


def test_end_on_a_big_run_works_on_a_thread_and_keys_are_answered_meanwhile() -> None:
    """GIVEN process-overhead (10,783 events), WHEN end is pressed, THEN a job runs to the
    end while ] still changes the speed, and the events equal those of Simulation.run()."""
    gate = Gate()

    def factory(*args: Any) -> SimulationLike:
        return GatedSimulation(engine_factory(*args), gate)  # type: ignore[return-value]

    async def scenario() -> list[dict[str, Any]]:
        app = make_app(run="process-overhead", paused=True, keymap={}, factory=factory)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = app.run_screen
            await screen.wait_idle()  # the variants' lengths (measured on a thread too)
            gate.armed.set()
            await pilot.press("end")
            # WHEN the engine is held on the worker thread
            assert screen.job is not None and screen.job.kind is JobKind.END
            await asyncio.to_thread(gate.waiting.wait, 60)
            await pilot.press("right_square_bracket")
            # THEN the key was answered, and the status bar says what is going on
            assert screen.speed == 2.0 and screen.job is not None
            assert "running to the end" in str(screen.query_one("#status").render())
            gate.open.set()
            await screen.wait_idle()
            await pilot.pause()
            assert screen.session.finished and screen.mode == "finished"
            assert screen.session.seen == len(screen.session.events)
            assert screen.query_one(EventLog).known == len(screen.session.events)
            return [event.to_dict() for event in screen.session.events]

    events = asyncio.run(scenario())
    direct = Simulation(open_scenario("process-overhead")).run()
    assert events == [event.to_dict() for event in direct]


@pytest.mark.parametrize(
    ("variant", "noun"), [(None, "futures"), ("sequential", "calls"), ("chunked", "futures")]
)
def test_the_tasks_panel_names_what_the_program_holds(variant: str | None, noun: str) -> None:
    """A sequential program makes calls, not futures: the panel counts what the code has."""
    scenario = open_scenario("process-overhead")
    session = Session(scenario, source="process-overhead", variant=variant)
    session.advance_to(0.1)
    first = futures_text(session.ledger, tasks_noun(scenario.variant(variant).program))
    assert first.plain.splitlines()[0].startswith(f"1,000 {noun}: ")


def test_one_thread_per_task_is_counted_as_threads() -> None:
    program = load_scenario_text(
        "version: 1\nname: t\nprogram: {executor: false}\ntasks: [{name: a, steps: [io: 1ms]}]\n"
    ).program
    assert tasks_noun(program) == "threads"


def test_a_task_stopped_at_its_check_is_done_but_stopped_early() -> None:
    """``if stop.is_set(): return`` returns normally (its future, with an executor, holds
    None), but it stopped early: the panel says so with its lane's glyph and word."""
    scenario = open_scenario("cooperative-thread-cancel")
    session = Session(scenario, source="cooperative-thread-cancel")
    session.advance_to(2.0)
    text = futures_text(session.ledger, tasks_noun(scenario.program)).plain
    assert "∎ worker-1 stopped early" in text.splitlines()
    assert "∎ worker-2 stopped early" in text.splitlines()


def test_a_process_that_died_is_killed_in_the_panel_as_on_its_lane() -> None:
    """terminate-skips-finally: writer's row has its lane's † (killed), not ✗ (raised);
    polite, which returned at its check, its lane's ∎ (stopped early)."""
    scenario = open_scenario("terminate-skips-finally")
    session = Session(scenario, source="terminate-skips-finally")
    session.advance_to(2.0)
    text = futures_text(session.ledger, tasks_noun(scenario.program)).plain
    assert text.splitlines()[:2] == [
        "† writer killed, exitcode -15, no finally",
        "∎ polite stopped early, exitcode 0",
    ]
