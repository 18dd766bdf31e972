"""Hypothesis strategies of scenario and replay files for fuzzing: valid, broken, hostile.

Valid scenarios are built as data (a program that mostly fits its model, tasks, faults and
variants that mostly name what exists) and dumped as YAML; broken ones are valid ones with
values replaced by hostile ones (wrong types, huge and non-finite numbers, lists where names
belong), keys deleted or unknown keys added; hostile YAML is written as text (alias bombs,
tags, deep nesting, integers past 4300 digits, odd documents, small files of unbounded work).
Used by tests/fuzzkit.py's runs: the short test and scripts/fuzz.py.
"""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from concsim.scenario.model import FaultKind

# --- the parts of a scenario ----------------------------------------------------------------

NAMES = ["a", "b", "job", "fetch", "worker_2", "db.pool", "main", "x-1"]
MODELS = ["sequential", "threads", "processes", "asyncio"]
PATTERNS = ["as_completed", "map", "result", "wait", "gather", "taskgroup", "join", "none"]
FAULT_KINDS = [kind.value for kind in FaultKind]

durations = st.one_of(
    st.sampled_from(["0s", "1us", "20us", "1ms", "10ms", "250ms", "1.5s", "2m"]),
    st.integers(0, 3),
    st.floats(0, 2, allow_nan=False),
)
names = st.sampled_from(NAMES)

# Values that have broken the loader or the engine before, or could: wrong types, huge and
# non-finite numbers, lists where a name belongs, YAML 1.1 words.
hostile_values = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            "yes",
            "off",
            "",
            [],
            {},
            ["c"],
            {"a": 1},
            -1,
            0,
            2**63,
            2**64,
            -(2**63) - 1,
            float("nan"),
            float("inf"),
            -float("inf"),
            1e308,
            1.0e303,
            "9" * 400,
            "9" * 400 + "s",
            "1e308s",
            "-5ms",
            "1:30",
            "010",
            "2024-05-01",
            "all",
            "results",
        ]
    ),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
)


def _step(depth: int) -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        st.builds(lambda d: {"cpu": d}, durations),
        st.builds(lambda d: {"io": d}, durations),
        st.builds(lambda d: {"sleep": d}, durations),
        st.builds(lambda d: {"native": d}, durations),
        st.builds(lambda d: {"blocking": d}, durations),
        st.builds(lambda d: {"to_thread": d}, durations),
        st.builds(lambda n: {"acquire": n}, st.sampled_from(["L", "M"])),
        st.builds(
            lambda n, d: {"repeat": 1, "steps": [{"acquire": n}, {"cpu": d}, {"release": n}]},
            st.sampled_from(["L", "M"]),
            durations,
        ),
        st.builds(lambda n: {"read": n}, st.sampled_from(["c", "d"])),
        st.builds(
            lambda n, a: {"write": n, "add": a}, st.sampled_from(["c", "d"]), st.integers(-3, 3)
        ),
        st.builds(lambda n: {"put": n}, st.sampled_from(["q"])),
        st.just({"put": "q", "value": None}),
        st.builds(lambda n: {"get": n}, st.sampled_from(["q"])),
        st.builds(lambda e: {"raise": e}, st.sampled_from(["ValueError", "KeyError"])),
        st.builds(lambda t: {"print": t}, st.text(string.ascii_letters, max_size=5)),
        st.builds(lambda t: {"log": t}, st.text(string.ascii_letters, max_size=5)),
        st.sampled_from(["check_stop", "set_stop"]),
    )
    if depth <= 0:
        return leaf
    return st.one_of(
        leaf,
        st.builds(
            lambda n, s: {"repeat": n, "steps": s},
            st.integers(1, 5),
            st.lists(_step(depth - 1), max_size=3),
        ),
        st.builds(lambda s: {"consume": "q", "each": s}, st.lists(_step(depth - 1), max_size=2)),
    )


steps = st.lists(_step(1), max_size=4)


