"""A JSON Schema of the YAML input form of scenario files, for editors and other tools.

Print it with ``python -m concsim.scenario.schema > concsim-scenario.schema.json`` and point
an editor at it with ``# yaml-language-server: $schema=concsim-scenario.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from concsim.durations import DURATION_PATTERN, format_duration
from concsim.scenario.model import BARE_STEP_FORMS, FORMAT_VERSION, STEP_KINDS, Scenario

SCHEMA_ID = f"urn:concsim:scenario:v{FORMAT_VERSION}"
_DEFS = "#/$defs/"


def json_schema() -> dict[str, Any]:
    """The schema of a scenario file (every version) as written in YAML (durations as text)."""
    schema = Scenario.model_json_schema(mode="validation")
    defs: dict[str, Any] = schema["$defs"]
    step_refs = {_DEFS + cls.__name__ for cls in STEP_KINDS.values()}
    for kind, cls in STEP_KINDS.items():
        # Pydantic fills in a default kind (`submit: all`), but in a file the kind key is
        # what makes a mapping this step, so it is required.
        step = defs[cls.__name__]
        step["required"] = sorted({*step.get("required", []), "raise" if kind == "raise" else kind})
        if getattr(cls, "since", 1) > 1:
            step["since"] = cls.since  # type: ignore[attr-defined]  # the version that added it
    defs["Step"] = {
        "description": "One step: a mapping with exactly one kind key (cpu, io, acquire, ...) "
        "and its options, or a bare word: " + ", ".join(BARE_STEP_FORMS) + ".",
        "oneOf": [
            *({"$ref": _DEFS + cls.__name__} for cls in STEP_KINDS.values()),
            {"enum": list(BARE_STEP_FORMS)},
        ],
    }
    shorthand = {
        "anyOf": [{"$ref": _DEFS + "Pattern"}, {"$ref": _DEFS + "Collect"}],
        "description": "A collect pattern name, or a mapping with `pattern` and its options.",
    }
    _rewrite(schema, step_refs, shorthand)
    _fix_defaults(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"concsim scenario (format versions 1 to {FORMAT_VERSION})",
        "description": "A concsim scenario file: a program of tasks on a simulated machine, "
        "with faults and variants. Reference: docs/scenarios.md.",
        **{key: value for key, value in schema.items() if key not in {"title", "description"}},
    }


def _rewrite(node: Any, step_refs: set[str], shorthand: dict[str, Any]) -> None:
    """Point every list of steps at ``Step`` and every ``collect:`` at its shorthand too."""
    if isinstance(node, list):
        for item in node:
            _rewrite(item, step_refs, shorthand)
        return
    if not isinstance(node, dict):
        return
    items = node.get("items")
    if isinstance(items, dict) and {ref.get("$ref") for ref in items.get("oneOf", [])} == step_refs:
        node["items"] = {"$ref": _DEFS + "Step"}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict) and "collect" in value:
            value["collect"] = _with_shorthand(value["collect"], shorthand)
        _rewrite(value, step_refs, shorthand)


def _fix_defaults(node: Any) -> None:
    """Defaults as a file would spell them: ``5ms``, not the 5000 microseconds held inside."""
    if isinstance(node, list):
        for item in node:
            _fix_defaults(item)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("default"), dict):
        del node["default"]  # a whole sub-mapping of defaults; each field shows its own
    elif isinstance(node.get("default"), int) and _is_duration(node):
        node["default"] = format_duration(node["default"])
    for value in node.values():
        _fix_defaults(value)


def _is_duration(node: dict[str, Any]) -> bool:
    options = [node, *node.get("anyOf", [])]
    return any(
        option.get("pattern") == DURATION_PATTERN.pattern
        for candidate in options
        for option in [candidate, *candidate.get("anyOf", [])]
    )


def _with_shorthand(prop: dict[str, Any], shorthand: dict[str, Any]) -> dict[str, Any]:
    collect = {"$ref": _DEFS + "Collect"}
    if prop.get("$ref") == collect["$ref"]:
        return {**{k: v for k, v in prop.items() if k != "$ref"}, **shorthand}
    options = prop.get("anyOf", [])
    if collect in options:  # ProgramPatch: Collect or null
        rest = [option for option in options if option != collect]
        return {**prop, "anyOf": [*shorthand["anyOf"], *rest]}
    return prop  # a step's own `collect: results`


def main() -> None:
    """Print the schema as JSON."""
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
