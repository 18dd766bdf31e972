"""Scenario -> the equivalent, runnable Python program (``concsim code``).

The program carries no instrumentation: :attr:`Program.sites` says which line stands for
which step, and :attr:`Program.tasks` how to tell one task instance from another, so a
tracer can follow the real program from outside.
"""

from __future__ import annotations

from concsim.scenario.model import Scenario

from .sites import Program, Site, SiteKind, TaskSite

__all__ = ["Program", "Site", "SiteKind", "TaskSite", "program"]


def program(scenario: Scenario, variant: str | None = None) -> Program:
    """The program ``scenario`` stands for (with ``variant`` applied, if named)."""
    from .module import build

    return build(scenario, variant)
