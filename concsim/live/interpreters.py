"""The CPython a scenario's ``machine.python`` names, found on this machine.

``concsim check`` runs the program on it; with none installed, that version is not run
(and says why). The running interpreter serves when it is that version; otherwise
``pythonX.Y`` on the PATH or a pyenv version, each asked what it is (a pyenv shim of a
version not selected fails, so being on the PATH proves nothing).
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys

from concsim.scenario.model import Python

_ASK = (
    "import sys; print(*sys.version_info[:2], "
    "int(not getattr(sys, '_is_gil_enabled', lambda: True)()))"
)


def this_interpreter() -> str:
    """The version of the running interpreter, as ``machine.python`` writes it."""
    free = sys.version_info >= (3, 13) and not sys._is_gil_enabled()
    major, minor = sys.version_info[:2]
    return f"{major}.{minor}" + ("t" if free else "")


@functools.cache
def interpreter_for(python: Python) -> str | None:
    """The path of an interpreter that is ``python``, or None if this machine has none."""
    if this_interpreter() == python.value:
        return sys.executable
    version = python.value.rstrip("t")
    names = [f"python{python.value}"]
    candidates = [path for name in names if (path := shutil.which(name))]
    root = os.path.expanduser(os.environ.get("PYENV_ROOT", "~/.pyenv"))
    suffix = "t" if python.free_threaded else ""
    candidates += sorted(glob.glob(f"{root}/versions/{version}.*{suffix}/bin/python{version}*"))
    for path in candidates:
        if _is(path, python):
            return path
    return None


class NoInterpreter(Exception):
    """The program must run on a CPython this machine does not have."""


def require(python: Python, label: str) -> str:
    """The interpreter for ``python``; raises NoInterpreter, in one line, if there is none."""
    found = interpreter_for(python)
    if found is None:
        raise NoInterpreter(
            f"{label} runs on CPython {python.value}, which this machine does not have"
            f" (looked for python{python.value} on the PATH and in pyenv)"
        )
    return found


def _is(path: str, python: Python) -> bool:
    try:
        ran = subprocess.run(
            [path, "-c", _ASK], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    major, minor, free = [*ran.stdout.split(), "", "", ""][:3]
    return ran.returncode == 0 and f"{major}.{minor}" + ("t" if free == "1" else "") == python.value
