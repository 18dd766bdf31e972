"""The docstring under a model's field is its description (the JSON Schema shows it on hover
in editors), read with one parse of each module's source.

Pydantic's own ``use_attribute_docstrings`` finds and parses each class's source on its own,
class by class: for the ~90 scenario models that is a fifth of importing them, paid at every
start of the app. The same rule read here, from one ``ast`` walk a module: a string statement
right after an annotated ``name: type`` in a class body documents that field.
"""

from __future__ import annotations

import ast
import inspect
import sys
from functools import cache
from pathlib import Path

from pydantic import BaseModel


def describe_fields(cls: type[BaseModel]) -> None:
    """Give ``cls``'s fields their docstrings as descriptions, as pydantic's
    ``use_attribute_docstrings`` would: a description set in ``Field(...)`` wins, and a
    field inherited keeps the one its class gave it (call it on a base first). Call it before
    the class's schema is built (``defer_build``): a schema built earlier keeps none."""
    docs = _docs_by_class(cls.__module__).get(cls.__qualname__) or {}
    own = vars(cls).get("__annotations__", {})
    for name, info in cls.__pydantic_fields__.items():
        if info.description is not None:
            continue
        if name in docs:
            info.description = docs[name]
        elif name not in own:  # inherited: the description its base was given
            info.description = next(
                (
                    fields[name].description
                    for base in cls.__mro__[1:]
                    if name in (fields := vars(base).get("__pydantic_fields__", {}))
                ),
                None,
            )


@cache
def _docs_by_class(module: str) -> dict[str, dict[str, str]]:
    """Each top-level class of ``module`` and its fields' docstrings (none without source)."""
    file = getattr(sys.modules.get(module), "__file__", None)
    if file is None:
        return {}
    try:
        tree = ast.parse(Path(file).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    return {node.name: _field_docs(node) for node in tree.body if isinstance(node, ast.ClassDef)}


def _field_docs(node: ast.ClassDef) -> dict[str, str]:
    docs: dict[str, str] = {}
    previous: ast.stmt | None = None
    for statement in node.body:
        if (
            isinstance(previous, ast.AnnAssign)
            and isinstance(previous.target, ast.Name)
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        ):
            docs[previous.target.id] = inspect.cleandoc(statement.value.value)
        previous = statement
    return docs
