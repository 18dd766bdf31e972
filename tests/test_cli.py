"""The command line: its outputs are contracts (exit codes, JSON, event lines)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from concsim import __version__
from concsim.cli import main
from concsim.events import EVENT_TYPES

OUTCOME_KEYS = {
    "scenario",
    "variant",
    "seed",
    "elapsed",
    "exit_code",
    "main",
    "results",
    "tasks",
    "warnings",
    "shared",
    "output",
}
TASK_KEYS = {"name", "outcome", "error", "started", "ended", "cleanup"}


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert (code, out.strip()) == (0, f"concsim, version {__version__}")


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "concsim", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == f"concsim, version {__version__}"


def test_list_groups_bundled_scenarios_by_topic_in_learning_order() -> None:
    code, out, _ = invoke("list")
    assert code == 0
    topics = [line for line in out.splitlines() if not line.startswith(" ")]
    assert topics[:2] == ["models", "shared-state"]
    names = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert names.index("sequential-io") < names.index("io-threads")
    assert {"io-threads", "asyncio-gather", "process-divisors", "sequential-io"} <= set(names)


def test_json_outcome_follows_the_contract() -> None:
    """docs/outcome.md: the keys, the task records, values in received order."""
    code, out, _ = invoke(
        "run", "asyncio-gather", "--headless", "--json", "--variant", "sequential"
    )
    assert code == 0
    result = json.loads(out)
    assert set(result) == OUTCOME_KEYS
    assert result["variant"] == "sequential"
    assert result["main"] == {"outcome": "ok", "error": None}
    assert result["exit_code"] == 0
    assert all(set(task) == TASK_KEYS for task in result["tasks"])


def test_json_for_a_scenario_with_variants_has_one_object_each() -> None:
    code, out, _ = invoke("run", "io-threads", "--headless", "--json")
    result = json.loads(out)
    assert code == 0
    assert result["scenario"] == "io-threads"
    assert list(result["variants"]) == ["default", "two-workers"]
    assert result["variants"]["default"]["elapsed"] == 0.5
    assert result["variants"]["two-workers"]["elapsed"] == 1.5


def test_events_are_json_lines_of_the_closed_vocabulary() -> None:
    code, out, _ = invoke("run", "sequential-io", "--headless", "--events")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert lines[0]["type"] == "RunStarted" and lines[-1]["type"] == "RunEnded"
    assert [line["seq"] for line in lines] == list(range(len(lines)))
    assert {line["type"] for line in lines} <= set(EVENT_TYPES)
    assert all(line["why"] for line in lines)


def test_headless_text_shows_lanes_and_the_outcome() -> None:
    code, out, _ = invoke("run", "io-threads", "--headless", "--variant", "two-workers")
    assert code == 0
    assert "thread-2" in out and "elapsed 1.5s" in out and "main: ok" in out


def test_injections_on_the_command_line_are_reproducible() -> None:
    """The same --inject flags give the same output, byte for byte."""
    args = (
        "run",
        "failure-during-as-completed",
        "--headless",
        "--json",
        "--inject",
        "0.3s:fail:job-3:ValueError",
        "--inject",
        "0.9s:interrupt",
    )
    first, second = invoke(*args), invoke(*args)
    assert first == second and first[0] == 0
    result = json.loads(first[1])
    job3 = next(task for task in result["tasks"] if task["name"] == "job-3")
    assert job3["error"] == "ValueError"


def test_a_malformed_injection_is_a_usage_error() -> None:
    code, _, err = invoke("run", "io-threads", "--headless", "--inject", "soon:explode")
    assert code == 2
    assert "expected AT:FAULT:TARGET[:ERROR]" in err


def test_validate_exit_codes_and_positioned_lines(tmp_path: Path) -> None:
    good = Path(__file__).parents[1] / "scenarios" / "io-threads.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nprogram:\n  max_worker: 3\n")
    assert invoke("validate", str(good))[0] == 0
    code, _, err = invoke("validate", str(good), str(bad))
    assert code == 2
    assert err.strip() == (
        f"{bad}:3:3: program.max_worker: unknown key `max_worker`; did you mean `max_workers`?"
    )


def test_run_with_a_broken_file_prints_lines_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntasks:\n  - name: a\n    steps: [{io: soon}]\n")
    code, _, err = invoke("run", str(bad), "--headless")
    assert code == 2
    assert err.startswith(f"{bad}:4:") and "Traceback" not in err


def test_unknown_scenario_name_suggests_close_ones() -> None:
    code, _, err = invoke("run", "io-thread", "--headless")
    assert code == 2
    assert "io-threads" in err


def test_schema_is_json_for_editors() -> None:
    code, out, _ = invoke("schema")
    schema = json.loads(out)
    assert code == 0
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "tasks" in schema["properties"]


def test_main_only_steps_in_handlers_and_infinite_durations_are_positioned_errors(
    tmp_path: Path,
) -> None:
    handler = tmp_path / "handler.yaml"
    handler.write_text("name: x\nprogram:\n  on_result: [collect]\n")
    forever = tmp_path / "forever.yaml"
    forever.write_text("name: x\ntasks:\n  - {name: a, steps: [{io: .inf}]}\n")
    code, _, err = invoke("validate", str(handler), str(forever))
    assert code == 2
    assert err.splitlines() == [
        f"{handler}:3:14: program.on_result: 'collect' belongs in program.main, not in a "
        "handler (on_result, on_error, atexit)",
        f"{forever}:3:28: tasks[0].steps[0].io: expected a finite duration such as 250ms or "
        "1.5s, got inf",
    ]


def test_inject_names_are_checked_like_the_files_faults() -> None:
    code, _, err = invoke(
        "run", "failure-during-as-completed", "--headless", "--inject", "0.1s:fail:jbo-2"
    )
    assert (code, err.strip()) == (
        2,
        "--inject fail on jbo-2: no task or lane `jbo-2`; did you mean `job-2`?",
    )
    code, _, err = invoke(
        "run",
        "failure-during-as-completed",
        "--headless",
        "--inject",
        "0.1s:fail:job-1:not a name!",
    )
    assert code == 2 and "is not an exception type name" in err


def test_a_refused_injection_is_reported_in_the_text_summary() -> None:
    code, out, _ = invoke(
        "run",
        "io-threads",
        "--variant",
        "two-workers",
        "--headless",
        "--inject",
        "0.1s:kill:thread-1",
    )
    assert code == 0
    assert "refused: kill on thread-1 at 100ms: threads cannot be killed" in out


def test_quoted_scalars_are_not_coerced(tmp_path: Path) -> None:
    """A quoted "no" or "4" is text, as the published JSON Schema says: no silent coercion."""
    lax = tmp_path / "lax.yaml"
    lax.write_text('name: x\nmachine: {gil: "no", cores: "4"}\nshared: {c: true}\n')
    code, _, err = invoke("validate", str(lax))
    assert code == 2
    assert err.splitlines() == [
        f"{lax}:2:16: machine.gil: expected true or false, got 'no'",
        f"{lax}:2:29: machine.cores: expected an integer, got '4'",
        f"{lax}:3:13: shared.c: expected an integer, got true",
    ]


def test_serve_without_its_extra_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from concsim.serve import SERVE_MISSING

    monkeypatch.setitem(sys.modules, "textual_serve.server", None)  # import fails
    code, out, err = invoke("serve", "--port", "1")
    assert (code, out, err) == (2, "", SERVE_MISSING + "\n")


def test_help_says_concsim_alone_opens_the_browser_and_cuts_no_description_off() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    flat = " ".join(out.split())
    assert "`concsim` alone opens the scenario browser in the terminal" in flat
    assert 'eval "$(_CONCSIM_COMPLETE=bash_source concsim)"' in out
    assert "..." not in out.replace("FILE...", "").replace("[ARGS]...", "")
    for name, command in main.commands.items():
        if command.hidden:
            continue
        first = " ".join((command.help or "").split("\n\n")[0].split())
        assert f"{name} {first}" in flat, name


def test_shell_completion_offers_bundled_scenario_names_then_files() -> None:
    from click.shell_completion import ShellComplete

    complete = ShellComplete(main, {}, "concsim", "_CONCSIM_COMPLETE")
    items = complete.get_completions(["run"], "race-")
    assert [(item.value, item.type) for item in items] == [
        ("race-lost-update", "plain"),
        ("race-with-lock", "plain"),
        ("race-", "file"),
    ]


def test_bash_completion_through_the_environment_variable() -> None:
    """What the eval'd bash function asks the command for, and what it gets back."""
    done = subprocess.run(
        [sys.executable, "-m", "concsim"],
        env={
            **os.environ,
            "_CONCSIM_COMPLETE": "bash_complete",
            "COMP_WORDS": "concsim run io-",
            "COMP_CWORD": "2",
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.splitlines() == ["plain,io-threads", "file,io-"]


def test_the_version_is_the_package_metadata_and_the_license_is_mit() -> None:
    import importlib.metadata

    import concsim

    metadata = importlib.metadata.metadata("concsim")
    assert concsim.__version__ == metadata["Version"] == importlib.metadata.version("concsim")
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    license_text = (Path(__file__).parents[1] / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License\n")
