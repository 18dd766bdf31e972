"""Scenario files in, validated ``Scenario`` models out; every problem as one positioned line."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from concsim.files import FileRefused, NotUtf8, decode_utf8, read_small_file
from concsim.scenario.blocks import check_blocks
from concsim.scenario.checks import (
    check_collects,
    check_names,
    check_variants,
    ignored_options,
)
from concsim.scenario.document import Document, read_document
from concsim.scenario.errors import FILE, Problem, ScenarioError, describe
from concsim.scenario.expect_names import check_expect
from concsim.scenario.maxtasks import max_tasks_problems
from concsim.scenario.messages import as_said, translate
from concsim.scenario.model import Scenario
from concsim.scenario.pickling import check_pickling
from concsim.scenario.startmethod import start_method_problems
from concsim.scenario.taskfactory import task_factory_problems
from concsim.scenario.treechecks import check_tree
from concsim.scenario.versions import check_version


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise ScenarioError naming every problem in it."""
    return load_scenario_text(read_text(path), str(path))


def load_scenario_text(text: str, path: str = "<string>") -> Scenario:
    """Validate scenario YAML given as text; ``path`` is only used to name it in errors."""
    return _load(text, path)[0]


def check_scenario(path: str | Path) -> list[Problem]:
    """Validate a file as ``load_scenario`` does (raising ScenarioError), then return its
    warnings: valid options that no program of the file would use."""
    scenario, doc = _load(read_text(path), str(path))
    return sorted(ignored_options(scenario, doc), key=lambda p: (p.line, p.col))


def _load(text: str, path: str) -> tuple[Scenario, Document]:
    doc = read_document(text, path)
    if not isinstance(doc.data, dict):
        raise ScenarioError(
            [
                doc.problem(
                    (),
                    "expected a mapping of keys (name:, tasks:, ...) at the top, got "
                    + describe(doc.data),
                ),
                *doc.problems,
            ]
        )
    problems: list[Problem] = list(doc.problems)
    scenario: Scenario | None = None
    refused: ValidationError | None = None
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as error:
        refused = error
        problems += translate(error, doc)
    problems += check_names(doc)
    problems += check_blocks(doc)
    problems += check_expect(doc)
    problems += check_version(doc)
    if scenario is not None:
        problems += check_variants(scenario, doc)
        problems += check_collects(scenario, doc)
        problems += check_tree(scenario, doc)
        problems += check_pickling(scenario, doc)
        problems += start_method_problems(scenario, doc)
        problems += task_factory_problems(scenario, doc)
        problems += max_tasks_problems(scenario, doc)
    # A YAML 1.1 trap (`gil: yes`) is the real cause of any other complaint about that
    # value, so it is the one line shown for it.
    trapped = {(p.line, p.col, p.dotted) for p in doc.problems}
    problems = [
        p for p in problems if p in doc.problems or (p.line, p.col, p.dotted) not in trapped
    ]
    if scenario is None and not problems and refused is not None:
        problems = as_said(refused, doc)  # a validator no check above words better
    if problems or scenario is None:
        raise ScenarioError(problems)
    return scenario, doc


def read_text(path: str | Path) -> str:
    """The file's text as UTF-8; a file that cannot be read is a one-line ScenarioError."""
    name = str(path)
    try:
        data = read_small_file(path)
    except FileRefused as error:
        raise ScenarioError.one(
            name, FILE, f"{error.reason}; expected a scenario .yaml file"
        ) from None
    try:
        return decode_utf8(data)
    except NotUtf8 as error:
        raise ScenarioError.one(name, FILE, str(error), line=error.line, col=error.col) from None
