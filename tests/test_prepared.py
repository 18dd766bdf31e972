"""Bundled scenarios loaded from the cache of validated ones: the very models full validation
gives, every variant too; no schema built and no loader imported on the way to a first frame."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from concsim.scenario import model, prepared
from concsim.scenario.errors import ScenarioError
from concsim.scenario.library import bundled_scenarios
from concsim.scenario.loader import load_scenario
from concsim.scenario.model import (
    Collect,
    CollectStep,
    Machine,
    MachinePatch,
    Program,
    ProgramPatch,
    Scenario,
    Shutdown,
    ShutdownStep,
    SubmitStep,
    Variant,
)
from concsim.scenario.prepared import entry_path, load_scenario_file

BUNDLED = bundled_scenarios()


def same(a: Any, b: Any, where: str = "") -> None:
    """``a`` and ``b`` alike all the way down: types, values, and each model's set fields
    (what ``model_dump(exclude_unset=True)`` and a variant's patch read)."""
    assert type(a) is type(b), where
    if isinstance(a, BaseModel):
        assert a.model_fields_set == b.model_fields_set, where
        assert a.__pydantic_extra__ == b.__pydantic_extra__, where
        assert a.__pydantic_private__ == b.__pydantic_private__, where
        assert a.__dict__.keys() == b.__dict__.keys(), where
        for key in a.__dict__:
            same(a.__dict__[key], b.__dict__[key], f"{where}.{key}")
    elif isinstance(a, tuple | list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            same(a[key], b[key], f"{where}[{key!r}]")
    else:
        assert a == b, where


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CONCSIM_CACHE_DIR", str(folder))
    return folder


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_a_bundled_scenario_from_the_cache_is_the_one_validation_gives(
    path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = load_scenario(path)
    first = load_scenario_file(path)  # validated, then kept
    assert entry_path(path.read_bytes()).is_file()

    def refuse(path: str | Path) -> Scenario:
        raise AssertionError(f"{path} validated again")

    monkeypatch.setattr(prepared, "_prepare", refuse)
    cached = load_scenario_file(path)
    assert cached is not first
    same(full, first)
    same(full, cached)
    assert full.variant_names == cached.variant_names
    for name in full.variant_names:
        same(full.variant(name), cached.variant(name), name)
    assert cached.variant(None) is cached


def test_a_changed_file_is_validated_again(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = cache.parent / "bundled"
    folder.mkdir()
    file = folder / "mine.yaml"
    shutil.copy(BUNDLED[0], file)
    monkeypatch.setattr(prepared, "BUNDLED_DIR", folder)
    before = load_scenario_file(file)
    file.write_text(file.read_text(encoding="utf-8").replace(before.name, "renamed", 1))
    after = load_scenario_file(file)
    assert (before.name, after.name) == (load_scenario(BUNDLED[0]).name, "renamed")
    assert len(list(cache.glob("*/*.pickle"))) == 2


def test_a_damaged_entry_is_validated_again(cache: Path) -> None:
    path = BUNDLED[0]
    load_scenario_file(path)
    entry = entry_path(path.read_bytes())
    entry.write_bytes(entry.read_bytes()[:50])
    same(load_scenario_file(path), load_scenario(path))
    entry.write_bytes(b"something else")
    same(load_scenario_file(path), load_scenario(path))


def test_a_file_with_errors_says_what_the_loader_says_and_is_not_kept(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = cache.parent / "bundled"
    folder.mkdir()
    file = folder / "broken.yaml"
    file.write_text("name: broken\ntasks:\n  - name: a\n    steps: [cpu: often]\n")
    monkeypatch.setattr(prepared, "BUNDLED_DIR", folder)
    with pytest.raises(ScenarioError) as full:
        load_scenario(file)
    with pytest.raises(ScenarioError) as through:
        load_scenario_file(file)
    assert str(through.value) == str(full.value)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_a_users_own_file_is_validated_and_not_kept(cache: Path, tmp_path: Path) -> None:
    file = tmp_path / "mine.yaml"
    shutil.copy(BUNDLED[0], file)
    same(load_scenario_file(file), load_scenario(file))
    assert not cache.exists()


def test_the_defaults_made_without_a_validator_are_those_the_classes_make() -> None:
    """Defaults that are models are made by model_construct, not by calling the class."""
    same(Scenario.model_fields["machine"].default, Machine())
    same(Scenario.model_fields["program"].default, Program())
    same(Program.model_fields["collect"].default, Collect())
    same(ShutdownStep.model_fields["shutdown"].default, Shutdown())
    same(Variant.model_fields["machine"].default, MachinePatch())
    same(Variant.model_fields["program"].default, ProgramPatch())
    same(Program().main_steps, (SubmitStep(), CollectStep()))


FIRST_FRAME = """
import asyncio, os, sys
import pydantic
from concsim.ui.launch import launch
from concsim.ui.app import make_app
from concsim.ui.session import engine_factory
from concsim.scenario import model

async def first_frame():
    app = make_app(run="io-threads", paused=True, speed=None, factory=engine_factory,
                   keymap={}, theme="textual-dark")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#status").render()

asyncio.run(first_frame())
built = sorted(
    name for name, value in vars(model).items()
    if isinstance(value, type) and issubclass(value, pydantic.BaseModel)
    and value.__pydantic_complete__
)
print(repr((built, sorted(sys.modules))))
"""


def _first_frame(cache: Path) -> tuple[list[str], list[str]]:
    env_code = f"import os; os.environ['CONCSIM_CACHE_DIR'] = {str(cache)!r}\n"
    out = subprocess.run(
        [sys.executable, "-c", env_code + FIRST_FRAME], capture_output=True, text=True, check=True
    ).stdout
    built, modules = ast.literal_eval(out.strip().splitlines()[-1])
    return built, modules


def test_a_first_frame_from_the_cache_builds_no_schema_and_loads_no_loader(cache: Path) -> None:
    built, modules = _first_frame(cache)  # the first start validates and keeps
    assert "Scenario" in built and "concsim.scenario.loader" in modules
    built, modules = _first_frame(cache)
    assert built == []
    assert "concsim.scenario.model" in modules  # the report works
    not_loaded = ("concsim.scenario.loader", "concsim.scenario.checks", "concsim.scenario.shapes")
    assert [name for name in not_loaded if name in modules] == []


def test_a_scenario_whose_variants_were_forgotten_applies_them_itself(cache: Path) -> None:
    path = next(p for p in BUNDLED if load_scenario(p).variant_names)
    oldest = load_scenario_file(path)
    for _ in range(model._APPLIED_KEPT):
        load_scenario_file(path)
    assert id(oldest) not in model._APPLIED
    full = load_scenario(path)
    for name in full.variant_names:
        same(oldest.variant(name), full.variant(name), name)


def test_entries_of_older_sources_are_removed(cache: Path) -> None:
    """Each version of the sources keeps its entries in a folder of its own; writing the
    first entry of a new version removes all but the newest ``KEPT_VERSIONS`` folders, so a
    cache under a concsim that changes does not grow without end."""
    for age in range(prepared.KEPT_VERSIONS + 2):
        old = cache / f"{age:016x}"
        old.mkdir(parents=True)
        (old / "entry.pickle").write_bytes(b"")
        os.utime(old, (1_000_000 + age, 1_000_000 + age))
    load_scenario_file(BUNDLED[0])
    current = prepared.entry_path(BUNDLED[0].read_bytes()).parent
    kept = sorted(path.name for path in cache.iterdir())
    newest_old = [f"{age:016x}" for age in range(prepared.KEPT_VERSIONS + 2)][-3:]
    assert kept == sorted([current.name, *newest_old])
