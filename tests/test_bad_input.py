"""Bad input gives one clear line each -- never a traceback, never a hang, never lost work.

Each class of input that once crashed or hung concsim, with the exact line it gives now.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from concsim.cli import main
from concsim.engine import Simulation
from concsim.events import WarningIssued
from concsim.replay import ReplayError, load_replay
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario, load_scenario_text
from concsim.ui.keymap import load_keymap

IO_THREADS = Path(__file__).resolve().parents[1] / "scenarios" / "io-threads.yaml"


def lines_of_text(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "s.yaml")
    return str(caught.value).splitlines()


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def task_with(step: str) -> str:
    return f"name: x\ntasks:\n  - name: a\n    steps: [{step}]\n"


# --- extreme numbers ---------------------------------------------------------------------

TOO_LONG = "expected a duration of at most 1000000s (about 11.6 days)"


@pytest.mark.parametrize(
    "value", ["1.0e+303", "9" * 400, '"' + "9" * 400 + 's"', '"1000001s"', "1000000.5"]
)
def test_a_duration_past_the_range_is_one_line(value: str) -> None:
    assert lines_of_text(task_with(f"{{io: {value}}}")) == [
        f"s.yaml:4:18: tasks[0].steps[0].io: {TOO_LONG}"
    ]


def test_the_longest_duration_is_valid() -> None:
    scenario = load_scenario_text(task_with("{io: 1000000s}"))
    assert scenario.tasks[0].steps[0].io == 1_000_000 * 1_000_000  # type: ignore[union-attr]


def test_an_injection_past_the_range_is_one_usage_line() -> None:
    code, _, err = invoke("run", "io-threads", "--headless", "--inject", "9" * 30 + "s:fail:main")
    assert code == 2
    assert err == f"concsim run: Invalid value: '{'9' * 30}s:fail:main': {TOO_LONG}\n"


@pytest.mark.parametrize(("prefix", "length"), [("", 5000), ("0", 5001)])
def test_an_integer_of_more_than_4300_digits_is_one_line(prefix: str, length: int) -> None:
    text = "name: x\nseed: " + prefix + "7" * 5000 + "\n"
    assert lines_of_text(text) == [
        f"s.yaml:2:7: seed: a number of {length} characters; expected a number of at most "
        "4300 digits"
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("seed: -1", "s.yaml:2:7: seed: expected a number 0 or more, got -1"),
        (
            "seed: 18446744073709551616",
            "s.yaml:2:7: seed: expected a number 18446744073709551615 or less, got "
            "18446744073709551616",
        ),
        (
            "order: 1000000001",
            "s.yaml:2:8: order: expected a number 1000000000 or less, got 1000000001",
        ),
        (
            "shared: {c: 99999999999999999999999999}",
            "s.yaml:2:13: shared.c: expected a number 9223372036854775807 or less, got a "
            "number of 26 digits",
        ),
        (
            "tasks: [{name: a, arg_kb: .nan}]",
            "s.yaml:2:27: tasks[0].arg_kb: expected a finite number, 1000000 or less, got nan",
        ),
        (
            "tasks: [{name: a, result_kb: .inf}]",
            "s.yaml:2:30: tasks[0].result_kb: expected a number 1000000 or less, got inf",
        ),
        (
            "machine: {jitter: .nan}",
            "s.yaml:2:19: machine.jitter: expected a finite number, less than 1, got nan",
        ),
        (
            "queues: {q: {maxsize: 10000000000}}",
            "s.yaml:2:23: queues.q.maxsize: expected a number 1000000000 or less, got 10000000000",
        ),
    ],
)
def test_every_number_has_a_range(text: str, line: str) -> None:
    assert lines_of_text(f"name: x\n{text}\n") == [line]


@pytest.mark.parametrize(
    ("at", "line"),
    [
        (".nan", "r.yaml:6:8: injections[0].at: expected a time in seconds, 0 to 1000000, got nan"),
        (".inf", "r.yaml:6:8: injections[0].at: expected a time in seconds, 0 to 1000000, got inf"),
        (
            "1e308",  # YAML 1.1 reads it as text: a float needs a dot
            "r.yaml:6:8: injections[0].at: expected a time in seconds, 0 to 1000000, got '1e308'",
        ),
        (
            "1.0e+308",
            "r.yaml:6:8: injections[0].at: expected a time in seconds, 0 to 1000000, got 1e+308",
        ),
    ],
)
def test_a_replay_time_out_of_range_is_one_line(
    at: str, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("r.yaml").write_text(
        f"format: concsim-replay/1\nscenario: io-threads\nvariant: null\nseed: 0\n"
        f"injections:\n- {{at: {at}, fault: fail, target: main}}\n"
    )
    with pytest.raises(ReplayError) as caught:
        load_replay("r.yaml")
    assert str(caught.value) == line


def test_a_replay_seed_of_inf_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("r.yaml").write_text("format: concsim-replay/1\nscenario: io-threads\nseed: .inf\n")
    code, _, err = invoke("run", "--replay", "r.yaml", "--headless")
    assert (code, err) == (2, "r.yaml:3:7: seed: expected an integer 0 to 2**64-1, got inf\n")


def test_a_json_replay_with_nan_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("r.json").write_text(
        '{"format": "concsim-replay/1", "scenario": "io-threads", "seed": 0,\n'
        ' "injections": [{"at": NaN, "fault": "fail", "target": "main"}]}\n'
    )
    code, _, err = invoke("run", "--replay", "r.json", "--headless")
    assert (code, err) == (
        2,
        "r.json:2:24: (file): `NaN` is not a JSON number; expected a finite number\n",
    )


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("r.json", "r.json:1:1: (file): nested 100000 levels deep; expected at most 64"),
        (
            "r.yaml",
            "r.yaml:1:1001: (file): invalid YAML: exceeded maximum nesting depth (while "
            "increasing flow level at 1:1001)",
        ),
    ],
)
def test_a_replay_nested_100000_deep_is_one_line(
    name: str, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(name).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ReplayError) as caught:
        load_replay(name)
    assert str(caught.value) == line


def test_a_replay_naming_no_scenario_is_placed_in_the_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("r.yaml").write_text("format: concsim-replay/1\nscenario: '2024-05-01'\nseed: 0\n")
    with pytest.raises(ReplayError) as caught:
        load_replay("r.yaml")
    assert str(caught.value) == (
        "r.yaml:2:11: scenario: '2024-05-01': no such file or bundled scenario; see `concsim list`"
    )


@pytest.mark.parametrize("speed", ["nan", "inf", "1e308", "0", "-1", "65", "abc"])
def test_speed_is_positive_and_finite(speed: str) -> None:
    """--speed takes the range [ and ] move through; anything else is one line, exit 2."""
    code, _, err = invoke("run", "io-threads", "--speed", speed)
    assert code == 2
    assert err == (
        f"concsim run: Invalid value for '--speed': expected a speed from 1/64 to 64, got {speed}\n"
    )


def test_a_seed_past_2_to_the_64_is_refused() -> None:
    code, _, err = invoke("run", "io-threads", "--headless", "--seed", str(2**64))
    assert code == 2
    assert err == (
        "concsim run: Invalid value for '--seed': 18446744073709551616 is not in the range "
        "0<=x<=18446744073709551615.\n"
    )


def test_new_seed_after_the_largest_wraps_to_0(tmp_path: Path) -> None:
    """`N` on seed 2**64 - 1 restarts with seed 0, not a seed out of range."""
    from concsim.ui.app import make_app

    async def body() -> None:
        app = make_app(run="io-threads", seed=2**64 - 1, paused=True, keymap={})
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("N")
            await pilot.pause()
            assert app.run_screen.session.seed == 0

    asyncio.run(body())


# --- YAML core tags on the wrong value, a list where a name belongs ----------------------


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("!!int abc", "s.yaml:2:10: summary: `!!int` on 'abc'; expected an integer, or no tag"),
        (
            "!!bool maybe",
            "s.yaml:2:10: summary: `!!bool` on 'maybe'; expected true or false, or no tag",
        ),
        ("!!float", "s.yaml:2:10: summary: `!!float` on nothing; expected a number, or no tag"),
    ],
)
def test_a_core_tag_on_the_wrong_value_is_one_line(value: str, line: str) -> None:
    assert lines_of_text(f"name: x\nsummary: {value}\n") == [line]


@pytest.mark.parametrize("kind", ["write", "read", "acquire", "release", "put", "get"])
def test_a_list_where_a_name_belongs_is_one_line(kind: str) -> None:
    text = "name: x\nshared: {c: 0}\nqueues: {q: {}}\n" + task_with(f"{{{kind}: [c]}}")[8:]
    assert lines_of_text(text) == [
        f"s.yaml:6:{16 + len(kind)}: tasks[0].steps[0].{kind}: expected text, got a list"
    ]


# --- variants get the name checks ------------------------------------------------------

VARIANT = """\
name: x
shared: {c: 0}
queues: {q: {}}
tasks:
  - {name: a, steps: [{write: c}]}
