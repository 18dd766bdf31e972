"""The Chrome trace export: the Trace Event Format's rules, and tracks that are the run's lanes."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from perfettokit import PerfettoEngine

from concsim.cli import main
from concsim.durations import format_duration
from concsim.engine import Injection, Simulation
from concsim.events import Event, LaneCreated, LaneKind
from concsim.export.trace import chrome_trace
from concsim.scenario.library import find_scenario, scenario_index
from concsim.scenario.loader import load_scenario
from concsim.ui.timeline import Timeline

# Required keys of each event phase used, from the Trace Event Format document.
REQUIRED: dict[str, set[str]] = {
    "X": {"name", "cat", "ph", "ts", "dur", "pid", "tid"},
    "i": {"name", "cat", "ph", "ts", "s", "pid", "tid"},
    "M": {"name", "ph", "pid", "tid", "args"},
    "s": {"name", "cat", "ph", "id", "ts", "pid", "tid"},
    "f": {"name", "cat", "ph", "id", "ts", "pid", "tid"},
}
METADATA_NAMES = {"process_name", "process_sort_index", "thread_name", "thread_sort_index"}


def run(name: str, *injections: Injection, variant: str | None = None) -> list[Event]:
    sim = Simulation(load_scenario(find_scenario(name)), variant=variant, injections=injections)
    sim.run()
    return sim.events


def check_format(trace: dict[str, Any]) -> None:
    """Everything the format asks of a JSON-object trace, as far as concsim writes it."""
    assert set(trace) == {"traceEvents", "displayTimeUnit", "otherData"}
    assert trace["displayTimeUnit"] in ("ms", "ns")
    json.dumps(trace)  # plain JSON, nothing that needs a default
    slices: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    flows: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for event in trace["traceEvents"]:
        phase = event["ph"]
        assert REQUIRED[phase] <= set(event), event
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
        if phase == "M":
            assert event["name"] in METADATA_NAMES
            continue
        assert isinstance(event["ts"], int | float) and event["ts"] >= 0, event
        if phase == "X":
            assert event["dur"] > 0, event
            slices[event["pid"], event["tid"]].append(event)
        elif phase == "i":
            assert event["s"] in ("t", "p", "g")
        else:
            assert phase not in flows[event["id"]], f"flow {event['id']} has two {phase!r}"
            flows[event["id"]][phase] = event
            assert event.get("bp", "e") == "e"
    for track, events in slices.items():
        # Complete events on one thread come in time order and nest properly.
        assert [e["ts"] for e in events] == sorted(e["ts"] for e in events), track
        open_ends: list[float] = []
        for e in events:
            while open_ends and open_ends[-1] <= e["ts"]:
                open_ends.pop()
            end = e["ts"] + e["dur"]
            assert not open_ends or end <= open_ends[-1] + 1e-6, f"{e} overlaps on {track}"
            open_ends.append(end)
    for flow, ends in flows.items():
        assert set(ends) == {"s", "f"}, f"flow {flow} is not a start and a finish"
        assert ends["s"]["ts"] <= ends["f"]["ts"]
        for end in ends.values():
            # Strictly inside a slice of its own track, so it binds without ambiguity.
            around = [
                e
                for e in slices[end["pid"], end["tid"]]
                if e["ts"] < end["ts"] < e["ts"] + e["dur"]
            ]
            assert around, f"flow {flow} {end['ph']} binds to no slice"


def tracks(trace: dict[str, Any]) -> list[tuple[int, str]]:
    """(pid, thread name) of every thread track, in sort order."""
    names: dict[tuple[int, int], str] = {}
    order: dict[tuple[int, int], int] = {}
    for e in trace["traceEvents"]:
        if e["name"] == "thread_name":
            names[e["pid"], e["tid"]] = e["args"]["name"]
        elif e["name"] == "thread_sort_index":
            order[e["pid"], e["tid"]] = e["args"]["sort_index"]
    return [(key[0], names[key]) for key in sorted(names, key=order.__getitem__)]


def find(trace: dict[str, Any], **fields: Any) -> list[dict[str, Any]]:
    return [e for e in trace["traceEvents"] if all(e.get(k) == v for k, v in fields.items())]


@pytest.mark.parametrize("name", [info.name for info in scenario_index()])
def test_every_bundled_scenario_gives_a_valid_trace_whose_tracks_are_its_lanes(
    name: str,
) -> None:
    events = run(name)
    trace = chrome_trace(events)
    check_format(trace)
    timeline = Timeline()
    timeline.feed(events)
    # One track per row of the lanes view, in its order, and one process per process.
    assert [name for _, name in tracks(trace)] == [track.name for track in timeline.rows]
    lanes = [e for e in events if isinstance(e, LaneCreated)]
    processes = {lane.lane for lane in lanes if lane.lane_kind is LaneKind.PROCESS}
    assert len({pid for pid, _ in tracks(trace)}) == 1 + len(processes)


@pytest.mark.parametrize(
    ("name", "injection"),
    [
        ("broken-process-pool", Injection(0.1, "kill", "process-2")),
        ("ctrl-c-shutdown", Injection(0.15, "interrupt", "main")),
        ("io-threads", Injection(0.1, "hang", "request-3")),
        ("wait-for-cleanup", Injection(0.05, "cancel", "query")),
        ("deadlock-lock-order", Injection(0.05, "fail", "transfer-a", "ValueError")),
    ],
)
def test_runs_with_injected_faults_give_valid_traces(name: str, injection: Injection) -> None:
    events = run(name, injection)
    trace = chrome_trace(events)
    check_format(trace)
    assert trace["otherData"]["faults"][-1].startswith(
        f"{format_duration(round(injection.at * 1_000_000))}:{injection.fault}:"
    )


def test_slices_are_the_lanes_intervals_in_microseconds_with_task_and_step() -> None:
    trace = chrome_trace(run("failure-during-as-completed"))
    pids = {e["args"]["name"]: e["pid"] for e in find(trace, name="process_name")}
    tids = {e["args"]["name"]: e["tid"] for e in find(trace, name="thread_name")}
    assert pids == {"main process": 1}
    thread_2 = [
        (e["name"], e["ts"], e["dur"], e["args"].get("task"))
        for e in find(trace, ph="X", tid=tids["thread-2"], cat="state")
    ]
    # job-2 fails at 0.2 s and job-3 starts on the same thread at once: two slices, not one.
    assert thread_2 == [
        ("I/O or sleep", 0.0, 200_000.0, "job-2"),
        ("I/O or sleep", 200_000.0, 500_000.0, "job-3"),
        ("I/O or sleep", 700_000.0, 500_000.0, "job-5"),
    ]
    main_thread = [
        (e["ts"], e["dur"], e["args"]["step"])
        for e in find(trace, ph="X", tid=tids["main thread"], cat="state")
    ]
    assert main_thread == [
        (0.0, 200_000.0, "as_completed()"),
        (200_000.0, 1_300_000.0, "shutdown(wait=True)"),
    ]


def test_a_raise_and_its_re_raise_are_joined_by_a_flow_arrow() -> None:
    trace = chrome_trace(run("failure-during-as-completed"))
    check_format(trace)
    tids = {e["args"]["name"]: e["tid"] for e in find(trace, name="thread_name")}
    start, finish = find(trace, ph="s"), find(trace, ph="f")
    assert [(e["name"], e["tid"], e["ts"]) for e in start] == [
        ("ConnectionError", tids["thread-2"], 199_999.5)
    ]
    assert [(e["name"], e["tid"], e["ts"], e["id"]) for e in finish] == [
        ("ConnectionError", tids["main thread"], 200_000.5, start[0]["id"])
    ]
    anchors = [(e["name"], e["tid"], e["ts"]) for e in find(trace, ph="X", cat="exception")]
    assert anchors == [
        ("raise ConnectionError", tids["thread-2"], 199_999.0),
        ("re-raise ConnectionError", tids["main thread"], 200_000.0),
    ]


def test_faults_raises_and_cancels_are_instants_and_the_faults_are_named() -> None:
    events = run(
        "shutdown-cancel-futures",
        Injection(0.1, "fail", "job-1", "ValueError"),
    )
    trace = chrome_trace(events)
    check_format(trace)
    tids = {e["args"]["name"]: e["tid"] for e in find(trace, name="thread_name")}
    instants = [(e["name"], e["cat"], e["ts"], e["tid"]) for e in find(trace, ph="i")]
    assert ("fail job-1", "fault", 100_000.0, tids["thread-1"]) in instants
    assert ("raise ValueError", "exception", 100_000.0, tids["thread-1"]) in instants
    assert trace["otherData"] == {
        "scenario": "shutdown-cancel-futures",
        "variant": None,
        "seed": 0,
        "model": "threads",
        "faults": ["100ms:fail:job-1:ValueError"],
        "clock": "virtual seconds, written as microseconds",
    }


def test_cancels_are_instants_on_the_cancelled_lanes() -> None:
    trace = chrome_trace(run("taskgroup-cancels-siblings"))
    tids = {e["args"]["name"]: e["tid"] for e in find(trace, name="thread_name")}
    cancels = [(e["name"], e["ts"], e["tid"]) for e in find(trace, ph="i", cat="cancel")]
    assert cancels == [
        ("cancel() → True", 300_000.0, tids["fast"]),
        ("cancel() → True", 300_000.0, tids["slow"]),
        ("cancel() → True", 300_000.0, tids["main()"]),  # the group's late cancel of main
        ("CancelledError delivered", 300_000.0, tids["fast"]),
        ("CancelledError delivered", 300_000.0, tids["slow"]),
    ]


def test_a_taskgroup_s_late_cancel_of_main_lands_on_main_s_lane() -> None:
    """3.11: _on_task_done of the first failed child, once __aexit__ runs, calls
    main_task.cancel(); no TaskSubmitted names the task asyncio.run made of main(), and its
    instant is still on main's thread, never run-wide on tid 0."""
    trace = chrome_trace(run("taskgroup-cancels-siblings"))
    tids = {e["args"]["name"]: e["tid"] for e in find(trace, name="thread_name")}
    late = [e for e in find(trace, ph="i", cat="cancel") if "on main" in e["args"]["why"]]
    assert late == [
        {
            "name": "cancel() → True",
            "cat": "cancel",
            "ph": "i",
            "ts": 300_000.0,
            "args": {
                "why": "cancel() on main returned True: TaskGroup cancels main, whose async "
                "with body has ended, because fails raised ValueError; __aexit__ drops the "
                "CancelledError but never uncancels it."
            },
            "s": "t",
            "pid": 1,
            "tid": 3,
        }
    ]
    assert tids["main()"] == 3


