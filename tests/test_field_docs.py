"""The docstring under a scenario model's field is its description, read as pydantic's
``use_attribute_docstrings`` reads it, from one parse of each module's source."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from types import ModuleType

from pydantic import BaseModel

# Pydantic's own rule, the reference: the visitor use_attribute_docstrings runs on a class.
from pydantic._internal._docs_extraction import DocstringVisitor

from concsim.scenario import expect, model
from concsim.scenario.schema import json_schema


def _models() -> list[type[BaseModel]]:
    return [
        value
        for module in (model, expect)
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
    ]


def _pydantic_docs(module: ModuleType) -> dict[str, dict[str, str]]:
    """Each class's field docstrings as pydantic's visitor reads them from the class."""
    found = {}
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.ClassDef):
            visitor = DocstringVisitor()
            visitor.generic_visit(node)
            found[node.name] = visitor.attrs
    return found


def test_every_field_has_the_description_pydantic_would_read_from_its_docstring() -> None:
    model.describe_models()  # as the first schema built does
    classes = _models()
    assert len(classes) > 80
    docs = {**_pydantic_docs(model), **_pydantic_docs(expect)}
    assert not set(_pydantic_docs(model)) & set(_pydantic_docs(expect))  # names are unique
    described = 0
    for cls in classes:
        # A field's docstring is the one under it in the nearest class that declares it.
        expected = {
            name: next(
                docs.get(base.__name__, {}).get(name)
                for base in cls.__mro__
                if name in vars(base).get("__annotations__", {})
            )
            for name in cls.model_fields
        }
        found = {name: info.description for name, info in cls.model_fields.items()}
        assert found == expected, cls.__name__
        described += sum(doc is not None for doc in found.values())
    assert described > 100


def test_descriptions_exact_inherited_and_multiline() -> None:
    model.describe_models()
    assert model.When.model_fields["step"].description == (
        "Index (from 0) of the step; the fault lands as the task starts it."
    )
    assert model.Variant.model_fields["tasks"].description == (
        "If given, replaces the scenario's tasks (e.g. the same work with a lock)."
    )
    assert model.BarrierSpec.model_fields["action"].description == (
        "``Barrier(parties, action=fn)``: ``fn``'s steps, run by the last thread to arrive\n"
        "before any is released; an exception in them breaks the barrier."
    )
    assert model.Scenario.model_fields["name"].description is None  # no docstring under it


def test_the_json_schema_shows_the_descriptions() -> None:
    defs = json_schema()["$defs"]
    assert defs["When"]["properties"]["step"]["description"] == (
        "Index (from 0) of the step; the fault lands as the task starts it."
    )
    assert defs["SemaphoreSpec"]["properties"]["bounded"]["description"] == (
        "A BoundedSemaphore: a release above ``value`` raises ValueError."
    )


FIRST_SCHEMA = """
from concsim.scenario import fielddocs, model
assert fielddocs._docs_by_class.cache_info().misses == 0  # no source read at import
assert model.When.model_fields["step"].description is None
when = model.When(task="a", step=1)  # the first validation builds When's schema
print(model.When.model_fields["step"].description)
print(model.When.model_json_schema()["properties"]["step"]["description"])
print(model.Variant.model_fields["tasks"].description)
"""


def test_descriptions_are_read_when_the_first_schema_is_built_not_at_import() -> None:
    out = subprocess.run(
        [sys.executable, "-c", FIRST_SCHEMA], capture_output=True, text=True, check=True
    ).stdout
    step = "Index (from 0) of the step; the fault lands as the task starts it."
    tasks = "If given, replaces the scenario's tasks (e.g. the same work with a lock)."
    assert out.splitlines() == [step, step, tasks]