variants:
  - name: v
    program: {main: [{submit: [b]}, collect]}
    tasks:
      - {name: b, steps: [{io: 1s}]}
"""


def test_a_variants_own_tasks_are_checked_like_the_files() -> None:
    text = VARIANT + "      - {name: b, steps: [{write: cc}, {get: qq}, {release: L}, collect]}\n"
    assert lines_of_text(text) == [
        "s.yaml:11:16: variants[0].tasks[1].name: task name `b` is used twice (first at 10:16)",
        "s.yaml:11:35: variants[0].tasks[1].steps[0].write: no shared variable `cc`; did you "
        "mean `c`?",
        "s.yaml:11:46: variants[0].tasks[1].steps[1].get: no queue `qq`; did you mean `q`?",
        "s.yaml:11:61: variants[0].tasks[1].steps[2].release: lock `L` is never acquired; "
        "expected an `acquire` of it first",
        "s.yaml:11:65: variants[0].tasks[1].steps[3]: `collect` is a step of the main "
        "program; expected it under program.main, not in a task",
    ]


def test_a_variant_without_main_must_keep_the_tasks_main_submits() -> None:
    text = VARIANT.replace(
        "tasks:\n  - {name: a", "program: {main: [{submit: [a]}, collect]}\ntasks:\n  - {name: a"
    )
    text += "  - name: w\n    tasks: [{name: c}]\n"
    assert lines_of_text(text) == [
        "s.yaml:13:12: variants[1].tasks: with this variant, program.main[0] submits `a`, "
        "which is not one of its tasks"
    ]


def test_a_variant_submits_and_injects_into_its_own_tasks(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(VARIANT)
    load_scenario(path)  # `submit: [b]` names the variant's own task
    code, out, err = invoke(
        "run", str(path), "--headless", "--json", "--variant", "v", "--inject", "0.5s:fail:b"
    )
    assert (code, err) == (0, "")
    assert '"error": "RuntimeError"' in out


def test_an_empty_variant_name_is_an_error() -> None:
    code, _, err = invoke("run", "io-threads", "--headless", "--variant", "")
    assert code == 2
    assert err == (
        "concsim run: Invalid value for --variant: expected a variant's name, got nothing\n"
    )


# --- special and huge files --------------------------------------------------------------


def test_special_files_are_refused_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """/dev/zero and a FIFO (which blocks on open without O_NONBLOCK) give one line each,
    for scenarios, replays and the keymap, and the other files are still reported."""
    monkeypatch.chdir(tmp_path)
    os.mkfifo("fifo.yaml")
    Path("ok.yaml").write_text("name: ok\n")
    Path("big.yaml").write_text("#" * 1_000_001)
    code, _, err = invoke("validate", "/dev/zero", "fifo.yaml", "big.yaml", "ok.yaml")
    assert (code, err.splitlines()) == (
        2,
        [
            "/dev/zero:1:1: (file): is a character device, not a regular file; expected a "
            "scenario .yaml file",
            "fifo.yaml:1:1: (file): is a FIFO (named pipe), not a regular file; expected a "
            "scenario .yaml file",
            "big.yaml:1:1: (file): is 1 MB, over the limit of 1 MB; expected a scenario .yaml file",
        ],
    )
    code, _, err = invoke("run", "--replay", "fifo.yaml", "--headless")
    assert (code, err) == (
        2,
        "fifo.yaml:1:1: (file): is a FIFO (named pipe), not a regular file; expected a "
        "replay file saved by concsim\n",
    )
    assert load_keymap(Path("fifo.yaml")) == (
        {},
        "fifo.yaml: ignored, is a FIFO (named pipe), not a regular file",
    )


def test_a_file_of_many_values_is_refused_before_it_is_built() -> None:
    text = "name: x\ntasks: [" + "1," * 250_000 + "1]\n"
    assert lines_of_text(text) == [
        "s.yaml:1:1: (file): more than 100000 values (aliases count each time they are "
        "used); expected a smaller scenario"
    ]


def test_validate_reports_every_file_whatever_one_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN three files, the middle one hitting a bug in the checks, THEN the other two are
    still reported, and the bug is one line too."""
    monkeypatch.chdir(tmp_path)
    Path("a.yaml").write_text("name: a\nseed: -1\n")
    Path("bad.yaml").write_text("name: bad\n")
    Path("c.yaml").write_text("name: c\norder: x\n")
    import concsim.scenario.loader as loader

    real = loader.ignored_options

    def broken(scenario, doc):  # type: ignore[no-untyped-def]
        if scenario.name == "bad":
            raise RuntimeError("boom")
        return real(scenario, doc)

    monkeypatch.setattr(loader, "ignored_options", broken)
    code, _, err = invoke("validate", "a.yaml", "bad.yaml", "c.yaml")
    assert (code, err.splitlines()) == (
        2,
        [
            "a.yaml:2:7: seed: expected a number 0 or more, got -1",
            "bad.yaml: internal error: RuntimeError: boom",
            "c.yaml:2:8: order: expected an integer, got 'x'",
        ],
    )