def test_the_gil_is_a_track_of_slices_named_by_their_holder() -> None:
    trace = chrome_trace(run("cpu-threads-gil"))
    gil = {e["tid"] for e in find(trace, name="thread_name") if e["args"]["name"] == "GIL"}
    assert len(gil) == 1
    held = find(trace, ph="X", cat="gil")
    assert {e["tid"] for e in held} == gil
    # thread-1 keeps the GIL while main starts thread-2 (main holds it for no time at 5 ms).
    assert [(e["name"], e["ts"], e["dur"]) for e in held[:3]] == [
        ("thread-1", 0.0, 10_000.0),
        ("thread-2", 10_000.0, 5_000.0),
        ("thread-1", 15_000.0, 5_000.0),
    ]


def test_each_worker_process_is_a_trace_process_with_its_own_gil() -> None:
    trace = chrome_trace(run("process-divisors"))
    check_format(trace)
    processes = [e["args"]["name"] for e in find(trace, name="process_name")]
    assert processes == ["main process", "process-1", "process-2", "process-3", "process-4"]
    assert tracks(trace)[:5] == [
        (1, "main thread"),
        (1, "GIL"),
        (1, "Thread-1"),  # the pool's manager thread, in the parent
        (2, "process-1"),
        (2, "GIL"),
    ]