@st.composite
def tasks(draw: st.DrawFn, count: int = 3) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name in draw(st.lists(st.sampled_from(NAMES[:6]), max_size=count, unique=True)):
        task: dict[str, Any] = {"name": name, "steps": draw(steps)}
        if draw(st.booleans()):
            task["repeat"] = draw(st.integers(1, 4))
        if draw(st.booleans()):
            task["cleanup"] = draw(st.lists(_step(0), max_size=2))
        if draw(st.booleans()):
            task["catches"] = draw(st.lists(st.sampled_from(["ValueError", "CancelledError"])))
        if draw(st.integers(0, 5)) == 0:
            task["picklable"] = False
        found.append(task)
    return found


ALLOWED = {
    "sequential": ["map", "none"],
    "threads": ["as_completed", "map", "result", "wait", "none"],
    "processes": ["as_completed", "map", "result", "wait", "none"],
    "asyncio": ["as_completed", "gather", "taskgroup", "wait", "result", "none"],
}


@st.composite
def programs(draw: st.DrawFn) -> dict[str, Any]:
    """A program that mostly fits its model; now and then any pattern at all."""
    model = draw(st.sampled_from(MODELS))
    program: dict[str, Any] = {"model": model}
    plain = model in ("threads", "processes") and draw(st.integers(0, 4)) == 0
    if plain:
        program["executor"] = False
    if draw(st.booleans()):
        allowed = ["join", "none"] if plain else ALLOWED[model]
        wild = draw(st.integers(0, 9)) == 0
        collect: Any = draw(st.sampled_from(PATTERNS if wild else allowed))
        if draw(st.booleans()):
            collect = {"pattern": collect, "timeout": draw(durations)}
        program["collect"] = collect
    if draw(st.booleans()):
        program["max_workers"] = draw(st.integers(1, 5))
    if draw(st.integers(0, 3)) == 0:
        pooled = model in ("threads", "processes") and not plain
        words = ["submit", "collect", "shutdown"] if pooled else ["submit", "collect"]
        main = draw(st.lists(st.sampled_from(words), max_size=3))
        program["main"] = main + draw(st.lists(_step(0), max_size=2))
    if draw(st.integers(0, 4)) == 0:
        program["on_error"] = ["set_stop"]
    return program


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A scenario that is often valid: the models' patterns and the names mostly agree."""
    data: dict[str, Any] = {"name": "fuzz", "program": draw(programs()), "tasks": draw(tasks())}
    data["shared"] = {"c": 0, "d": draw(st.integers(-5, 5))}
    data["queues"] = {"q": {"maxsize": draw(st.integers(0, 3))}}
    if draw(st.booleans()):
        data["machine"] = {
            "cores": draw(st.integers(1, 4)),
            "gil": draw(st.booleans()),
            "jitter": draw(st.floats(0, 0.5)),
            "cpu_jitter": draw(st.floats(0, 0.5)),
        }
    if draw(st.booleans()):
        data["seed"] = draw(st.integers(0, 2**64 - 1))
    faults = []
    runs = {
        task["name"] if task.get("repeat", 1) == 1 else f"{task['name']}-1": task
        for task in data["tasks"]
    }
    for _ in range(draw(st.integers(0, 2))):
        fault: dict[str, Any] = {"fault": draw(st.sampled_from(FAULT_KINDS))}
        wild = draw(st.integers(0, 5)) == 0
        targets = [*NAMES, "a-1", "process-2"] if wild else [*runs, "main", "thread-1"]
        fault["target"] = draw(st.sampled_from(targets))
        task = runs.get(fault["target"])
        if task is not None and task["steps"] and draw(st.booleans()):
            fault["when"] = {
                "task": fault["target"],
                "step": draw(st.integers(0, len(task["steps"]) - 1 + wild)),
            }
        else:
            fault["at"] = draw(durations)
        faults.append(fault)
    if faults:
        data["faults"] = faults
    variants = []
    for index in range(draw(st.integers(0, 2))):
        variant: dict[str, Any] = {"name": f"v{index}"}
        if draw(st.booleans()):
            variant["program"] = {"model": draw(st.sampled_from(MODELS))}
        if draw(st.booleans()):
            variant["tasks"] = draw(tasks(2))
        if draw(st.booleans()):
            variant["machine"] = {"gil": draw(st.booleans())}
        variants.append(variant)
    if variants:
        data["variants"] = variants
    return data


