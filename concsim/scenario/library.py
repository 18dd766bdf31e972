"""The bundled scenarios: where they live (repo or wheel), finding one by name, the index."""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import yaml

from concsim.scenario.errors import FILE, Problem, ScenarioError, did_you_mean

TOPIC_ORDER = ("models", "shared-state", "asyncio", "failure", "observability", "other")
"""Topics in learning order; ``concsim list`` groups scenarios in this order."""

_SUFFIXES = (".yaml", ".yml")


def bundled_dir() -> Path:
    """The folder of bundled scenarios: ``concsim.bundled`` in a wheel, else ``scenarios/``."""
    # A wheel maps the repo's scenarios/ folder to the package concsim.bundled, so the files
    # travel with the code; in a source checkout that package does not exist and the folder
    # sits next to the concsim package.
    try:
        root = importlib.resources.files("concsim.bundled")
    except ModuleNotFoundError:
        root = None
    if root is not None:
        # A regular package gives a Path; a namespace package (no __init__.py) gives a
        # MultiplexedPath, whose entries are Paths.
        if isinstance(root, Path) and root.is_dir():
            return root
        for entry in root.iterdir():
            if isinstance(entry, Path):
                return entry.parent
    return Path(__file__).resolve().parents[2] / "scenarios"


BUNDLED_DIR = bundled_dir()


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    """What ``concsim list`` shows of one scenario."""

    name: str
    topic: str
    order: int
    model: str
    summary: str
    path: Path


def bundled_scenarios(directory: Path | None = None) -> list[Path]:
    """The scenario files in ``directory`` (default: the bundled ones), sorted by file name."""
    folder = BUNDLED_DIR if directory is None else directory
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.suffix in _SUFFIXES)


def find_scenario(name_or_path: str, directory: Path | None = None) -> Path:
    """A path to a file that exists, else the bundled scenario with that ``name:`` or stem."""
    path = Path(name_or_path)
    if path.is_file() or (path.exists() and not path.is_dir()):
        return path  # a FIFO or a device too: reading it says why it is refused
    candidates = bundled_scenarios(directory)
    found = _names(candidates, wanted=name_or_path).get(name_or_path)
    if found is not None:
        return found
    names = _names(candidates)  # every declared name, for the hint
    if name_or_path in names:
        return names[name_or_path]
    if path.suffix in _SUFFIXES or len(path.parts) > 1:
        hint = "no such file; expected a scenario .yaml file"
    else:
        close = did_you_mean(name_or_path, names, listing=False)
        hint = "no such file or bundled scenario; " + (close or "see `concsim list`")
    raise ScenarioError.one(name_or_path, FILE, hint)


def scenario_index(directory: Path | None = None) -> list[ScenarioInfo]:
    """Every bundled scenario, validated, in learning order: topic, then order, then name."""
    from concsim.scenario.prepared import load_scenario_file

    problems: list[Problem] = []
    index: list[ScenarioInfo] = []
    for path in bundled_scenarios(directory):
        try:
            scenario = load_scenario_file(path)
        except ScenarioError as error:
            problems += error.problems  # a broken bundled file is a bug: report all of them
            continue
        index.append(
            ScenarioInfo(
                name=scenario.name,
                topic=scenario.topic,
                order=scenario.order,
                model=scenario.program.model.value,
                summary=scenario.summary,
                path=path,
            )
        )
    if problems:
        raise ScenarioError(problems)
    return sorted(index, key=lambda info: (*topic_rank(info.topic), info.order, info.name))


def topic_rank(topic: str) -> tuple[int, str]:
    """Sort key of a topic: the known ones in learning order, others just before ``other``."""
    if topic in TOPIC_ORDER and topic != "other":
        return (TOPIC_ORDER.index(topic), "")
    if topic == "other":
        return (len(TOPIC_ORDER) + 1, "")
    return (len(TOPIC_ORDER), topic)


def _names(candidates: list[Path], wanted: str | None = None) -> dict[str, Path]:
    """Each file by its stem, then by its declared ``name:``, which wins.

    With ``wanted``, only the files that may declare that name are parsed: one whose text
    holds it, or holds a backslash (a double-quoted escape can spell it otherwise). Whether
    ``wanted`` maps to the same file as with every file parsed: YAML writes a name without
    whitespace, quotes or backslashes literally, except through such an escape. Any other
    ``wanted`` reads them all. (Parsing the ~40 bundled files took about 10 ms of each start.)
    """
    literal = wanted is not None and not any(c.isspace() or c in "'\"\\" for c in wanted)
    names: dict[str, Path] = {}
    for candidate in candidates:
        names.setdefault(candidate.stem, candidate)
        if literal and not _may_declare(candidate, str(wanted)):
            continue
        name = _declared_name(candidate)
        if name is not None:
            names[name] = candidate
    return names


def _may_declare(path: Path, name: str) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False  # nor could its name be read
    return name in text or "\\" in text


def _declared_name(path: Path) -> str | None:
    # Only the `name:` is needed to match, so a quick safe parse; a file too broken to
    # parse is still found by its stem and then reported in full by load_scenario. The
    # name is kept until the file changes: the app and replays look names up again and again.
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    known = _NAMES.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_FastLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    _NAMES[path] = (stamp, name if isinstance(name, str) else None)
    return _NAMES[path][1]


_NAMES: dict[Path, tuple[int, str | None]] = {}


_FastLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