def test_an_unfinished_run_ends_at_now() -> None:
    sim = Simulation(load_scenario(find_scenario("io-threads")))
    sim.advance(0.25)
    trace = chrome_trace(sim.events, now=0.25)
    check_format(trace)
    assert {e["ts"] + e["dur"] for e in find(trace, ph="X", cat="state")} == {250_000.0}


def test_headless_trace_option_writes_the_file_and_says_where(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    result = CliRunner().invoke(
        main, ["run", "io-threads", "--headless", "--json", "--trace", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scenario"] == "io-threads"  # stdout stays the outcome
    assert result.stderr.startswith(f"trace: wrote {path} ")
    trace = json.loads(path.read_text(encoding="utf-8"))
    check_format(trace)
    assert trace == chrome_trace(run("io-threads"))


@pytest.mark.parametrize(
    "name",
    [
        "failure-during-as-completed",  # a flow arrow from a raise to its re-raise
        "process-divisors",  # worker processes, each with its own GIL track
        "taskgroup-cancels-siblings",  # coroutines and cancels
        "deadlock-lock-order",  # a run-wide instant
    ],
)
def test_perfetto_loads_the_trace_and_its_tracks_are_the_lanes(name: str) -> None:
    """Perfetto UI's own trace processor imports the trace without an error, and shows one
    thread track per row of the lanes view, named like it, in the process it belongs to."""
    events = run(name)
    trace = chrome_trace(events)
    timeline = Timeline()
    timeline.feed(events)
    with PerfettoEngine(json.dumps(trace).encode()) as perfetto:
        problems = perfetto.query(
            "select name, severity, value from stats"
            " where severity in ('error', 'data_loss') and value > 0"
        )
        threads = perfetto.query(
            "select thread.tid, thread.name, process.name as process"
            " from thread left join process using (upid) where thread.utid != 0"
        )
        on_threads = perfetto.query(
            "select thread.tid, count(slice.id) as n from thread_track"
            " join thread using (utid) join slice on slice.track_id = thread_track.id"
            " group by thread.tid"
        )
        slices = perfetto.query("select count(*) as n from slice")[0]["n"]
        flows = perfetto.query("select count(*) as n from flow")[0]["n"]
    assert perfetto.load_errors == []
    assert problems == []
    # Every thread Perfetto made is a row, in its process (none unnamed, none missing).
    assert sorted((t["process"], t["name"]) for t in threads) == sorted(
        ("main process" if track.process == "main" else track.process, track.name)
        for track in timeline.rows
    )
    written = Counter(e["tid"] for e in trace["traceEvents"] if e["ph"] == "X" or e.get("s") == "t")
    assert {row["tid"]: row["n"] for row in on_threads} == written
    assert sum(written.values()) > 0
    assert slices == len(find(trace, ph="X")) + len(find(trace, ph="i"))
    assert flows == len(find(trace, ph="s"))
