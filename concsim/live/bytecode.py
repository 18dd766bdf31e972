"""The probe's own modules, compiled by the parent and written beside the program as bytecode.

The probe starts in a new interpreter for every run (and in every spawned worker). Python
compiles a module's source when it finds no valid ``.pyc`` for it in ``__pycache__``, and
with ``PYTHONDONTWRITEBYTECODE`` set (or a read-only install) it compiles them again at each
start: about 20 ms for the probe's modules, paid by every run. So the parent compiles them
once and writes them into the run's directory as a package of sourceless ``.pyc`` files
(``concsim/live/probe.pyc``...), which CPython's import system loads directly
(``SourcelessFileLoader``): the run's directory is the probe's working directory, the first
entry of its ``sys.path``. The code objects keep their real file names, so tracebacks and
``linecache`` still show the real source.

Only for the interpreter that compiled them (bytecode is specific to a CPython version):
a run on another interpreter imports the probe from its sources (``PYTHONPATH``).
"""

from __future__ import annotations

import importlib.util
import marshal
import os

PROBE_MODULES = (
    "__init__",
    "live/__init__",
    "live/control",
    "live/expiry",
    "live/hooks",
    "live/instruments",
    "live/orders",
    "live/phases",
    "live/pool_threads",
    "live/probe",
    "live/queues",
    "live/recorders",
    "live/scope",
    "live/sharedlog",
    "live/spawned",
    "live/waits",
)
"""The modules the probe imports in the program's processes, under the ``concsim`` folder:
the standard library and these, nothing else (a test checks it)."""

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_cache: dict[str, tuple[int, bytes]] = {}  # source path -> (its mtime, its .pyc bytes)


def write_probe(directory: str) -> None:
    """Write the probe's modules into ``directory/concsim`` as sourceless bytecode."""
    for module in PROBE_MODULES:
        data = _pyc(os.path.join(_ROOT, module + ".py"))
        path = os.path.join(directory, "concsim", module + ".pyc")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as file:
            file.write(data)


def _pyc(source_path: str) -> bytes:
    """A ``.pyc`` of ``source_path``: magic number, flags, mtime and size (not checked for
    a sourceless file), then the marshalled code object (``importlib``'s layout)."""
    mtime = os.stat(source_path).st_mtime_ns
    cached = _cache.get(source_path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    with open(source_path, "rb") as file:
        source = file.read()
    code = compile(source, source_path, "exec", dont_inherit=True)
    header = importlib.util.MAGIC_NUMBER + bytes(4)
    header += (mtime // 1_000_000_000 & 0xFFFFFFFF).to_bytes(4, "little")
    header += (len(source) & 0xFFFFFFFF).to_bytes(4, "little")
    data = header + marshal.dumps(code)
    _cache[source_path] = (mtime, data)
    return data
