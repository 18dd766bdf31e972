"""Run a generated program as ``__main__`` (as ``python PROGRAM`` would) and write what it
did to a JSON file at exit: the values main() received, its exception, the module's
shared variables, and the wall time. Usage: python program_probe.py PROGRAM FACTS NAMES...

The program is not changed: main()'s ``results`` list is read by a profile hook on the main
thread, and the globals after ``threading._shutdown`` joined the non-daemon threads.
"""

import atexit
import json
import sys
import time

import __main__

_probe_path, _probe_out, *_probe_shared = sys.argv[1:]
_probe = {"results": [], "error": None, "message": None, "shared": {}, "wall": None}
_probe_start = time.perf_counter()


def _probe_value(value):
    """A value as the outcome JSON holds it: plain data as is, anything else as its repr."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _probe_profile(frame, event, arg):
    code = frame.f_code
    if event == "return" and code.co_name == "main" and code.co_filename == _probe_path:
        _probe["results"] = [_probe_value(v) for v in frame.f_locals.get("results") or []]


def _probe_write():
    _probe["wall"] = time.perf_counter() - _probe_start
    _probe["shared"] = {name: vars(__main__).get(name) for name in _probe_shared}
    with open(_probe_out, "w") as file:
        json.dump(_probe, file)


atexit.register(_probe_write)
sys.argv = [_probe_path]
with open(_probe_path) as _probe_file:
    _probe_code = compile(_probe_file.read(), _probe_path, "exec")
vars(__main__)["__file__"] = _probe_path
sys.setprofile(_probe_profile)
try:
    exec(_probe_code, vars(__main__))
except BaseException as _probe_error:
    _probe["error"] = type(_probe_error).__name__
    _probe["message"] = str(_probe_error)
    raise
finally:
    sys.setprofile(None)
