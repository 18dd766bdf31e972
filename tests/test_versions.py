"""Format versions: version 2 adds constructs, a file that uses one says `version: 2`."""

from __future__ import annotations

import textwrap

import pytest

from concsim.scenario import model as m
from concsim.scenario.errors import ScenarioError
from concsim.scenario.loader import load_scenario_text


def _load(text: str) -> m.Scenario:
    return load_scenario_text(textwrap.dedent(text), "s.yaml")


def _error(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        _load(text)
    return str(caught.value)


V1 = """\
    name: s
    tasks:
      - name: t
        steps: [{print: hi}]
    """


def test_a_file_without_version_is_version_1_and_loads_unchanged() -> None:
    assert _load(V1).version == 1


def test_version_2_reads_a_version_1_file_the_same() -> None:
    one = _load("version: 1\n" + textwrap.dedent(V1))
    two = _load("version: 2\n" + textwrap.dedent(V1))
    assert two.version == 2
    assert one.model_dump(exclude={"version"}) == two.model_dump(exclude={"version"})


def test_an_unknown_version_is_one_line() -> None:
    assert _error("version: 3\n" + textwrap.dedent(V1)) == (
        "s.yaml:1:10: version: unsupported version 3; expected 1 or 2"
    )


def test_a_version_2_step_in_a_version_1_file_names_the_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(m.PrintStep, "since", 2, raising=False)
    assert _error(V1) == (
        "s.yaml:4:14: tasks[0].steps[0].print: `print` is a version-2 step; expected "
        "`version: 2` at the top of the file"
    )
    assert _load("version: 2\n" + textwrap.dedent(V1)).tasks[0].steps[0] == m.PrintStep(print="hi")


def test_a_version_2_key_in_a_version_1_file_names_the_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    field = m.Task.model_fields["daemon"]
    monkeypatch.setattr(field, "json_schema_extra", {"since": 2})
    text = V1 + "    daemon: true\n"
    assert _error(text) == (
        "s.yaml:5:5: tasks[0].daemon: `daemon` is a version-2 key; expected `version: 2` "
        "at the top of the file"
    )
