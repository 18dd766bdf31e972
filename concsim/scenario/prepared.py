"""Bundled scenarios validated once, then loaded without pydantic building a schema.

Validating a scenario builds the validators of the ~90 scenario models (pydantic generates
their core schemas in Python), the largest part of a first frame's start. A bundled file is
the same file run after run, so the first load validates it in full and keeps the result,
the ``Scenario`` and each of its variants applied, pickled in the user's cache folder
(``$XDG_CACHE_HOME/concsim/scenarios``, or ``CONCSIM_CACHE_DIR``); every later load of the
same file unpickles it, which builds no validator and runs none of the loader's checks.

Never stale: an entry is named by a SHA-256 of the file's bytes, the source of every
module that decides what a scenario validates to (``concsim/scenario/*.py``, durations,
limits), and the Python and pydantic versions; a change to any of them names another
entry. An entry that cannot be read, or holds anything else, is validated again. A user's
own file is always validated (``concsim.scenario.loader``), as is a bundled file with
errors, so every message is the loader's own.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import shutil
import sys
import tempfile
from functools import cache
from pathlib import Path

import pydantic

from concsim.scenario.library import BUNDLED_DIR
from concsim.scenario.model import Scenario, remember_variants

_SOURCES = ("scenario", "durations.py", "limits.py", "files.py")
"""What a scenario's validation reads, relative to the concsim package."""

_MAGIC = b"concsim-prepared-scenario 1\n"


def load_scenario_file(path: str | Path) -> Scenario:
    """``loader.load_scenario(path)``, from the cache when ``path`` is a bundled file."""
    if not _is_bundled(path):
        from concsim.scenario.loader import load_scenario

        return load_scenario(path)
    try:
        data = Path(path).read_bytes()
    except OSError:
        data = None
    if data is not None:
        found = _read(entry_path(data))
        if found is not None:
            return found
    return _prepare(path)


def cache_dir() -> Path:
    """Where prepared scenarios are kept."""
    override = os.environ.get("CONCSIM_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_cache_path("concsim", appauthor=False) / "scenarios"


KEPT_VERSIONS = 4
"""Folders of entries kept, one per version of the sources (the most recently written):
a folder of older sources is never read again, so the cache does not grow without end."""


def entry_path(data: bytes) -> Path:
    """The cache entry of a scenario file whose bytes are ``data``: in the folder of this
    version of the sources, named by the file's digest."""
    folder = hashlib.sha256(code_digest()).hexdigest()[:16]
    return cache_dir() / folder / f"{hashlib.sha256(data).hexdigest()}.pickle"


@cache
def code_digest() -> bytes:
    """A digest of what decides a validated scenario: concsim's scenario sources, Python's
    and pydantic's versions."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{sys.version}\n{pydantic.VERSION}\n".encode())
    for name in _SOURCES:
        source = root / name
        files = sorted(source.glob("*.py")) if source.is_dir() else [source]
        for file in files:
            digest.update(f"{file.relative_to(root)}\n".encode())
            digest.update(file.read_bytes())
    return digest.digest()


def _is_bundled(path: str | Path) -> bool:
    try:
        return Path(path).resolve().parent == BUNDLED_DIR.resolve()
    except OSError:
        return False


def _prepare(path: str | Path) -> Scenario:
    """Validate in full (raising the loader's ScenarioError), then keep the result."""
    from concsim.scenario.loader import load_scenario_text, read_text

    text = read_text(path)
    scenario = load_scenario_text(text, str(path))
    applied = {name: scenario.variant(name) for name in scenario.variant_names}
    _write(entry_path(text.encode("utf-8")), scenario, applied)
    remember_variants(scenario, applied)
    return scenario


def _read(entry: Path) -> Scenario | None:
    try:
        blob = entry.read_bytes()
    except OSError:
        return None
    if not blob.startswith(_MAGIC):
        return None
    try:
        scenario, applied = pickle.loads(blob[len(_MAGIC) :])
    # An entry written by the same sources only fails to load when it was damaged; any such
    # failure means: validate the file again.
    except Exception:
        return None
    if not isinstance(scenario, Scenario) or not isinstance(applied, dict):
        return None
    remember_variants(scenario, applied)
    return scenario


def _write(entry: Path, scenario: Scenario, applied: dict[str, Scenario]) -> None:
    """Write the entry whole or not at all (a reader never sees half of one); a cache that
    cannot be written only means validating again next time."""
    blob = _MAGIC + pickle.dumps((scenario, applied), protocol=pickle.HIGHEST_PROTOCOL)
    with contextlib.suppress(OSError):
        if not entry.parent.is_dir():
            entry.parent.mkdir(parents=True)
            _forget_old_versions(entry.parent.parent)
        fd, temp = tempfile.mkstemp(dir=entry.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(blob)
            os.replace(temp, entry)
        except OSError:
            os.unlink(temp)
            raise


def _forget_old_versions(root: Path) -> None:
    """Remove the folders of all but the ``KEPT_VERSIONS`` sources written last."""
    folders = [path for path in root.iterdir() if path.is_dir() and len(path.name) == 16]
    folders.sort(key=lambda path: path.stat().st_mtime, reverse=True)
    for old in folders[KEPT_VERSIONS:]:
        shutil.rmtree(old, ignore_errors=True)
