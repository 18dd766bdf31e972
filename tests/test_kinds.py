"""Every step kind and fault kind has each decision made for it (scenario/kinds.py, the live
lanes' states, the app's fault keys): the tables are derived from functions that name every
kind, which mypy checks exhaustive and which fail here, naming the kind, at run time."""

from __future__ import annotations

import pytest

from concsim.codegen.sites import SiteKind
from concsim.live.lanes import STATE_OF_KIND, state_of_kind
from concsim.scenario import kinds
from concsim.scenario.model import MAIN_ONLY_STEPS, STEP_KINDS, FaultKind
from concsim.scenario.waitables import WAITABLE_STEPS
from concsim.ui.keymap import RUN_BINDINGS, fault_key


def test_step_kind_names_every_kind_of_the_model_in_its_order() -> None:
    assert tuple(STEP_KINDS) == kinds.STEP_KIND_NAMES


@pytest.mark.parametrize("kind", kinds.STEP_KIND_NAMES)
def test_each_step_kind_has_its_decisions(kind: kinds.StepKind) -> None:
    """An unknown kind reaches ``assert_never``, whose message names it."""
    assert isinstance(kinds.primitive_families(kind), tuple)
    kinds.shared_by(kind)
    assert isinstance(kinds.main_only(kind), bool)
    assert kind in {site.value for site in SiteKind}  # codegen writes a line of this kind


def test_a_kind_without_a_decision_fails_naming_it() -> None:
    with pytest.raises(AssertionError, match="'barrier'"):
        kinds.main_only("barrier")  # type: ignore[arg-type]


def test_the_waitable_steps_are_the_decided_ones() -> None:
    assert WAITABLE_STEPS == {
        "set": ("events",),
        "clear": ("events",),
        "wait": ("events", "barriers", "conditions"),
        "abort": ("barriers",),
        "reset": ("barriers",),
        "wait_for": ("conditions",),
        "notify": ("conditions",),
        "notify_all": ("conditions",),
    }
    primitive = {k for k in kinds.STEP_KIND_NAMES if kinds.shared_by(k) is kinds.Shared.PRIMITIVE}
    assert primitive == set(WAITABLE_STEPS)


def test_main_only_steps_are_the_decided_ones() -> None:
    decided = {STEP_KINDS[kind] for kind in kinds.STEP_KIND_NAMES if kinds.main_only(kind)}
    assert decided == set(MAIN_ONLY_STEPS)


@pytest.mark.parametrize("kind", list(SiteKind), ids=lambda kind: kind.value)
def test_each_line_kind_has_its_lane_state_decided(kind: SiteKind) -> None:
    assert STATE_OF_KIND.get(kind.value) == state_of_kind(kind)


def test_the_lane_states_of_the_lines_that_wait() -> None:
    blocked = sorted(kind for kind, state in STATE_OF_KIND.items() if state.value == "blocked")
    assert blocked == [
        "collect",
        "consume",
        "get",
        "put",
        "result",
        "shutdown",
        "wait",
        "wait_for",
    ]


def test_every_fault_kind_has_a_key_of_its_own() -> None:
    faults = [b for b in RUN_BINDINGS if b.action.startswith("fault(")]
    assert [b.id for b in faults] == [
        "fail",
        "timeout",
        "cancel",
        "kill",
        "hang",
        "interrupt",
    ]
    assert {b.id for b in faults} == {kind.value for kind in FaultKind}
    assert [b.key for b in faults] == [fault_key(FaultKind(str(b.id)))[0] for b in faults]
    keys = [key for b in RUN_BINDINGS for key in b.key.split(",")]
    assert len(keys) == len(set(keys))
