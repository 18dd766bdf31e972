"""Loading scenario files: good ones load, positions are exact, only ScenarioError escapes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from concsim.scenario import expect, model
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario, load_scenario_text
from concsim.scenario.model import CollectStep, ConsumeStep, Model, Pattern, SubmitStep
from concsim.scenario.schema import json_schema

FIXTURES = Path(__file__).parent / "fixtures" / "scenarios"
GOOD = sorted((FIXTURES / "good").glob("*.yaml"))
LINE = re.compile(r"^(?P<path>.+?):(?P<line>[1-9]\d*):(?P<col>[1-9]\d*): (?P<dotted>.+?): \S.*$")


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, "s.yaml")
    return str(caught.value).splitlines()


# --- good files ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.stem)
def test_good_fixture_loads(path: Path) -> None:
    """Every good fixture loads, by Path and by str."""
    assert load_scenario(path) == load_scenario(str(path))


def test_values_are_read_as_the_model_holds_them() -> None:
    scenario = load_scenario(FIXTURES / "good" / "threads-everything.yaml")
    assert scenario.machine.switch_interval == 5_000  # microseconds
    assert scenario.program.collect.pattern is Pattern.AS_COMPLETED
    assert scenario.program.collect.timeout == 2_000_000
    assert isinstance(scenario.program.main[0], SubmitStep)  # the bare word `submit`
    assert isinstance(scenario.program.main[1], CollectStep)
    consume = scenario.tasks[1].steps[0]
    assert isinstance(consume, ConsumeStep) and len(consume.each) == 5
    assert scenario.variant("two-workers").program.collect.pattern is Pattern.MAP


def test_collect_shorthand_and_defaults() -> None:
    scenario = load_scenario(FIXTURES / "good" / "sequential-minimal.yaml")
    assert scenario.program.model is Model.SEQUENTIAL
    assert scenario.program.collect.pattern is Pattern.NONE
    assert (scenario.version, scenario.topic, scenario.order) == (1, "other", 100)


def test_merge_keys_are_plain_yaml_that_works() -> None:
    text = "name: x\nbase: &b {cores: 2}\n"
    assert problems(text)[0].startswith("s.yaml:2:1: base: unknown key `base`")
    scenario = load_scenario_text(
        "name: x\nvariants:\n  - &v {name: a, machine: {cores: 2}}\n  - {<<: *v, name: b}\n"
    )
    assert [v.machine.cores for v in scenario.variants] == [2, 2]


def test_text_default_path_names_a_string() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text("name: 5\n")
    assert str(caught.value) == "<string>:1:7: name: expected text, got 5"


# --- positions ------------------------------------------------------------------------------


def test_position_of_a_step_nested_in_consume() -> None:
    text = """\
name: x
queues: {q: {}}
tasks:
  - name: a
    steps:
      - consume: q
        each:
          - cpu: 1ms
          - {io: soon}
"""
    assert problems(text) == [
        "s.yaml:9:18: tasks[0].steps[0].each[1].io: expected a duration such as 250ms or 1.5s, "
        "got 'soon'"
    ]


def test_positions_inside_a_repeat_step() -> None:
    text = """\
name: x
shared: {n: 0}
tasks:
  - name: a
    repeat: 2
    steps:
      - repeat: 3
        steps:
          - {write: n, ad: 1}
          - collect
          - repeat: zero
