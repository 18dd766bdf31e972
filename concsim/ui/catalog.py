"""What the browser lists: bundled scenarios and the files named on the command line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from concsim.scenario import library
from concsim.scenario.errors import ScenarioError
from concsim.scenario.model import Scenario
from concsim.scenario.prepared import load_scenario_file


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the browser: a scenario that loaded, or a file and its error lines."""

    source: str  # what `concsim run` accepts: a bundled name or a file path
    name: str
    scenario: Scenario | None = None
    error: str | None = None  # the positioned error lines of a file that failed to load
    bundled: bool = False

    @property
    def model(self) -> str:
        return self.scenario.program.model.value if self.scenario else "—"

    @property
    def summary(self) -> str:
        if self.scenario is None:
            return "does not load: see the errors"
        return self.scenario.summary


def entries(files: list[str]) -> list[Entry]:
    """The bundled scenarios in learning order, then each file given, loaded or not."""
    bundled = [file_entry(str(path), bundled=True) for path in library.bundled_scenarios()]
    bundled.sort(key=_learning_order)
    return bundled + [file_entry(path) for path in files]


def file_entry(path: str, *, bundled: bool = False) -> Entry:
    try:
        scenario = load_scenario_file(path)
    except ScenarioError as error:
        return Entry(path, Path(path).name, error=str(error), bundled=bundled)
    return Entry(scenario.name if bundled else path, scenario.name, scenario, bundled=bundled)


def _learning_order(entry: Entry) -> tuple[object, ...]:
    if entry.scenario is None:
        return (*library.topic_rank("other"), 10**9, entry.name)
    scenario = entry.scenario
    return (*library.topic_rank(scenario.topic), scenario.order, scenario.name)
