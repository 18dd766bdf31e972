"""Settings for the whole test run."""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import tempfile

import pytest

# Bundled scenarios validated once are kept in a cache (concsim.scenario.prepared): the run
# keeps its own, so it neither reads what another run left nor writes to the user's folder.
# Set before any test (and inherited by the processes tests start); xdist workers share it,
# and the process that made it removes it at exit.
if "CONCSIM_CACHE_DIR" not in os.environ:
    os.environ["CONCSIM_CACHE_DIR"] = tempfile.mkdtemp(prefix="concsim-test-cache-")
    atexit.register(shutil.rmtree, os.environ["CONCSIM_CACHE_DIR"], ignore_errors=True)


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
