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


def test_importing_the_model_builds_no_validator_for_the_defaults_classes() -> None:
    """The classes whose all-defaults instances are field defaults have no validator
    after import (``cls()`` in the class bodies built one each); reading a file that
    sets them builds them then."""
    code = (
        "from concsim.scenario import model as m\n"
        "print(m.Shutdown.__pydantic_complete__, m.Machine.__pydantic_complete__)\n"
        "s = m.Scenario.model_validate({'name': 'x', 'machine': {'cores': 2}})\n"
        "print(s.machine.cores, s.machine == m.Machine(cores=2))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["False False", "2 True"]