"""
    assert problems(text) == [
        "s.yaml:9:24: tasks[0].steps[0].steps[0].ad: unknown key `ad`; did you mean `add`?",
        "s.yaml:10:13: tasks[0].steps[0].steps[1]: `collect` is a step of the main program; "
        "expected it under program.main, not in a task",
        "s.yaml:11:21: tasks[0].steps[0].steps[2].repeat: expected an integer, got 'zero'",
    ]


def test_position_inside_a_variant_program() -> None:
    text = "name: x\nvariants:\n  - name: v\n    program:\n      main:\n        - sleep: x\n"
    assert problems(text) == [
        "s.yaml:6:18: variants[0].program.main[0].sleep: expected a duration such as 250ms or "
        "1.5s, got 'x'"
    ]


def test_columns_count_characters_not_bytes() -> None:
    assert problems("summary: ééé\nname: x\nseed: été\n") == [
        "s.yaml:3:7: seed: expected an integer, got 'été'"
    ]


def test_keys_that_are_not_words_are_bracketed() -> None:
    assert problems("name: x\nshared: {a.b: 1, ok: 2, 'c d': 3}\n") == [
        's.yaml:2:25: shared["c d"]: expected a name of letters, digits, `_`, `.` and `-` that '
        "starts with a letter or `_`, got 'c d'"
    ]


def test_a_repeated_key_is_checked_with_its_last_value() -> None:
    # YAML keeps the last of a repeated key; the position must be of that same value
    assert problems("name: x\nseed: 1\nseed: two\n") == [
        "s.yaml:3:1: seed: duplicate key `seed` (first at 2:1)",
        "s.yaml:3:7: seed: expected an integer, got 'two'",
    ]


def test_missing_key_in_a_flow_mapping_points_at_its_brace() -> None:
    assert problems("name: x\nfaults: [{fault: hang, when: {step: 0}}]\n") == [
        "s.yaml:2:30: faults[0].when.task: required key is missing"
    ]


# --- only ScenarioError, always well formed ---------------------------------------------------

_KEYS = [
    "name",
    "version",
    "machine",
    "program",
    "tasks",
    "steps",
    "cpu",
    "io",
    "faults",
    "target",
    "when",
    "model",
    "collect",
    "shared",
    "queues",
    "variants",
    "repeat",
    "each",
]
_SCALARS = st.one_of(
    st.sampled_from(
        [
            "x",
            "10ms",
            "1.5s",
            "yes",
            "on",
            "threads",
            "asyncio",
            "map",
            "a-1",
            "submit",
            "collect",
            "main",
            "fail",
            "1:30",
            "",
            "~",
            "!!python/none",
        ]
    ),
    st.integers(-3, 3),
    st.booleans(),
    st.none(),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


def _check_error_lines(error: ScenarioError, text: str) -> None:
    lines = text.splitlines() or [""]
    assert error.problems, "a ScenarioError always names at least one problem"
    for line in str(error).splitlines():
        match = LINE.match(line)
        assert match, line
        assert int(match["line"]) <= len(lines) + 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_arbitrary_text_raises_only_scenario_error(text: str) -> None:
    try:
        load_scenario_text(text, "s.yaml")
    except ScenarioError as error:
        _check_error_lines(error, text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=6), st.booleans())
def test_arbitrary_mappings_raise_only_scenario_error(data: dict[str, Any], flow: bool) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, sort_keys=False)
    try:
        load_scenario_text(text, "s.yaml")
    except ScenarioError as error:
        _check_error_lines(error, text)


_FIXTURE_TEXTS = [path.read_text() for path in sorted(FIXTURES.rglob("*.yaml"))]
_PIECES = [
    ":",
    "-",
    " ",
    "\n",
    "[",
    "]",
    "{",
    "}",
    "&a",
    "*a",
    "<<: *a",
    "!!python/name:x",
    "yes",
    "'",
    '"',
    "#",
    "\t",
    "?",
    "|",
]


@st.composite
def _mutated_fixture(draw: st.DrawFn) -> str:
    text: str = draw(st.sampled_from(_FIXTURE_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(0, len(text) - 1)))
        if draw(st.booleans()):
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        else:
            text = text[:at] + draw(st.sampled_from(_PIECES)) + text[at:]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_fixture())
def test_damaged_fixtures_raise_only_scenario_error(text: str) -> None:
    try:
        load_scenario_text(text, "s.yaml")
    except ScenarioError as error:
        _check_error_lines(error, text)


# --- the JSON Schema --------------------------------------------------------------------------


def test_schema_describes_the_yaml_form() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:concsim:scenario:v2"
    assert "format versions 1 to 2" in schema["title"]
    assert schema["properties"]["version"]["enum"] == [1, 2]
    defs = schema["$defs"]
    bare = [
        "submit",
        "collect",
        "shutdown",
        "check_stop",
        "set_stop",
        "reraise",
        "break",
        "continue",
    ]
    assert {"enum": bare} in defs["Step"]["oneOf"]
    assert defs["TryStep"]["since"] == 2 and "since" not in defs["CpuStep"]
    assert defs["Machine"]["properties"]["switch_interval"]["default"] == "5ms"
    assert defs["CpuStep"]["required"] == ["cpu"]
    assert defs["RaiseStep"]["required"] == ["raise"]
    assert defs["Task"]["properties"]["steps"]["items"] == {"$ref": "#/$defs/Step"}


def test_the_schema_describes_each_field_with_its_attribute_docstring() -> None:
    """The docstring under a field in the models (pydantic's use_attribute_docstrings) is
    that property's description in the schema, for every model the schema defines."""
    schema = json_schema()
    definitions = {**schema["$defs"], "Scenario": schema}
    described: dict[str, str] = {}
    for name, definition in definitions.items():
        cls = getattr(model, name, None) or getattr(expect, name, None)
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            continue
        for field_name, info in cls.model_fields.items():
            prop = definition.get("properties", {}).get(info.alias or field_name, {})
            if info.description is not None:
                assert prop.get("description") == info.description, f"{name}.{field_name}"
                described[f"{name}.{field_name}"] = info.description
    assert len(described) >= 70
    assert described["Machine.switch_interval"] == (
        "``sys.getswitchinterval()``: how long a waiting thread lets the GIL holder run."
    )
    assert described["Scenario.order"] == "Position within its topic, in learning order."
    assert described["Conditions.tasks"].startswith("Task name (a repeated task's copy")
    assert schema["properties"]["expect"]["description"] == (
        "Expected outcomes, each graded acceptable, interesting or forbidden."
    )


@pytest.mark.parametrize("path", GOOD, ids=lambda path: path.stem)
def test_good_fixture_validates_against_the_schema(path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema())
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize(
    "step", [{"cpu": "1ms", "io": "2ms"}, {"label": "no kind"}, "sumbit", {"cpu": "fast"}]
)
def test_schema_rejects_bad_steps(step: Any) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = {"name": "x", "tasks": [{"name": "a", "steps": [step]}]}
    assert not jsonschema.Draft202012Validator(json_schema()).is_valid(data)


def test_every_main_only_step_is_refused_in_a_task_in_one_line() -> None:
    """``add_done_callback`` and ``future`` act on main's futures, as ``submit`` does: in a
    task each is one positioned line (they were refused with no line at all)."""
    text = """\
version: 2
name: x
program:
  model: threads
  main: [submit, collect]
tasks:
  - name: a
    steps:
      - add_done_callback: a
        steps: [{print: hi}]
  - name: b
    steps:
      - {future: a, calls: [running]}
"""
    assert problems(text) == [
        "s.yaml:9:9: tasks[0].steps[0]: `add_done_callback` is a step of the main program; "
        "expected it under program.main, not in a task",
        "s.yaml:13:9: tasks[1].steps[0]: `future` is a step of the main program; "
        "expected it under program.main, not in a task",
    ]


def test_main_only_kinds_are_the_model_s_main_only_steps() -> None:
    from concsim.scenario.checks import MAIN_ONLY_KINDS

    assert {model.STEP_KINDS[kind] for kind in MAIN_ONLY_KINDS} == set(model.MAIN_ONLY_STEPS)


def test_a_file_the_model_refuses_is_never_refused_in_silence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should no message translate a validator's error, its own words are the line."""
    import concsim.scenario.checks as checks
    import concsim.scenario.loader as loader

    monkeypatch.setattr(loader, "translate", lambda error, doc: [])
    monkeypatch.setattr(checks, "MAIN_ONLY_KINDS", frozenset())
    text = "version: 2\nname: x\nprogram: {main: [submit, collect]}\ntasks:\n  - name: a\n"
    text += "    steps: [{future: a, calls: [running]}]\n"
    assert problems(text) == [
        "s.yaml:6:12: tasks[0].steps: 'future' is a step of the main program (program.main), "
        "not of a task",
    ]
