"""Settings for the whole test run."""

from __future__ import annotations

import gc

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a pytest-xdist worker, collect the garbage before the worker reports it has
    finished, then freeze what is left.

    Once a worker has reported, the controller closes it, and execnet gives the worker 5 s
    before it sends the worker a real SIGINT (execnet gateway_base.py,
    WorkerGateway._terminate_execution). pytest's own cleanup then calls gc.collect() five
    times (_pytest/unraisableexception.py, cleanup); on two busy cores, with a large heap of
    finished apps, that took longer, and the SIGINT landed in Hypothesis's gc callback: the
    run printed ``PytestUnraisableExceptionWarning: KeyboardInterrupt``. Collected here,
    before the report, and frozen, those five collections have nothing left to walk.
    """
    if hasattr(session.config, "workerinput"):
        gc.collect()
        gc.freeze()