# --- version 2: the bundled lessons' constructs, recombined -----------------------------------

# Keys under which a version-2 file holds a list of steps (a task's, main's, or a block's).
STEP_LISTS = ("steps", "cleanup", "main", "finally", "else", "each", "try", "loop", "callbacks")
DECLARATIONS = ("shared", "queues", "locks", "semaphores", "events", "barriers", "conditions")
PYTHONS = ["3.11", "3.12", "3.13", "3.13t", "3.14", "3.14t"]


def _bundled_version_2() -> list[dict[str, Any]]:
    """Every bundled scenario written in version 2, as data."""
    from concsim.scenario.library import bundled_scenarios

    files = [yaml.safe_load(Path(path).read_text()) for path in bundled_scenarios()]
    return [data for data in files if isinstance(data, dict) and data.get("version") == 2]


def _steps_in(value: Any, key: str = "") -> Iterator[Any]:
    """Every step found anywhere in ``value``: the items of the lists held under STEP_LISTS."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _steps_in(item, name)
    elif isinstance(value, list):
        for item in value:
            if key in STEP_LISTS and isinstance(item, (dict, str)):
                yield item
            yield from _steps_in(item, key)


VERSION_2 = _bundled_version_2()
V2_STEPS = [
    step for data in VERSION_2 for step in _steps_in(data) if step not in ("submit", "collect")
]
V2_DECLARED: dict[str, dict[str, Any]] = {}
for _data in VERSION_2:
    for _key in DECLARATIONS:
        V2_DECLARED.setdefault(_key, {}).update(_data.get(_key) or {})


def _v2_step(depth: int) -> st.SearchStrategy[Any]:
    """A step of the bundled lessons, a version-1 step, or either inside ``try``/``loop``."""
    leaf = st.one_of(st.sampled_from(V2_STEPS).map(copy.deepcopy), _step(0))
    if depth <= 0:
        return leaf
    inner = st.lists(_v2_step(depth - 1), min_size=1, max_size=3)
    return st.one_of(
        leaf,
        leaf,
        st.builds(
            lambda body, caught, handler, last: {
                "try": body,
                "except": [{"type": caught, "as": "e", "steps": handler}],
                "finally": last,
            },
            inner,
            st.sampled_from(["Exception", "ValueError", "TimeoutError", "CancelledError"]),
            st.lists(_v2_step(depth - 1), max_size=2),
            st.lists(_v2_step(depth - 1), max_size=2),
        ),
        st.builds(lambda body, times: {"loop": body, "times": times}, inner, st.integers(0, 3)),
    )


@st.composite
def v2_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A bundled version-2 lesson with its tasks' and main's steps recombined from all of them:
    often valid, and exercising every version-2 construct the lessons use."""
    data = copy.deepcopy(draw(st.sampled_from(VERSION_2)))
    for key in ("notes", "expect", "variants", "order", "topic") if draw(st.booleans()) else ():
        data.pop(key, None)
    for key, declared in V2_DECLARED.items():
        if draw(st.booleans()):
            data[key] = {**declared, **(data.get(key) or {})}
    for task in data.get("tasks") or []:
        if isinstance(task, dict) and draw(st.booleans()):
            task["steps"] = draw(st.lists(_v2_step(2), max_size=4))
    program = data.get("program")
    if isinstance(program, dict):
        if draw(st.integers(0, 3)) == 0:
            program["model"] = draw(st.sampled_from(MODELS))
        main = program.get("main")
        if isinstance(main, list) and draw(st.booleans()):
            at = draw(st.integers(0, len(main)))
            main[at:at] = draw(st.lists(_v2_step(1), max_size=2))
    if draw(st.integers(0, 3)) == 0:
        data.setdefault("machine", {})["python"] = draw(st.sampled_from(PYTHONS))
    return data