# --- small files, unbounded work ---------------------------------------------------------

CPU_1000S = (
    "name: x\nprogram: {max_workers: 4}\ntasks: [{name: a, repeat: 4, steps: [{cpu: 1000s}]}]\n"
)
ZERO_LOOP = task_with("{repeat: 1000000, steps: [{repeat: 1000000, steps: [set_stop]}]}")


def test_a_run_past_its_event_budget_stops_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cpu.yaml"
    path.write_text(CPU_1000S)
    code, out, err = invoke("run", str(path), "--headless", "--max-events", "2000")
    assert (code, out) == (2, "")
    assert err == (
        f"{path}: the run was stopped after 2000 events, at 3.28s of virtual time; expected a "
        "smaller run, or a larger budget (--max-events)\n"
    )


def test_a_loop_of_steps_that_record_nothing_stops_at_the_step_budget() -> None:
    """Nested repeats of set_stop never reach the clock: the steps themselves are counted."""
    sim = Simulation(load_scenario_text(ZERO_LOOP), max_events=5000)
    sim.run()
    assert sim.exhausted == (
        "the run was stopped after 5000 steps, at 0 of virtual time; expected a smaller "
        "run, or a larger budget (--max-events)"
    )
    warnings = [e.message for e in sim.events if isinstance(e, WarningIssued)]
    assert warnings[0] == sim.exhausted


