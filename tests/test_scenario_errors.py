"""Each kind of problem in a scenario file gives exactly one line: file:LINE:COL: path: message."""

from __future__ import annotations

from pathlib import Path

import pytest

from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario, load_scenario_text
from concsim.scenario.model import STEP_KINDS, FaultKind

FIXTURES = Path(__file__).parent / "fixtures" / "scenarios"


@pytest.fixture(autouse=True)
def _in_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    # Relative paths keep the expected lines short and exactly as a user would see them.
    monkeypatch.chdir(FIXTURES)


def lines_of(path: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return str(caught.value).splitlines()


def lines_of_text(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "s.yaml")
    return str(caught.value).splitlines()


def test_yaml_syntax_error_is_placed_at_the_yaml_mark() -> None:
    assert lines_of("bad/syntax.yaml") == [
        "bad/syntax.yaml:5:1: (file): invalid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence at 4:12)"
    ]


def test_tab_indentation_says_to_use_spaces() -> None:
    assert lines_of_text("name: x\nmachine:\n\tcores: 2\n") == [
        "s.yaml:3:1: (file): invalid YAML: found character that cannot start any token "
        "(while scanning for the next token at 3:1); indent with spaces, not tabs"
    ]


def test_top_level_that_is_not_a_mapping() -> None:
    assert lines_of("bad/not-a-mapping.yaml") == [
        "bad/not-a-mapping.yaml:1:1: (file): expected a mapping of keys (name:, tasks:, ...) "
        "at the top, got a list"
    ]


def test_empty_file() -> None:
    assert lines_of("bad/empty.yaml") == [
        "bad/empty.yaml:1:1: (file): the file is empty; expected a scenario mapping with at "
        "least `name:`"
    ]


def test_a_file_of_only_comments_is_empty() -> None:
    assert lines_of_text("# nothing yet\n") == [
        "s.yaml:1:1: (file): the file is empty; expected a scenario mapping with at least `name:`"
    ]


def test_missing_file() -> None:
    assert lines_of("bad/no-such-file.yaml") == [
        "bad/no-such-file.yaml:1:1: (file): no such file; expected a scenario .yaml file"
    ]


def test_a_directory_is_not_a_file() -> None:
    assert lines_of("bad") == ["bad:1:1: (file): is a directory; expected a scenario .yaml file"]


def test_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: x\nsummary: caf\xe9\n")
    assert lines_of(str(path)) == [
        f"{path}:2:13: (file): byte 0xe9 is not UTF-8; expected UTF-8 text"
    ]


def test_a_control_character() -> None:
    assert lines_of_text("name: x\x07\n") == [
        "s.yaml:1:8: (file): invalid YAML: character U+0007 is not allowed (control characters "
        "are not allowed); expected printable text"
    ]


def test_two_documents_in_one_file() -> None:
    assert lines_of_text("name: a\n---\nname: b\n") == [
        "s.yaml:2:1: (file): a second document starts here; expected one scenario per file"
    ]


def test_duplicate_key_names_the_first() -> None:
    assert lines_of("bad/duplicate-key.yaml") == [
        "bad/duplicate-key.yaml:5:3: program.model: duplicate key `model` (first at 3:3)"
    ]


def test_yaml11_yes_and_no_are_booleans_to_write_as_true_false() -> None:
    assert lines_of("bad/yes-no.yaml") == [
        "bad/yes-no.yaml:3:8: machine.gil: `no` is read as false (YAML 1.1); write false, "
        'or quote it ("no") to mean the text',
        "bad/yes-no.yaml:5:20: program.context_manager: `Yes` is read as true (YAML 1.1); "
        'write true, or quote it ("Yes") to mean the text',
    ]


def test_yaml11_on_as_a_key_is_reported_once_not_also_as_a_bad_key() -> None:
    assert lines_of_text("name: x\non: 3\n") == [
        's.yaml:2:1: on: `on` is read as true (YAML 1.1); write true, or quote it ("on") to '
        "mean the text"
    ]


def test_yaml11_quoted_yes_is_text() -> None:
    # GIVEN a quoted "yes" in a field of text THEN there is nothing to report
    assert load_scenario_text('name: x\nsummary: "yes"\n').summary == "yes"


def test_yaml11_base_60_number() -> None:
    assert lines_of_text("name: x\nseed: 1:30\n") == [
        "s.yaml:2:7: seed: `1:30` is read as the number 90 (YAML 1.1 base 60); quote it "
        '("1:30") to mean the text'
    ]


def test_unknown_key_with_a_close_match_suggests_it() -> None:
    assert lines_of("bad/unknown-key.yaml") == [
        "bad/unknown-key.yaml:3:3: program.max_worker: unknown key `max_worker`; did you mean "
        "`max_workers`?",
        "bad/unknown-key.yaml:4:3: program.flavour: unknown key `flavour`; expected one of: "
        "atexit, chunksize, collect, context_manager, executor, main, max_tasks_per_child, "
        "max_workers, model, on_error, on_result, shutdown, task_factory",
    ]


def test_unknown_key_in_a_step_lists_that_steps_keys() -> None:
    assert lines_of_text(
        "name: x\ntasks:\n  - name: a\n    steps: [{write: n, ad: 2}]\nshared: {n: 0}\n"
    ) == ["s.yaml:4:24: tasks[0].steps[0].ad: unknown key `ad`; did you mean `add`?"]


def test_wrong_type() -> None:
    assert lines_of("bad/wrong-type.yaml") == [
        "bad/wrong-type.yaml:3:10: machine.cores: expected an integer, got 'five'"
    ]


def test_enum_value_with_a_close_match() -> None:
    assert lines_of_text("name: x\nprogram: {model: thread}\n") == [
        "s.yaml:2:18: program.model: expected one of sequential, threads, processes, asyncio, "
        "got 'thread'; did you mean `threads`?"
    ]


def test_number_out_of_range() -> None:
    assert lines_of_text("name: x\nmachine: {cores: 0}\n") == [
        "s.yaml:2:18: machine.cores: expected a number 1 or more, got 0"
    ]


def test_name_with_a_space() -> None:
    assert lines_of_text("name: my scenario\n") == [
        "s.yaml:1:7: name: expected a name of letters, digits, `_`, `.` and `-` that starts "
        "with a letter or `_`, got 'my scenario'"
    ]


def test_empty_value_where_a_mapping_is_expected() -> None:
    assert lines_of_text("name: x\nmachine:\n") == [
        "s.yaml:2:9: machine: expected a mapping, got nothing"
    ]


def test_bad_duration() -> None:
    assert lines_of("bad/bad-duration.yaml") == [
        "bad/bad-duration.yaml:5:13: tasks[0].steps[0].io: expected a duration such as 250ms "
        "or 1.5s, got '5 seconds'"
    ]


def test_step_without_a_kind() -> None:
    assert lines_of("bad/step-no-kind.yaml") == [
        "bad/step-no-kind.yaml:5:9: tasks[0].steps[0]: unknown step kind `cpus`; did you mean "
        "`cpu`?",
        "bad/step-no-kind.yaml:6:9: tasks[0].steps[1]: a step needs a kind; expected one key "
        "of: " + ", ".join(STEP_KINDS),
    ]


def test_step_with_two_kinds() -> None:
    assert lines_of("bad/step-two-kinds.yaml") == [
        "bad/step-two-kinds.yaml:5:9: tasks[0].steps[0]: one step has 2 kinds (`cpu`, `io`); "
        "expected one kind per step"
    ]


def test_bare_steps_that_need_a_value_or_do_not_exist() -> None:
    assert lines_of_text("name: x\ntasks:\n  - name: a\n    steps: [cpu, sumbit, 5]\n") == [
        "s.yaml:4:13: tasks[0].steps[0]: a `cpu` step needs a value; expected `cpu: <value>`",
        "s.yaml:4:18: tasks[0].steps[1]: unknown step `sumbit`; did you mean `submit`?",
        "s.yaml:4:26: tasks[0].steps[2]: expected a step (a mapping such as `cpu: 10ms`, or "
        "submit, collect, shutdown, check_stop, set_stop, reraise, break, continue), got 5",
    ]


def test_main_only_step_inside_a_task() -> None:
    assert lines_of("bad/main-step-in-task.yaml") == [
        "bad/main-step-in-task.yaml:6:9: tasks[0].steps[1]: `collect` is a step of the main "
        "program; expected it under program.main, not in a task"
    ]


def test_submit_takes_all_or_a_list_of_names() -> None:
    assert lines_of_text("name: x\nprogram:\n  main: [{submit: {a: 1}}]\n") == [
        "s.yaml:3:19: program.main[0].submit: expected `all` or a list, got a mapping"
    ]


def test_collect_pattern_that_does_not_fit_the_model() -> None:
    assert lines_of("bad/collect-pattern.yaml") == [
        "bad/collect-pattern.yaml:4:12: program.collect: collect pattern 'map' does not apply "
        "to model 'asyncio'; expected one of: as_completed, gather, none, result, taskgroup, wait"
    ]


def test_unsupported_version() -> None:
    assert lines_of("bad/version.yaml") == [
        "bad/version.yaml:1:10: version: unsupported version 3; expected 1 or 2"
    ]


def test_python_object_tag_is_an_error_line_not_a_call() -> None:
    assert lines_of("bad/python-tag.yaml") == [
        "bad/python-tag.yaml:4:14: tasks[0].returns: tag `!!python/object/apply:os.system` is "
        "not allowed; expected plain YAML values (text, numbers, true/false, lists and mappings)"
    ]


def test_a_date_is_not_a_scenario_value() -> None:
    assert lines_of_text("name: x\ntasks: [{name: a, returns: 2024-05-01}]\n") == [
        "s.yaml:2:28: tasks[0].returns: `2024-05-01` is read as a date; expected text, so "
        'quote it ("2024-05-01")'
    ]


def test_missing_required_keys_point_at_the_mapping_that_lacks_them() -> None:
    assert lines_of("bad/missing-key.yaml") == [
        "bad/missing-key.yaml:1:1: name: required key is missing",
        "bad/missing-key.yaml:3:5: tasks[0].name: required key is missing",
        "bad/missing-key.yaml:7:11: faults[0].when.step: required key is missing",
    ]


def test_fault_without_a_trigger() -> None:
    assert lines_of_text("name: x\nfaults:\n  - fault: fail\n") == [
        "s.yaml:3:5: faults[0]: a fault needs a trigger; expected `at: <time>` or "
        "`when: {task: <name>, step: <index>}`"
    ]


def test_fault_target_and_when_must_name_a_task_or_lane() -> None:
    assert lines_of("bad/fault-target.yaml") == [
        "bad/fault-target.yaml:7:27: faults[0].target: no task or lane named `fetch-3`; "
        "`fetch` repeats 2 times; expected fetch-1 to fetch-2",
        "bad/fault-target.yaml:8:27: faults[1].target: no task or lane named `fech`; did you "
        "mean one of `fetch-1` to `fetch-2`?",
        "bad/fault-target.yaml:9:49: faults[2].when.step: step 1 is past the end of `fetch-1`, "
        "which has 1 step; expected 0",
    ]


def test_fault_when_task_unknown_lists_the_tasks() -> None:
    text = "name: x\ntasks: [{name: alpha}]\nfaults: [{fault: cancel, when: {task: zz, step: 0}}]\n"
    assert lines_of_text(text) == [
        "s.yaml:3:39: faults[0].when.task: no task named `zz`; expected main, alpha"
    ]


def test_undeclared_shared_variable() -> None:
    assert lines_of("bad/undeclared-shared.yaml") == [
        "bad/undeclared-shared.yaml:6:20: tasks[0].steps[0].read: no shared variable `countr`; "
        "did you mean `counter`?",
        "bad/undeclared-shared.yaml:6:37: tasks[0].steps[1].write: no shared variable `total`; "
        "declare it under `shared:` (declared: counter)",
    ]


def test_undeclared_queue() -> None:
    assert lines_of("bad/undeclared-queue.yaml") == [
        "bad/undeclared-queue.yaml:6:19: tasks[0].steps[0].put: no queue `job`; did you mean "
        "`jobs`?",
        "bad/undeclared-queue.yaml:8:23: tasks[1].steps[0].consume: no queue `results`; "
        "declare it under `queues:` (declared: jobs)",
    ]


def test_release_of_a_lock_that_no_step_acquires() -> None:
    # CPython: releasing an unlocked threading.Lock raises RuntimeError; a lock acquired by
    # another task may be released here (a Lock has no owner), so `b` releasing `lock` is fine.
    assert lines_of("bad/release-unacquired.yaml") == [
        "bad/release-unacquired.yaml:4:40: tasks[0].steps[1].release: lock `lokc` is never "
        "acquired; did you mean `lock`?",
        "bad/release-unacquired.yaml:6:40: tasks[1].steps[1].release: lock `mutex` is never "
        "acquired; expected an `acquire` of it first",
    ]


def test_variant_name_used_twice_and_a_variant_that_breaks_the_program() -> None:
    assert lines_of("bad/variant-twice.yaml") == [
        "bad/variant-twice.yaml:7:11: variants[1].name: variant name `fast` is used twice "
        "(first at 5:11)",
        "bad/variant-twice.yaml:9:22: variants[2].program.model: with this variant, collect "
        "pattern 'map' does not apply to model 'asyncio'; expected one of: as_completed, "
        "gather, none, result, taskgroup, wait",
    ]


def test_task_names_twice_or_reserved() -> None:
    assert lines_of_text("name: x\ntasks: [{name: a}, {name: a}, {name: main}]\n") == [
        "s.yaml:2:27: tasks[1].name: task name `a` is used twice (first at 2:16)",
        "s.yaml:2:38: tasks[2].name: task name `main` is reserved for the main program; "
        "expected another name",
    ]


def test_submit_of_an_unknown_task() -> None:
    text = "name: x\ntasks: [{name: fetch}]\nprogram: {main: [{submit: [fetch, fetc]}]}\n"
    assert lines_of_text(text) == [
        "s.yaml:3:35: program.main[0].submit[1]: no task named `fetc`; did you mean `fetch`?"
    ]


def test_recursive_alias() -> None:
    assert lines_of_text("name: x\ntasks: &t [*t]\n") == [
        "s.yaml:2:8: tasks[0]: an alias refers to a value that contains it; expected a value "
        "without a cycle"
    ]


def test_alias_bomb_is_refused_quickly() -> None:
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    assert lines_of_text("\n".join(rows) + "\n") == [
        "s.yaml:1:1: (file): more than 100000 values (aliases count each time they are used); "
        "expected a smaller scenario"
    ]


def test_all_problems_of_a_file_sorted_by_position() -> None:
    assert lines_of("bad/many-problems.yaml") == [
        "bad/many-problems.yaml:3:10: machine.cores: expected a number 1 or more, got 0",
        "bad/many-problems.yaml:4:8: machine.gil: `off` is read as false (YAML 1.1); write "
        'false, or quote it ("off") to mean the text',
        "bad/many-problems.yaml:6:10: program.model: expected one of sequential, threads, "
        "processes, asyncio, got 'thread'; did you mean `threads`?",
        "bad/many-problems.yaml:10:14: tasks[0].steps[0].cpu: expected a duration such as 250ms "
        "or 1.5s, got 'fast'",
        "bad/many-problems.yaml:11:16: tasks[0].steps[1].write: no shared variable `x`; declare "
        "it under `shared:`",
        "bad/many-problems.yaml:12:14: tasks[0].steps[1].add: expected an integer, got 'lots'",
        "bad/many-problems.yaml:13:11: tasks[1].name: task name `a` is used twice (first at 8:11)",
        "bad/many-problems.yaml:15:13: faults[0].fault: expected one of "
        + ", ".join(FaultKind)
        + ", got 'fial'; did you mean `fail`?",
        "bad/many-problems.yaml:15:35: faults[0].target: no task or lane named `b`; expected "
        "main, a, thread-N or process-N",
    ]


def test_problems_carry_their_parts() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario("bad/wrong-type.yaml")
    (problem,) = caught.value.problems
    assert (problem.path, problem.line, problem.col, problem.dotted) == (
        "bad/wrong-type.yaml",
        3,
        10,
        "machine.cores",
    )
    assert problem.message == "expected an integer, got 'five'"


def test_faults_name_running_tasks_so_a_repeated_task_only_by_its_copies() -> None:
    # A task with `repeat: 2` runs as fetch-1 and fetch-2; nothing runs under the name fetch,
    # and `when` watches a task's own steps, never the main program's.
    text = """\
name: x
tasks: [{name: fetch, repeat: 2, steps: [{io: 1s}]}]
faults:
  - {fault: cancel, target: fetch, at: 1s}
  - {fault: cancel, when: {task: fetch, step: 0}}
  - {fault: cancel, when: {task: main, step: 0}}
"""
    assert lines_of_text(text) == [
        "s.yaml:4:29: faults[0].target: no task or lane named `fetch`; `fetch` repeats 2 times; "
        "expected fetch-1 to fetch-2",
        "s.yaml:5:34: faults[1].when.task: no task named `fetch`; `fetch` repeats 2 times; "
        "expected fetch-1 to fetch-2",
        "s.yaml:6:34: faults[2].when.task: `when` watches the steps of a task; expected a task "
        "name (for the main program, use `at: <time>`)",
    ]


def test_a_variant_with_its_own_tasks_must_keep_the_faults_aimed() -> None:
    """A variant that replaces tasks cannot leave the file's faults pointing at nothing."""
    text = (
        "name: vf\n"
        "tasks: [{name: job, repeat: 4, steps: [{io: 1s}]}]\n"
        "faults: [{fault: cancel, target: job-4, at: 100ms}]\n"
        "variants:\n"
        "  - name: one\n"
        "    tasks: [{name: job, repeat: 2, steps: [{io: 1s}]}]\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "vf.yaml")
    assert str(caught.value) == (
        "vf.yaml:6:12: variants[0].tasks: with this variant, faults[0] aims at 'job-4': "
        "no task or lane `job-4`; did you mean `job-2`?"
    )


@pytest.mark.parametrize(
    ("collect", "message"),
    [
        (
            "{pattern: as_completed, return_exceptions: true}",
            "return_exceptions applies to gather only",
        ),
        ("{pattern: map, return_when: FIRST_EXCEPTION}", "return_when applies to wait only"),
        ("{pattern: map, shield: true}", "shield applies to asyncio with gather or result only"),
    ],
)
def test_collect_options_that_would_be_ignored_are_errors(collect: str, message: str) -> None:
    """An option that the chosen pattern would silently ignore is a mistake worth a line."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(f"name: x\nprogram: {{collect: {collect}}}\n", "c.yaml")
    assert str(caught.value) == f"c.yaml:2:10: program: collect.{message}"


def test_a_forbidden_tag_does_not_hide_the_files_other_problems() -> None:
    """A constructing tag is refused, and the rest of the file is still checked."""
    text = (
        "name: x\n"
        "tasks:\n"
        "  - name: a\n"
        "    returns: !!python/object:os.system echo\n"
        "    steps: [{io: soon}]\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "t.yaml")
    assert str(caught.value).splitlines() == [
        "t.yaml:4:14: tasks[0].returns: tag `!!python/object:os.system` is not allowed; "
        "expected plain YAML values (text, numbers, true/false, lists and mappings)",
        "t.yaml:5:18: tasks[0].steps[0].io: expected a duration such as 250ms or 1.5s, got 'soon'",
    ]