# --- breaking a scenario --------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _replace(value: Any, path: tuple[Any, ...], new: Any, *, delete: bool = False) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replace(value.get(head), rest, new, delete=delete)
        return copy
    copy_list = list(value)
    if delete and not rest:
        del copy_list[head]
    else:
        copy_list[head] = _replace(value[head], rest, new, delete=delete)
    return copy_list


@st.composite
def broken(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> Any:
    """``base`` with a few values replaced by hostile ones, keys deleted or unknown keys."""
    data: Any = draw(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(data))
        path = draw(st.sampled_from(paths))
        match draw(st.integers(0, 3)):
            case 0 if path:
                data = _replace(data, path, None, delete=True)
            case 1 if path and isinstance(path[-1], str):  # an unknown key beside it
                owner = path[:-1]
                data = _replace(data, (*owner, f"{path[-1]}_"), draw(hostile_values))
            case _:
                data = _replace(data, path, draw(hostile_values))
    return data


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


# --- hostile YAML text ----------------------------------------------------------------------

TAGS = [
    "!!int",
    "!!float",
    "!!bool",
    "!!str",
    "!!null",
    "!!binary",
    "!!timestamp",
    "!!set",
    "!!python/object:os.system",
    "!!python/name:os.system",
    "!custom",
    "!!map",
    "!!seq",
]


@st.composite
def hostile_yaml(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:  # alias bomb: each level repeats the one before ten times
        depth = draw(st.integers(2, 9))
        rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        rows += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, depth)]
        return "name: bomb\n" + "\n".join(rows) + f"\ntasks: *a{depth - 1}\n"
    if kind == 1:  # deep nesting, flow or block
        depth = draw(st.sampled_from([10, 63, 64, 65, 200, 1001, 5000]))
        if draw(st.booleans()):
            return "name: x\ntasks: " + "[" * depth + "]" * depth + "\n"
        return "name: x\ntasks:\n" + "".join("  " * i + "- \n" for i in range(min(depth, 300)))
    if kind == 2:  # integers past Python's 4300 digits
        digits = draw(st.sampled_from([400, 4299, 4300, 4301, 5000, 20000]))
        prefix = draw(st.sampled_from(["", "0", "-", "+", "0x", "0b"]))
        key = draw(st.sampled_from(["seed", "order", "version", "tasks", "summary"]))
        return f"name: x\n{key}: {prefix}{'7' * digits}\n"
    if kind == 3:  # a core tag on any value
        tag = draw(st.sampled_from(TAGS))
        value = draw(
            st.sampled_from(
                ["abc", "maybe", "", "1", "0x1F", "1.5", "[a]", "{a: 1}", ".nan", "yes"]
            )
        )
        key = draw(st.sampled_from(["summary", "seed", "order", "name", "notes"]))
        return f"name: x\n{key}: {tag} {value}\n"
    if kind == 4:  # a tag on a step or a task value
        tag = draw(st.sampled_from(TAGS))
        return f"name: x\ntasks:\n  - name: a\n    steps: [{{io: {tag} 1s}}, {tag} {{cpu: 1ms}}]\n"
    if kind == 5:  # merge keys and anchors in odd places
        return draw(
            st.sampled_from(
                [
                    "name: x\nbase: &b {name: a}\ntasks: [{<<: *b, steps: [{io: 1s}]}]\n",
                    "name: x\nm: &m {<<: *m}\n",
                    "name: x\ntasks: &t [*t]\n",
                    "name: x\ntasks: [{<<: [1, 2]}]\n",
                    "&a name: x\n",
                    "name: &n x\nsummary: *n\ntasks: [{name: *n}]\n",
                    "? [a, b]\n: c\nname: x\n",
                    "name: x\n? {a: 1}\n: 2\n",
                ]
            )
        )
    if kind == 6:  # odd documents
        return draw(
            st.sampled_from(
                [
                    "",
                    "---",
                    "--- a\n--- b\n",
                    "[]",
                    "42",
                    "name: x\n\t tasks: []\n",
                    "\x00",
                    "name: x\u2028summary: y\n",
                    "\ufeffname: x\n",
                    "name: x\n" * 3,
                    "name: x\ntasks: [{name: a, steps: [{io: 1s}]}]\n" + "#" * 10,
                ]
            )
        )
    if kind == 7:  # random text
        return draw(st.text(max_size=200))
    if kind == 8:  # a valid scenario cut short, or with a line repeated
        text = dump_yaml(draw(scenarios()))
        cut = draw(st.integers(0, len(text)))
        return text[:cut] if draw(st.booleans()) else text[:cut] + text[cut // 2 :]
    # small files, unbounded work
    return draw(
        st.sampled_from(
            [
                "name: x\nprogram: {max_workers: 4}\n"
                "tasks: [{name: a, repeat: 4, steps: [{cpu: 1000s}]}]\n",
                "name: x\ntasks: [{name: a, steps: [{repeat: 100000, steps: [{io: 1ms}]}]}]\n",
                "name: x\ntasks: [{name: a, steps: [{repeat: 1000000, steps: [{repeat: 1000000, "
                "steps: [{io: 0s}]}]}]}]\n",
                "name: x\ntasks: [{name: a, steps: [{repeat: 1000000, steps: [{repeat: 1000000, "
                "steps: [set_stop]}]}]}]\n",
                "name: x\nprogram: {model: asyncio}\ntasks: [{name: a, repeat: 3, steps: "
                "[{repeat: 1000000, steps: [{sleep: 0s}]}]}]\n",
                "name: x\nmachine: {switch_interval: 0s}\n"
                "tasks: [{name: a, repeat: 3, steps: [{cpu: 1s}]}]\n",
                "name: x\nprogram: {model: sequential, main: [collect, collect]}\n"
                "tasks: [{name: a}]\n",
            ]
        )
    )


scenario_texts = st.one_of(
    st.builds(dump_yaml, scenarios()),
    st.builds(dump_yaml, scenarios()),
    st.builds(dump_yaml, broken(scenarios())),
    hostile_yaml(),
    st.builds(dump_yaml, v2_scenarios()),
    st.builds(dump_yaml, broken(v2_scenarios())),
)

# --- replay files ---------------------------------------------------------------------------


@st.composite
def replays(draw: st.DrawFn, scenario: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": "concsim-replay/1",
        "scenario": scenario,
        "variant": draw(st.sampled_from([None, None, "processes", "nope"])),
        "seed": draw(st.integers(0, 2**64 - 1)),
        "injections": [
            {
                "at": draw(st.floats(0, 2, allow_nan=False)),
                "fault": draw(st.sampled_from(FAULT_KINDS)),
                "target": draw(st.sampled_from(["main", "download-1", "thread-1", "zz"])),
                "error": "RuntimeError",
            }
            for _ in range(draw(st.integers(0, 3)))
        ],
    }
    return data


@st.composite
def replay_files(draw: st.DrawFn, scenario: str) -> tuple[str, str]:
    """(suffix, text): a replay as YAML or JSON, valid, broken or hostile."""
    json_file = draw(st.booleans())
    kind = draw(st.integers(0, 3))
    if kind == 3:
        depth = draw(st.sampled_from([10, 65, 1001, 100_000]))
        text = "[" * depth + "]" * depth
        return (".json" if json_file else ".yaml"), text
    data = draw(broken(replays(scenario))) if kind == 1 else draw(replays(scenario))
    if kind == 2:  # NaN, Infinity and huge numbers where times and seeds go
        value = draw(st.sampled_from([float("nan"), float("inf"), 1e308, 10**400, -1, "1e308"]))
        key = draw(st.sampled_from(["seed", "at"]))
        if key == "seed" or not data.get("injections"):
            data["seed"] = value
        else:
            data["injections"][0]["at"] = value
    if json_file:
        return ".json", json.dumps(data, default=str)
    return ".yaml", dump_yaml(data)