def test_zero_length_io_steps_stop_at_the_budget() -> None:
    sim = Simulation(
        load_scenario_text(
            task_with("{repeat: 1000000, steps: [{repeat: 1000000, steps: [{io: 0s}]}]}")
        ),
        max_events=3000,
    )
    sim.run()
    assert sim.finished and sim.exhausted is not None
    assert sim.exhausted.startswith("the run was stopped after 3000 ")


def test_a_run_within_its_budget_is_not_stopped() -> None:
    sim = Simulation(load_scenario_text(IO_THREADS.read_text()))
    sim.run()
    assert sim.exhausted is None


# --- a second collect in a sequential program --------------------------------------------

SECOND_COLLECT = (
    "a second `collect` in a sequential program would call every task again; expected one "
    "`collect` (each task runs once)"
)


def test_a_second_collect_in_a_sequential_program_is_refused() -> None:
    text = "name: x\nprogram: {model: sequential, main: [collect, collect]}\ntasks: [{name: a}]\n"
    assert lines_of_text(text) == [f"s.yaml:2:46: program.main[1]: {SECOND_COLLECT}"]


def test_a_variant_that_makes_two_collects_sequential_is_refused() -> None:
    text = (
        "name: x\nprogram: {main: [collect, collect]}\ntasks: [{name: a}]\n"
        "variants:\n  - {name: s, program: {model: sequential}}\n"
    )
    assert lines_of_text(text) == [
        f"s.yaml:5:32: variants[0].program.model: with this variant, {SECOND_COLLECT}"
    ]


@pytest.mark.parametrize(
    ("lines", "line"),
    [
        (
            "variant: nope\n",
            "r.yaml:4:10: variant: no variant 'nope' in io-threads (variants: two-workers)",
        ),
        (
            "injections:\n- {at: 0.1, fault: fail, target: zz}\n",
            "r.yaml:5:34: injections[0].target: no task or lane `zz`",
        ),
    ],
)
def test_a_replay_aims_at_its_scenario(
    lines: str, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown variant or fault target is placed in the replay, before anything runs."""
    monkeypatch.chdir(tmp_path)
    Path("r.yaml").write_text("format: concsim-replay/1\nscenario: io-threads\nseed: 0\n" + lines)
    code, out, err = invoke("run", "--replay", "r.yaml", "--headless")
    assert (code, out, err) == (2, "", line + "\n")


def test_the_app_session_ends_a_run_at_its_budget() -> None:
    """`concsim run FILE --max-events N` gives the app's session the same budget: the run
    ends, and the log shows why."""
    from concsim.ui.session import Session, budgeted_factory

    scenario = load_scenario_text(CPU_1000S)
    session = Session(scenario, source="cpu.yaml", factory=budgeted_factory(1000))
    session.advance_to(100.0)
    assert session.finished
    warnings = [e.message for e in session.events if isinstance(e, WarningIssued)]
    assert warnings[0] == (
        "the run was stopped after 1000 events, at 1.61s of virtual time; expected a "
        "smaller run, or a larger budget (--max-events)"
    )
