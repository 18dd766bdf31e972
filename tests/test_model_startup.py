"""Importing the scenario model builds no validator a file read does not need: start-up
time. The defaults built without validating are the instances ``cls()`` would build."""

from __future__ import annotations

import subprocess
import sys

from concsim.scenario import model as m


def test_the_unvalidated_defaults_equal_what_validating_would_build() -> None:
    defaults = (
        (m.ShutdownStep, "shutdown", m.Shutdown),
        (m.Program, "collect", m.Collect),
        (m.Variant, "machine", m.MachinePatch),
        (m.Variant, "program", m.ProgramPatch),
        (m.Scenario, "machine", m.Machine),
    )
    for owner, field, cls in defaults:
        default = owner.model_fields[field].default
        assert type(default) is cls
        assert default == cls()
        assert default.model_fields_set == cls().model_fields_set == set()


def test_importing_the_model_builds_no_step_validator_and_each_is_built_when_used() -> None:
    """A file's steps are validated by the file's own validator; a step class used on its
    own builds its validator then, ``Step`` resolved from the finished module."""
    code = (
        "from concsim.scenario import model as m\n"
        "print(m.ConsumeStep.__pydantic_complete__, m.TryStep.__pydantic_complete__)\n"
        "from concsim.scenario.loader import load_scenario_text\n"
        "s = load_scenario_text('version: 2\\nname: x\\ntasks:\\n  - name: t\\n    steps:\\n"
        "      - try: [{cpu: 1ms}]\\n        finally: [{sleep: 1ms}]\\n')\n"
        "print(type(s.tasks[0].steps[0]).__name__, m.TryStep.__pydantic_complete__)\n"
        "step = m.TryStep.model_validate({'try': [{'cpu': '1ms'}], 'finally': []})\n"
        "print(type(step.try_[0]).__name__, m.TryStep.__pydantic_complete__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["False False", "TryStep False", "CpuStep True"]
